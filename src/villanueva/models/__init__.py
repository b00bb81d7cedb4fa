"""The model registry: a name -> its spec (config, network, recipes, search space; models/spec.py).

Adding a model is its network (models/<file>.py, a subclass of one of the kinds in models/base.py),
its spec (models/specs/<file>.py) and one line in SPEC_FILES; the trainer, the recipes, tune, the
run directory and the CLI (which turns every config field into a command-line option) need no
change. This module and the specs import no torch: a network is imported when a model is built.
"""

from dataclasses import fields
from importlib import import_module

from villanueva.errors import UserError, parameter, unknown
from villanueva.models.spec import ModelSpec

SPEC_FILES = (  # models/specs/<file>.py, in the order the command line lists them
    "bigram",
    "mlp",
    "mlp_bn",
    "deep_mlp",
    "wavenet",
    "gru",
    "transformer",
)
MODELS: dict[str, ModelSpec] = {
    spec.name: spec for spec in (import_module(f"villanueva.models.specs.{file}").SPEC for file in SPEC_FILES)
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
