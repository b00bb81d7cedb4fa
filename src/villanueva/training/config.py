"""Training settings: one plain dataclass, saved in every run's config.json.

The defaults are the fast recipe: AdamW, batch 256, 6,000 steps, cosine decay to a tenth. A field
whose metadata has a "help" is also a command-line option of `train` (the CLI generates it, as it
does for the model configs); the others are set by recipes and presets only. How a run is carried
out (the device, the threads) is not a setting: it does not change what is learned, so a run can be
resumed on another device.
"""

import math
from dataclasses import dataclass, field, replace

from villanueva.errors import UserError, option, unknown

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("constant", "step", "cosine")
MAX_LR = 1e36  # larger steps overflow float32 inside the optimizer (Adam divides lr by 1 - 0.9)
MAX_STEPS = 100_000_000  # more than a day at the fastest rate measured here
MAX_VALIDATION_INTERVAL = 1_000_000  # the loss of every step since the last validation is kept


def _option(default, help: str, metavar: str | None = None):
    return field(default=default, metadata={"help": help, "metavar": metavar})


@dataclass
class TrainConfig:
    optimizer: str = "adamw"
    lr: float = _option(1e-2, "peak learning rate", "LR")
    batch_size: int = _option(
        256, "examples per step: characters for window models, whole names for gru and transformer", "N"
    )
    steps: int = _option(6_000, "optimisation steps", "N")
    epochs: float = _option(
        0.0,
        "train for N passes over the training examples instead of a fixed --steps, so that a list of "
        "any size gets as many passes (0 = --steps)",
        "N",
    )
    schedule: str = "cosine"
    decay_at: float = 0.5  # "step" schedule: fraction of the steps after which lr drops
    final_lr_factor: float = 0.1  # lr at the end (cosine) or after the drop (step), relative to lr
    warmup: int = _option(0, "steps of linear learning-rate warm-up from 0", "N")
    weight_decay: float = _option(
        0.0,
        "decoupled weight decay of weight matrices and embeddings, not of biases or normalisation gains",
        "W",
    )
    grad_clip: float = _option(0.0, "rescale any gradient whose norm exceeds NORM (0 = off)", "NORM")
    eval_every: int = _option(
        0, "steps between validations, each followed by a checkpoint (0 = 20 per run)", "N"
    )
    patience: int = _option(
        0, "early stopping: stop after N validations without a better validation loss (0 = never)", "N"
    )
    calibrate_batchnorm: bool = False  # recompute BatchNorm statistics on the training set at the end
    diagnose: bool = _option(
        False,
        "record update:data ratios while training and diagnose the run "
        "at the end, as `villanueva diagnose` does",
    )
    seed: int = _option(42, "seed of initialisation, batches and samples", "N")

    def __post_init__(self):
        for name in ("lr", "batch_size", "steps"):
            if getattr(self, name) <= 0:
                raise UserError(f"{option(name)} must be positive, got {getattr(self, name)}")
        if self.steps > MAX_STEPS:
            raise UserError(f"--steps must be at most {MAX_STEPS:,}, got {self.steps:,}")
        if self.eval_every > MAX_VALIDATION_INTERVAL:
            raise UserError(
                f"--eval-every must be at most {MAX_VALIDATION_INTERVAL:,}, got {self.eval_every:,}"
            )
        if not self.lr <= MAX_LR:  # also rejects nan and inf
            raise UserError(f"--lr must be at most {MAX_LR:g}, got {self.lr:g}")
        if not 0 <= self.seed < 2**63:
            raise UserError(f"--seed must be between 0 and 2**63 - 1, got {self.seed}")
        if self.optimizer not in OPTIMIZERS:
            raise unknown("optimizer", self.optimizer, OPTIMIZERS)
        if self.schedule not in SCHEDULES:
            raise unknown("schedule", self.schedule, SCHEDULES)
        if not 0 <= self.decay_at <= 1 or not 0 <= self.final_lr_factor <= 1:
            raise UserError("decay_at and final_lr_factor must lie between 0 and 1")
        for name in ("eval_every", "patience", "warmup"):
            if getattr(self, name) < 0:
                raise UserError(f"{option(name)} must not be negative, got {getattr(self, name)}")
        for name in ("grad_clip", "weight_decay", "epochs"):
            if not 0 <= getattr(self, name) < math.inf:  # also rejects nan
                raise UserError(f"{option(name)} must be 0 or more and finite, got {getattr(self, name)}")

    def sized_for(self, examples: int) -> "TrainConfig":
        """These settings for a training set of `examples` rows: with `epochs`, the steps that many
        passes take (the steps are then the run's own, recorded in config.json and kept on resume)."""
        if not self.epochs:
            return self
        steps = max(1, math.ceil(self.epochs * examples / self.batch_size))
        if steps > MAX_STEPS:
            raise UserError(f"--epochs {self.epochs:g} would be {steps:,} steps, more than {MAX_STEPS:,}")
        return replace(self, steps=steps)

    @property
    def validation_interval(self) -> int:
        return self.eval_every or max(1, min(self.steps // 20, MAX_VALIDATION_INTERVAL))

    def lr_factor(self, step: int) -> float:
        """Multiplier of `lr` for optimisation step `step` (0-based)."""
        if step < self.warmup:
            return (step + 1) / self.warmup
        if self.schedule == "step":
            return self.final_lr_factor if step >= self.decay_at * self.steps else 1.0
        if self.schedule == "cosine":
            progress = (step - self.warmup) / max(1, self.steps - self.warmup)
            cosine = 0.5 * (1 + math.cos(math.pi * progress))
            return self.final_lr_factor + (1 - self.final_lr_factor) * cosine
        return 1.0
