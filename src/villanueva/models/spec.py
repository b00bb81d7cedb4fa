"""What a model is to everything but its network: a `ModelSpec` in its own file under specs/.

A spec gathers all the rest of villanueva asks about a model: its config dataclass (the options of
`train`, what config.json records), a one-line summary, where its network is, its recipes and
tune's search space. Every field is required, so a model that forgets one fails when the registry
imports it, not at run time (a whole-name model that fell back to the window models' batch of 256
would have trained silently on 256 *names*). Specs import no torch: the base install reads a run's
config without it, and the network module is imported only when a model is built.
"""

from dataclasses import dataclass, fields
from importlib import import_module

from villanueva.schema import setting

INITS = ("kaiming", "naive")  # how models/layers.Linear draws its first weights
MAX_WIDTH = 1 << 20  # an embedding or hidden layer: far past what fits, which the memory plan then says
MAX_STACK = 1_000  # blocks or layers stacked (the deepest of the study notebooks had 5)

# The study notebooks trained every network with plain SGD at lr 0.1 (dropping part-way, for most),
# validating every 10,000 steps; each spec's `notebook` recipe adds its batch size and schedule.
NOTEBOOK_SGD = {"optimizer": "sgd", "lr": 0.1, "eval_every": 10_000}

# Tune's search spaces: name -> (kind, low, high) for numbers (log-uniform when the range spans a
# factor of 4 or more), or a list to choose from. Training settings beside model options; lengths
# in epochs, so that a space fits a list of any size. These are the parts each kind shares.
WINDOW_TRAINING_SPACE = {  # drawn after lr and batch_size (counted in characters)
    "weight_decay": [0.0, 1e-3, 1e-2, 1e-1],
    "epochs": ("float", 5.0, 40.0),
}
WHOLE_NAME_TRAINING_SPACE = {  # batches of names, about 13 characters each on the municipalities
    "batch_size": [16, 32, 64],
    "weight_decay": [0.0, 1e-3, 1e-2, 1e-1],
    "epochs": ("float", 15.0, 45.0),
}


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    name: str  # as the command line and config.json write it
    summary: str  # one line, for `train --help`
    config: type  # a dataclass of settings (schema.setting fields, every one with help)
    network: str  # "file:Class", the torch module in villanueva/models/file.py
    fast: dict  # the fast recipe's changes to TrainConfig's defaults ({}: none)
    notebook: dict | None  # the study notebooks' recipe, for `reproduce` (None: they had none)
    space: dict | None  # tune's search space (None: not searched, and why, beside it)

    def __post_init__(self):
        for field in fields(self.config):
            if not option_help(self.config, field.name):
                raise TypeError(f"{self.name}: option {field.name!r} of {self.config.__name__} has no help")

    @property
    def module(self) -> type:
        file, name = self.network.split(":")
        return getattr(import_module(f"villanueva.models.{file}"), name)


def option_help(config: type, name: str) -> str | None:
    """The help of option `name` of `config`: its own, or that of the config it derives from (a
    config that only changes a default, as mlp-bn's does, declares no help of its own)."""
    for cls in config.__mro__:
        declared = getattr(cls, "__dataclass_fields__", {}).get(name)
        if declared is not None and declared.metadata.get("help"):
            return declared.metadata["help"]
    return None


def width(default: int, help: str | None = None):
    return setting(default, help, ge=1, le=MAX_WIDTH)


def stack(default: int, help: str | None = None):
    return setting(default, help, ge=1, le=MAX_STACK)


def dropout_rate(default: float):
    return setting(
        default,
        "probability of zeroing each activation while training; a regulariser against overfitting "
        "a short list (0 = off)",
        ge=0,
        lt=1,
    )


@dataclass
class WholeNameConfig:
    """What every whole-name model's config has: how it learns a label, when a run is conditioned."""

    label_dropout: float = setting(
        0.0,
        "conditioned runs: probability of training a name without its label (as a 'no label' id), "
        "so that the model also learns names whatever their label: what `style_strength` needs",
        ge=0,
        lt=1,
    )
    style_table: bool = setting(
        False,
        "conditioned runs: also learn, for each label, a score for every next character after each "
        "character, added to the network's output (how a region spells: tx, ny, -eta)",
    )
