"""The model registry: a name -> its config dataclass and its module class.

Adding a model is one file under models/ (a subclass of one of the kinds in models/base.py), its
config in models/configs.py and one line in MODELS; the trainer, the run directory and the CLI
(which turns every config field into a command-line option) need no change.

This module and the configs import no torch: a model's module is imported when one is built.
"""

from dataclasses import dataclass, fields
from importlib import import_module

from villanueva.errors import UserError, parameter, unknown
from villanueva.models.configs import (
    BigramConfig,
    DeepMLPConfig,
    GRUConfig,
    MLPBNConfig,
    MLPConfig,
    TransformerConfig,
    WaveNetConfig,
)


@dataclass(frozen=True)
class ModelSpec:
    config: type
    where: str  # "file:Class": the module class in villanueva/models/file.py, imported when needed
    summary: str

    @property
    def module(self) -> type:
        file, name = self.where.split(":")
        return getattr(import_module(f"villanueva.models.{file}"), name)


MODELS: dict[str, ModelSpec] = {
    "bigram": ModelSpec(BigramConfig, "bigram:Bigram", "count table: one character predicts the next"),
    "mlp": ModelSpec(MLPConfig, "mlp:MLP", "MLPv0 (Bengio 2003): embeddings, one tanh hidden layer"),
    "mlp-bn": ModelSpec(MLPBNConfig, "deep_mlp:DeepMLP", "MLPv1: mlp + Kaiming init + BatchNorm before tanh"),
    "deep-mlp": ModelSpec(
        DeepMLPConfig, "deep_mlp:DeepMLP", "MLPv3: N x (Linear, BatchNorm, Tanh) + Linear + BN"
    ),
    "wavenet": ModelSpec(WaveNetConfig, "wavenet:WaveNet", "WaveNet-style MLP: merges neighbours in pairs"),
    "gru": ModelSpec(GRUConfig, "gru:GRU", "GRU over the whole name, predicting every position"),
    "transformer": ModelSpec(
        TransformerConfig, "transformer:Transformer", "small causal Transformer over the whole name"
    ),
}


def model_spec(name: str) -> ModelSpec:
    if name not in MODELS:
        raise unknown("model", name, MODELS)
    return MODELS[name]


def make_config(name: str, **overrides):
    """The config of model `name` with its defaults, changed by `overrides` (None = default)."""
    spec = model_spec(name)
    known = {f.name for f in fields(spec.config)}
    given = {key: value for key, value in overrides.items() if value is not None}
    strange = sorted(set(given) - known)
    if strange:
        raise UserError(f"model {name!r} has no option {', '.join(map(parameter, strange))}")
    return spec.config(**given)


def build_model(name: str, config, vocab_size: int, label_count: int = 0):
    """Model `name` (a NameModel: torch), conditioned on `label_count` labels when that is not 0."""
    module = model_spec(name).module
    if not label_count:
        return module(config, vocab_size)
    if not module.can_condition:
        can = [key for key, spec in MODELS.items() if spec.module.can_condition]
        raise UserError(f"model {name!r} cannot be conditioned on a label; these can: {', '.join(can)}")
    return module(config, vocab_size, label_count)


__all__ = ["MODELS", "ModelSpec", "build_model", "make_config", "model_spec"]
