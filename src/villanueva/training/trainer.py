"""The training loop: minibatch optimisation with periodic validation, best-model keeping,
checkpoints, resume, a NaN guard and a clean stop on Ctrl-C.

Speed comes from keeping the per-step work inside torch: the examples are index tensors on the
training device, each epoch is one `randperm`, and each step's loss is written into a tensor
that is read back (one synchronisation) only every CHECK_EVERY steps and at validation.

The loop reports to its caller through callbacks, so it never touches files or the terminal:
`on_validation(record)` after each validation, `on_best(state)` when the validation loss improves,
`on_checkpoint(checkpoint)` after each validation and on Ctrl-C, `on_progress(step, steps, record)`
every CHECK_EVERY steps (record None) and after each validation.

For the diagnostics, each validation record also carries the training loss per chunk of steps and,
with `config.diagnose`, the update:data ratios measured since the last one (training/recording.py).
"""

import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from villanueva.errors import UserError
from villanueva.models.base import Examples, NameModel
from villanueva.signals import StopAtStep
from villanueva.training.batchnorm import batchnorm_layers
from villanueva.training.checkpoint import Checkpoint
from villanueva.training.config import TrainConfig
from villanueva.training.distributed import Ranks
from villanueva.training.loss import initial_loss, split_loss
from villanueva.training.optimizer import build_optimizer, build_schedule
from villanueva.training.recording import UpdateRatios, chunk_means, loss_chunk, update_ratio_interval
from villanueva.training.state import TrainingState, epoch_order
from villanueva.training.step import backward

CHECK_EVERY = 100  # steps between reads of the losses: each is checked, then progress reported
DIVERGED_OVER_INITIAL = 10  # a loss this many times the untrained model's means training diverged

OnProgress = Callable[[int, int, dict | None], None]  # (step, steps, validation record or None)


class TrainingInterrupted(Exception):
    """Ctrl-C, SIGTERM or SIGHUP: the current step finished and a checkpoint was saved."""

    def __init__(self, step: int, signum: int = signal.SIGINT):
        super().__init__(f"interrupted at step {step}")
        self.step, self.signum = step, signum


@dataclass
class Callbacks:
    on_validation: Callable[[dict], None] = lambda record: None
    on_best: Callable[[dict[str, torch.Tensor]], None] = lambda state: None
    on_checkpoint: Callable[[Checkpoint], None] = lambda checkpoint: None
    on_progress: OnProgress = lambda step, steps, record: None


@dataclass
class TrainResult:
    """What the loop hands back: the best weights and how training went (the run directory turns
    this into its final record, runs.RunResult)."""

    best_state: dict[str, torch.Tensor]
    best_step: int
    best_val_loss: float
    steps_done: int
    seconds: float
    history: list[dict] = field(default_factory=list)
    initial_loss: float | None = None  # of the untrained model; None for a counted one
    stopped_early: bool = False  # `patience` validations passed without a better validation loss


def train(
    model: NameModel,
    train_set: Examples,
    val_set: Examples,
    config: TrainConfig,
    callbacks: Callbacks = Callbacks(),
    resume: Checkpoint | None = None,
    ranks: Ranks = Ranks(),
) -> TrainResult:
    """Fit `model` on `train_set`, validating on `val_set`; returns the best weights by val loss.

    With `resume`, continue from that checkpoint exactly as if training had never stopped. With
    `ranks` of several processes (torchrun), this is one of them (training/distributed.py).
    """
    start = time.perf_counter()
    model.fit(*train_set)  # closed-form fitting; a no-op for models trained by gradient descent
    if not model.learns_by_gradient():
        return _fitted(model, train_set, val_set, callbacks, time.perf_counter() - start)
    check_trainable(model, config, len(train_set[1]))
    ranks.check_batch(min(config.batch_size, len(train_set[1])))
    loop = _Loop(model, train_set, val_set, config, callbacks, ranks)
    if resume is not None:
        loop.state.restore(resume, len(train_set[1]))
    return loop.run()


def check_trainable(model: nn.Module, config: TrainConfig, examples: int) -> None:
    """Raise UserError for settings this model cannot train with, before anything is written."""
    if min(config.batch_size, examples) < 2 and batchnorm_layers(model):
        raise UserError("BatchNorm needs at least 2 examples per batch; raise `batch_size`")


def _fitted(model, train_set, val_set, callbacks: Callbacks, seconds: float) -> TrainResult:
    """The result of a model fitted in one pass: one validation, at step 0."""
    record = {
        "step": 0,
        "train_loss": split_loss(model, *train_set),
        "val_loss": split_loss(model, *val_set),
        "lr": 0.0,
        "seconds": seconds,
    }
    callbacks.on_validation(record)
    return TrainResult(_cloned_state(model), 0, record["val_loss"], 0, seconds, [record])


def _cloned_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().to("cpu", copy=True) for name, tensor in model.state_dict().items()}


class _Loop:
    def __init__(self, model, train_set, val_set, config: TrainConfig, callbacks: Callbacks, ranks: Ranks):
        self.config, self.callbacks, self.ranks = config, callbacks, ranks
        self.trained_through = ranks.wrap(model)  # what the gradient steps call: DDP across ranks
        self.inputs, self.targets = train_set
        self.val_set = val_set
        self.batch_size = min(config.batch_size, len(self.targets))
        self.interval = config.validation_interval
        device = self.targets.device
        optimizer = build_optimizer(model, config)
        self.state = TrainingState(
            model,
            optimizer,
            build_schedule(optimizer, config),
            torch.Generator().manual_seed(config.seed),
            losses=torch.zeros(self.interval, device=device),
            update_ratios=UpdateRatios(
                model, update_ratio_interval(config.steps) if config.diagnose else 0, self.interval, device
            ),
            cursor=len(self.targets),  # at the end of an epoch: the first batch draws an order
            best_state=_cloned_state(model),
        )

    def run(self) -> TrainResult:
        state, steps = self.state, self.config.steps
        if state.initial_loss is None:  # a new run, not a resumed one
            self._record_initial_loss()
        start = time.perf_counter() - state.seconds
        state.model.train()
        with StopAtStep() as stop:
            # Whether to stop early follows from the history, so a resumed run stops where it would have.
            while state.step < steps and not self._out_of_patience():
                self._step()
                if state.step % CHECK_EVERY == 0:
                    self._check_finite()
                    self.callbacks.on_progress(state.step, steps, None)
                if state.step % self.interval == 0 or state.step == steps:
                    self._validate(time.perf_counter() - start)
                if self.ranks.any(stop.signum is not None):
                    state.seconds = time.perf_counter() - start
                    self.callbacks.on_checkpoint(self._checkpoint())
                    raise TrainingInterrupted(state.step, stop.signum or signal.SIGTERM)
        return TrainResult(
            state.best_state,
            state.best_step,
            state.best_val,
            state.step,
            time.perf_counter() - start,
            state.history,
            state.initial_loss,
            state.step < steps,
        )

    def _record_initial_loss(self) -> None:
        self.state.initial_loss = initial_loss(self.state.model, self.inputs, self.targets)
        self.callbacks.on_validation({"step": 0, "initial_loss": self.state.initial_loss})
        self.callbacks.on_checkpoint(self._checkpoint())

    def _step(self) -> None:
        """One step. Its loss is weighted by this rank's share of the batch (the whole of it in one
        process): the mean over the ranks is the batch's loss."""
        state = self.state
        batch = self._next_batch()
        shard = self.ranks.shard(batch)
        weight = self.ranks.share(self.targets, batch, shard)
        inputs, targets = state.model.trimmed(self.inputs[shard], self.targets[shard])
        loss = backward(self.trained_through, inputs, targets, self.config.grad_clip, weight)
        with state.update_ratios.measuring(state.step + 1, state.last_validated):
            state.optimizer.step()
        state.schedule.step()
        state.losses[state.step - state.last_validated] = loss
        state.step += 1

    def _next_batch(self) -> torch.Tensor:
        """Indices of the next minibatch; every example once per epoch, reshuffled each epoch."""
        state = self.state
        if state.cursor + self.batch_size > len(self.targets):
            state.order_drawn_from = state.generator.get_state()
            state.order = epoch_order(len(self.targets), state.generator).to(self.targets.device)
            state.cursor = 0
        batch = state.order[state.cursor : state.cursor + self.batch_size]
        state.cursor += self.batch_size
        return batch

    def _out_of_patience(self) -> bool:
        """Early stopping: the last `patience` validations all failed to beat the best one."""
        patience, recent = self.config.patience, self.state.history[-self.config.patience :]
        return 0 < patience == len(recent) and all(r["step"] > self.state.best_step for r in recent)

    def _pending_losses(self) -> torch.Tensor:
        """The training losses of the steps since the last validation (of whole batches: the same
        on every rank)."""
        return self.ranks.mean(self.state.losses[: self.state.step - self.state.last_validated])

    def _check_finite(self) -> None:
        """Stop at the first step whose loss is NaN, infinite or far above the untrained model's
        (DIVERGED_OVER_INITIAL times it: no learning rate that works goes there), naming it."""
        state, pending = self.state, self._pending_losses()
        bad = ~torch.isfinite(pending) | (pending > DIVERGED_OVER_INITIAL * state.initial_loss)
        if not bad.any():
            return
        first_bad, since = int(bad.nonzero()[0]), state.last_validated
        raise UserError(
            f"the loss became {pending[first_bad].item():.4g} at step {since + first_bad + 1} (the "
            f"untrained model's: {state.initial_loss:.4g}): training diverged. The run keeps its "
            f"checkpoint of step {since}; try a lower `lr` than {self.config.lr:g}"
        )

    def _validate(self, seconds: float) -> None:
        self._check_finite()
        state = self.state
        since, pending = state.last_validated, self._pending_losses()
        record = {
            "step": state.step,
            "train_loss": pending.mean().item(),
            "val_loss": split_loss(state.model, *self.val_set),
            "lr": state.schedule.get_last_lr()[0],
            "seconds": round(seconds, 3),
            "loss_chunks": chunk_means(pending, since, loss_chunk(self.config.steps)),
        }
        if state.update_ratios.every:
            record["update_ratios"] = state.update_ratios.record(since, state.step)
        state.history.append(record)
        self.callbacks.on_validation(record)
        self.callbacks.on_progress(state.step, self.config.steps, record)
        if record["val_loss"] < state.best_val:
            state.best_val, state.best_step = record["val_loss"], state.step
            state.best_state = _cloned_state(state.model)
            self.callbacks.on_best(state.best_state)
        state.seconds = seconds
        self.callbacks.on_checkpoint(self._checkpoint())

    def _checkpoint(self) -> Checkpoint:
        return self.state.save(self._pending_losses())
