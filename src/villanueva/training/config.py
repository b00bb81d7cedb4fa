"""Training settings: one plain dataclass, saved in every run's config.json.

The defaults are the fast recipe: AdamW, batch 256, 6,000 steps, cosine decay to a tenth. Every
field is declared with its type and range (schema.setting), checked wherever settings enter (the
command line, a preset file, a run's config.json, the Python library). A field with help is also an
option of `train` (the CLI generates it, as it does for the model configs); the others are set by
recipes and presets only. How a run is carried out (the device, the threads) is not a setting: it
does not change what is learned, so a run can be resumed on another device.
"""

import math
from dataclasses import dataclass, replace

from villanueva.errors import UserError, parameter
from villanueva.schema import check, setting

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("constant", "step", "cosine")
MAX_LR = 1e36  # larger steps overflow float32 inside the optimizer (Adam divides lr by 1 - 0.9)
MAX_STEPS = 100_000_000  # more than a day at the fastest rate measured here
MAX_VALIDATION_INTERVAL = 1_000_000  # the loss of every step since the last validation is kept


@dataclass(kw_only=True)
class TrainConfig:
    optimizer: str = setting("adamw", choices=OPTIMIZERS)
    lr: float = setting(1e-2, "peak learning rate", metavar="LR", gt=0, le=MAX_LR)
    batch_size: int = setting(
        256,
        "examples per step: characters for window models, whole names for gru and transformer",
        metavar="N",
        ge=1,
    )
    steps: int = setting(6_000, "optimisation steps", metavar="N", ge=1, le=MAX_STEPS)
    epochs: float = setting(
        0.0,
        "train for N passes over the training examples instead of a fixed `steps`, so that a list of "
        "any size gets as many passes (0 = `steps`)",
        metavar="N",
        ge=0,
    )
    schedule: str = setting("cosine", choices=SCHEDULES)
    decay_at: float = setting(0.5, ge=0, le=1)  # "step" schedule: fraction of the steps after which lr drops
    final_lr_factor: float = setting(0.1, ge=0, le=1)  # lr at the end (cosine) or after the drop (step)
    warmup: int = setting(0, "steps of linear learning-rate warm-up from 0", metavar="N", ge=0)
    weight_decay: float = setting(
        0.0,
        "decoupled weight decay of weight matrices and embeddings, not of biases or normalisation gains",
        metavar="W",
        ge=0,
    )
    grad_clip: float = setting(
        0.0, "rescale any gradient whose norm exceeds NORM (0 = off)", metavar="NORM", ge=0
    )
    eval_every: int = setting(
        0,
        "steps between validations, each followed by a checkpoint (0 = 20 per run)",
        metavar="N",
        ge=0,
        le=MAX_VALIDATION_INTERVAL,
    )
    patience: int = setting(
        0,
        "early stopping: stop after N validations without a better validation loss (0 = never)",
        metavar="N",
        ge=0,
    )
    calibrate_batchnorm: bool = setting(
        False
    )  # recompute BatchNorm statistics on the training set at the end
    diagnose: bool = setting(
        False,
        "record update:data ratios while training and diagnose the run at the end, as "
        "villanueva diagnose does",
    )
    seed: int = setting(42, "seed of initialisation, batches and samples", metavar="N", ge=0, lt=2**63)

    def __post_init__(self):
        check(self)
        if self.warmup >= self.steps:  # checked again once `epochs` has made the steps (sized_for)
            raise UserError(
                f"{parameter('warmup')} {self.warmup:,} is not less than the {self.steps:,} steps: the "
                "learning rate would never leave its warm-up"
            )

    def sized_for(self, examples: int) -> "TrainConfig":
        """These settings for a training set of `examples` rows: with `epochs`, the steps that many
        passes take (the steps are then the run's own, recorded in config.json and kept on resume)."""
        if not self.epochs:
            return self
        steps = max(1, math.ceil(self.epochs * examples / self.batch_size))
        if steps > MAX_STEPS:
            raise UserError(
                f"{parameter('epochs')} {self.epochs:g} would be {steps:,} steps, more than {MAX_STEPS:,}"
            )
        return replace(self, steps=steps)

    @property
    def validation_interval(self) -> int:
        return self.eval_every or max(1, min(self.steps // 20, MAX_VALIDATION_INTERVAL))
