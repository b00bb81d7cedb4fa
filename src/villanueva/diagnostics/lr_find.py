"""The learning-rate finder: one short run whose learning rate grows exponentially at every step,
from far too small to far too large. The loss first stays put (steps too small to matter), then
falls ever faster, then blows up. The suggestion is a tenth of the learning rate at the lowest
smoothed loss: safely inside the falling stretch (the rule fastai's finder popularised).
"""

import math
from dataclasses import dataclass
from pathlib import Path

import torch
from matplotlib.figure import Figure

from villanueva.diagnostics.plots import png_bytes
from villanueva.errors import UserError
from villanueva.models.base import Examples, NameModel
from villanueva.runs import files
from villanueva.runs.run import check_new_file
from villanueva.training import TrainConfig, check_trainable
from villanueva.training.config import MAX_STEPS
from villanueva.training.optimizer import build_optimizer
from villanueva.training.step import backward

SMOOTHING = 0.95  # of the exponential moving average of the loss
BLOWN_UP_OVER_LOWEST = 4.0  # the sweep stops once the smoothed loss is this many times its lowest


@dataclass(frozen=True)
class SweepRange:
    min_lr: float = 1e-5
    max_lr: float = 10.0
    steps: int = 300

    def __post_init__(self):
        if not 0 < self.min_lr < self.max_lr < math.inf:
            raise UserError(
                f"the sweep needs 0 < --min-lr < --max-lr, got {self.min_lr:g} and {self.max_lr:g}"
            )
        if not 2 <= self.steps <= MAX_STEPS:  # as many as train takes, and two points at least
            raise UserError(f"--steps must be from 2 to {MAX_STEPS:,} for a sweep, got {self.steps:,}")

    def lr(self, step: int) -> float:
        return self.min_lr * (self.max_lr / self.min_lr) ** (step / (self.steps - 1))


@dataclass
class LRSweep:
    lrs: list[float]  # one per step taken (the sweep stops early once the loss blows up)
    losses: list[float]  # the loss of each step's batch
    smoothed: list[float]  # their exponential moving average, debiased
    suggested: float

    @property
    def lowest_lr(self) -> float:
        """The learning rate at the lowest smoothed loss."""
        return self.lrs[self.smoothed.index(min(self.smoothed))]


def lr_sweep(
    model: NameModel, train_set: Examples, config: TrainConfig, sweep: SweepRange = SweepRange()
) -> LRSweep:
    """Train `model` (which is spent afterwards) on random batches of `train_set` with the optimizer
    batch size, weight decay and gradient clipping of `config`, the learning rate growing from
    sweep.min_lr to sweep.max_lr."""
    if not model.learns_by_gradient():
        raise UserError("a model fitted by counting has no learning rate to find")
    inputs, targets = train_set
    check_trainable(model, config, len(targets))
    optimizer = build_optimizer(model, config)
    generator = torch.Generator().manual_seed(config.seed)
    batch_size = min(config.batch_size, len(targets))
    result = LRSweep([], [], [], math.nan)
    average = 0.0
    model.train()
    for step in range(sweep.steps):
        lr = sweep.lr(step)
        for group in optimizer.param_groups:
            group["lr"] = lr
        batch = torch.randint(len(targets), (batch_size,), generator=generator).to(targets.device)
        loss = backward(model, *model.trimmed(inputs[batch], targets[batch]), config.grad_clip)
        optimizer.step()
        value = loss.item()  # one synchronisation per step: the sweep must see a blow-up at once
        if not math.isfinite(value):
            break
        average = SMOOTHING * average + (1 - SMOOTHING) * value
        result.lrs.append(lr)
        result.losses.append(value)
        result.smoothed.append(average / (1 - SMOOTHING ** (step + 1)))
        if result.smoothed[-1] > BLOWN_UP_OVER_LOWEST * min(result.smoothed):
            break
    if not result.lrs:
        raise UserError(f"the loss was not finite even at lr {sweep.min_lr:g}; lower --min-lr")
    result.suggested = result.lowest_lr / 10
    return result


def check_plot_path(path: Path, force: bool = False) -> None:
    """Refuse a plot path that cannot be written, before the sweep spends any time."""
    if Path(path).suffix.lower() != ".png":
        raise UserError(f"`out` must name a .png file, got {path}")
    check_new_file(path, "out", force)


def write_lr_plot(path: Path, sweep: LRSweep) -> None:
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        files.write_bytes(path, png_bytes(lr_plot(sweep)))
    except OSError as error:
        raise UserError(f"cannot write {path}: {error.strerror or error}") from None


def lr_plot(sweep: LRSweep) -> Figure:
    figure = Figure(figsize=(10, 5.5), layout="constrained")
    axes = figure.subplots()
    exponents = [math.log10(lr) for lr in sweep.lrs]
    axes.plot(exponents, sweep.losses, color="tab:blue", alpha=0.3, label="loss of each step")
    axes.plot(exponents, sweep.smoothed, color="tab:blue", label="smoothed")
    axes.plot(
        math.log10(sweep.lowest_lr),
        min(sweep.smoothed),
        "o",
        color="tab:red",
        label=f"lowest smoothed loss, lr {sweep.lowest_lr:.2g}",
    )
    axes.axvline(
        math.log10(sweep.suggested),
        color="tab:green",
        linestyle="--",
        label=f"suggested lr {sweep.suggested:.2g} (a tenth of that)",
    )
    before_lowest = sweep.smoothed[: sweep.smoothed.index(min(sweep.smoothed)) + 1]
    axes.set_ylim(0.9 * min(sweep.losses), 1.3 * max(before_lowest))  # the blow-up runs off the top
    axes.set_title(f"Learning-rate finder: {len(sweep.lrs)} steps, lr growing exponentially")
    axes.set_xlabel("log10(learning rate)")
    axes.set_ylabel("training loss")
    axes.legend()
    axes.grid(alpha=0.3)
    return figure
