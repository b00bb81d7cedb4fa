"""The model registry: a name -> its config dataclass and its module class.

Adding a model is one file under models/ (a subclass of one of the kinds in models/base.py) and one
line in MODELS; the trainer, the run directory and the CLI (which turns every config field into a
command-line option) need no change.
"""

from dataclasses import dataclass, fields

from villanueva.errors import UserError, parameter, unknown
from villanueva.models.base import NameModel
from villanueva.models.bigram import Bigram, BigramConfig
from villanueva.models.deep_mlp import DeepMLP, DeepMLPConfig, MLPBNConfig
from villanueva.models.gru import GRU, GRUConfig
from villanueva.models.mlp import MLP, MLPConfig
from villanueva.models.transformer import Transformer, TransformerConfig
from villanueva.models.wavenet import WaveNet, WaveNetConfig


@dataclass(frozen=True)
class ModelSpec:
    config: type
    module: type
    summary: str


MODELS: dict[str, ModelSpec] = {
    "bigram": ModelSpec(BigramConfig, Bigram, "count table: one character predicts the next"),
    "mlp": ModelSpec(MLPConfig, MLP, "MLPv0 (Bengio 2003): embeddings, one tanh hidden layer"),
    "mlp-bn": ModelSpec(MLPBNConfig, DeepMLP, "MLPv1: mlp + Kaiming init + BatchNorm before tanh"),
    "deep-mlp": ModelSpec(DeepMLPConfig, DeepMLP, "MLPv3: N x (Linear, BatchNorm, Tanh) + Linear + BN"),
    "wavenet": ModelSpec(WaveNetConfig, WaveNet, "WaveNet-style MLP: merges neighbours in pairs"),
    "gru": ModelSpec(GRUConfig, GRU, "GRU over the whole name, predicting every position"),
    "transformer": ModelSpec(TransformerConfig, Transformer, "small causal Transformer over the whole name"),
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


def build_model(name: str, config, vocab_size: int, label_count: int = 0) -> NameModel:
    """Model `name`, conditioned on `label_count` labels when that is not 0."""
    module = model_spec(name).module
    if not label_count:
        return module(config, vocab_size)
    if not module.can_condition:
        can = [key for key, spec in MODELS.items() if spec.module.can_condition]
        raise UserError(f"model {name!r} cannot be conditioned on a label; these can: {', '.join(can)}")
    return module(config, vocab_size, label_count)


__all__ = ["MODELS", "ModelSpec", "NameModel", "build_model", "make_config", "model_spec"]
