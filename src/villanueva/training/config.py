"""Training settings: one plain dataclass, saved in every run's config.json.

The defaults are the fast recipe: AdamW, batch 256, 6,000 steps, cosine decay to a tenth.
"""

import math
from dataclasses import dataclass

from villanueva.errors import UserError

OPTIMIZERS = ("sgd", "adamw")
SCHEDULES = ("constant", "step", "cosine")
MAX_LR = 1e36  # larger steps overflow float32 inside the optimizer (Adam divides lr by 1 - 0.9)


@dataclass
class TrainConfig:
    optimizer: str = "adamw"
    lr: float = 1e-2
    batch_size: int = 256
    steps: int = 6_000
    schedule: str = "cosine"
    decay_at: float = 0.5      # "step" schedule: fraction of the steps after which lr drops
    final_lr_factor: float = 0.1  # lr at the end (cosine) or after the drop (step), relative to lr
    warmup: int = 0            # steps of linear warm-up from 0
    weight_decay: float = 0.0
    grad_clip: float = 0.0     # rescale gradients whose total norm exceeds this; 0 = never
    eval_every: int = 0        # steps between validations; 0 = 20 validations per run
    patience: int = 0          # stop after this many validations without a better val loss; 0 = never
    calibrate_batchnorm: bool = False  # recompute BatchNorm statistics on the training set at the end
    diagnose: bool = False     # record update:data ratios while training, diagnose the run at the end
    seed: int = 42
    device: str = "cpu"

    def __post_init__(self):
        for name in ("lr", "batch_size", "steps"):
            if getattr(self, name) <= 0:
                raise UserError(f"--{name.replace('_', '-')} must be positive, got {getattr(self, name)}")
        if not self.lr <= MAX_LR:  # also rejects nan and inf
            raise UserError(f"--lr must be at most {MAX_LR:g}, got {self.lr:g}")
        if not 0 <= self.seed < 2**63:
            raise UserError(f"--seed must be between 0 and 2**63 - 1, got {self.seed}")
        if self.optimizer not in OPTIMIZERS:
            raise UserError(f"unknown optimizer {self.optimizer!r} (choose from: {', '.join(OPTIMIZERS)})")
        if self.schedule not in SCHEDULES:
            raise UserError(f"unknown schedule {self.schedule!r} (choose from: {', '.join(SCHEDULES)})")
        if not 0 <= self.decay_at <= 1 or not 0 <= self.final_lr_factor <= 1:
            raise UserError("decay_at and final_lr_factor must lie between 0 and 1")
        if self.eval_every < 0:
            raise UserError(f"--eval-every must be positive, got {self.eval_every}")
        if self.patience < 0:
            raise UserError(f"--patience must not be negative (0 = no early stopping), got {self.patience}")
        if self.warmup < 0:
            raise UserError(f"--warmup must not be negative, got {self.warmup}")
        if not 0 <= self.grad_clip < math.inf:
            raise UserError(f"--grad-clip must be 0 (off) or more and finite, got {self.grad_clip}")
        if not 0 <= self.weight_decay < math.inf:  # also rejects nan
            raise UserError(f"--weight-decay must be 0 or more and finite, got {self.weight_decay}")

    @property
    def validation_interval(self) -> int:
        return self.eval_every or max(1, self.steps // 20)

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
