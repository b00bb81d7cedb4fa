"""The training loop: minibatch optimisation with periodic validation, best-model keeping,
checkpoints, resume, a NaN guard and a clean stop on Ctrl-C.

Speed comes from keeping the per-step work inside torch: the examples are index tensors on the
training device, each epoch is one `randperm`, and each step's loss is written into a tensor
that is read back (one synchronisation) only every PROGRESS_EVERY steps and at validation.

The loop reports to its caller through callbacks, so it never touches files itself:
`on_validation(record)` after each validation, `on_best(state)` when the validation loss improves,
`on_checkpoint(checkpoint)` after each validation and on Ctrl-C.

For the diagnostics, each validation record also carries the training loss per chunk of steps and,
with `config.diagnose`, the update:data ratios measured since the last one (training/recording.py).
"""

import signal
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn
from tqdm import tqdm

from villanueva.errors import UserError
from villanueva.models.base import load_weights
from villanueva.training.batchnorm import batchnorm_layers
from villanueva.training.checkpoint import (Checkpoint, optimizer_from_flat, optimizer_to_flat, prefixed,
                                           unprefixed)
from villanueva.training.config import TrainConfig
from villanueva.training.examples import Examples, trimmed
from villanueva.training.loss import batch_loss, initial_loss, split_loss
from villanueva.training.recording import UpdateRatios, chunk_means, loss_chunk, update_ratio_interval

PROGRESS_EVERY = 100  # steps between progress updates and NaN checks


class TrainingInterrupted(Exception):
    """Ctrl-C: the current step finished and a checkpoint was saved."""

    def __init__(self, step: int):
        super().__init__(f"interrupted at step {step}")
        self.step = step


@dataclass
class Callbacks:
    on_validation: Callable[[dict], None] = lambda record: None
    on_best: Callable[[dict[str, torch.Tensor]], None] = lambda state: None
    on_checkpoint: Callable[[Checkpoint], None] = lambda checkpoint: None


@dataclass
class TrainResult:
    best_state: dict[str, torch.Tensor]
    best_step: int
    best_val_loss: float
    steps_done: int
    seconds: float
    history: list[dict] = field(default_factory=list)
    initial_loss: float | None = None  # of the untrained model; None for a counted one
    stopped_early: bool = False  # `patience` validations passed without a better validation loss


def train(model: nn.Module, train_set: Examples, val_set: Examples, config: TrainConfig,
          callbacks: Callbacks = Callbacks(), progress: bool = False,
          resume: Checkpoint | None = None) -> TrainResult:
    """Fit `model` on `train_set`, validating on `val_set`; returns the best weights by val loss.

    With `resume`, continue from that checkpoint exactly as if training had never stopped.
    """
    if getattr(model, "fitted_by_counting", False):
        return _fit_by_counting(model, train_set, val_set, callbacks)
    check_trainable(model, config, len(train_set[1]))
    loop = _Loop(model, train_set, val_set, config, callbacks, progress)
    if resume is not None:
        loop.restore(resume)
    return loop.run()


def check_trainable(model: nn.Module, config: TrainConfig, examples: int) -> None:
    """Raise UserError for settings this model cannot train with, before anything is written."""
    if min(config.batch_size, examples) < 2 and batchnorm_layers(model):
        raise UserError("BatchNorm needs at least 2 examples per batch; raise --batch-size")


def _fit_by_counting(model, train_set, val_set, callbacks: Callbacks) -> TrainResult:
    start = time.perf_counter()
    model.fit(*train_set)
    seconds = time.perf_counter() - start
    record = {"step": 0, "train_loss": split_loss(model, *train_set),
              "val_loss": split_loss(model, *val_set), "lr": 0.0, "seconds": seconds}
    callbacks.on_validation(record)
    return TrainResult(_cloned_state(model), 0, record["val_loss"], 0, seconds, [record])


def _cloned_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().to("cpu", copy=True) for name, tensor in model.state_dict().items()}


class _Loop:
    def __init__(self, model, train_set, val_set, config: TrainConfig, callbacks: Callbacks, progress):
        self.model, self.config, self.callbacks = model, config, callbacks
        self.contexts, self.targets = train_set
        self.val_set = val_set
        self.batch_size = min(config.batch_size, len(self.targets))
        self.generator = torch.Generator().manual_seed(config.seed)
        self.optimizer = build_optimizer(model, config)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, config.lr_factor)
        self.progress = progress
        self.order, self.cursor = torch.empty(0, dtype=torch.long), len(self.targets)
        self.interval = config.validation_interval
        self.losses = torch.zeros(self.interval, device=self.targets.device)  # since last validation
        self.loss_chunk = loss_chunk(config.steps)
        self.update_ratios = UpdateRatios(model, update_ratio_interval(config.steps) if config.diagnose
                                          else 0, self.interval, self.targets.device)
        self.step, self.seconds_before, self.history = 0, 0.0, []
        self.first_loss = None
        self.best = (float("inf"), 0, _cloned_state(model))
        self.stop_requested = False

    def run(self) -> TrainResult:
        if self.first_loss is None:
            self.first_loss = initial_loss(self.model, self.contexts, self.targets)
            self.callbacks.on_validation({"step": 0, "initial_loss": self.first_loss})
            self.callbacks.on_checkpoint(self.checkpoint())
        start = time.perf_counter() - self.seconds_before
        bar = tqdm(total=self.config.steps, initial=self.step, disable=not self.progress, unit="step",
                   leave=False, dynamic_ncols=True)
        self.model.train()
        with _ctrl_c_requests_stop(self):
            # Whether to stop early follows from the history, so a resumed run stops where it would have.
            while self.step < self.config.steps and not self._out_of_patience():
                self.losses[self.step - self._last_validated()] = self._step()
                self.step += 1
                if self.step % PROGRESS_EVERY == 0:
                    self._check_finite()
                    bar.update(self.step - bar.n)
                if self.step % self.interval == 0 or self.step == self.config.steps:
                    self._validate(time.perf_counter() - start, bar)
                if self.stop_requested:
                    self.seconds_before = time.perf_counter() - start
                    self.callbacks.on_checkpoint(self.checkpoint())
                    bar.close()
                    raise TrainingInterrupted(self.step)
        bar.close()
        best_val, best_step, best_state = self.best
        return TrainResult(best_state, best_step, best_val, self.step, time.perf_counter() - start,
                           self.history, self.first_loss, self.step < self.config.steps)

    def _step(self) -> torch.Tensor:
        batch = self._next_batch()
        inputs, targets = trimmed(self.contexts[batch], self.targets[batch])
        loss = batch_loss(self.model(inputs), targets)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.config.grad_clip:
            # A recurrent network's gradient can explode through time; one long step then undoes
            # what was learned. Rescaling the gradient's norm keeps its direction and caps its size.
            nn.utils.clip_grad_norm_(self.model.parameters(), self.config.grad_clip)
        self.update_ratios.step(self.optimizer, self.step + 1, self._last_validated())
        self.scheduler.step()
        return loss.detach()

    def _next_batch(self) -> torch.Tensor:
        """Indices of the next minibatch; every example once per epoch, reshuffled each epoch."""
        if self.cursor + self.batch_size > len(self.targets):
            self.order = torch.randperm(len(self.targets), generator=self.generator)
            self.order = self.order.to(self.targets.device)
            self.cursor = 0
        batch = self.order[self.cursor:self.cursor + self.batch_size]
        self.cursor += self.batch_size
        return batch

    def _out_of_patience(self) -> bool:
        """Early stopping: the last `patience` validations all failed to beat the best one."""
        patience, recent = self.config.patience, self.history[-self.config.patience:]
        return 0 < patience == len(recent) and all(record["step"] > self.best[1] for record in recent)

    def _last_validated(self) -> int:
        return self.history[-1]["step"] if self.history else 0

    def _pending_losses(self) -> torch.Tensor:
        return self.losses[:self.step - self._last_validated()]

    def _check_finite(self) -> None:
        """Stop at the first step whose loss is NaN or infinite, naming it."""
        pending = self._pending_losses()
        if torch.isfinite(pending).all():
            return
        first_bad = int((~torch.isfinite(pending)).nonzero()[0])
        raise UserError(f"the loss became {pending[first_bad].item()} at step "
                        f"{self._last_validated() + first_bad + 1}: training diverged. The run keeps "
                        f"its checkpoint of step {self._last_validated()}; try a lower --lr than "
                        f"{self.config.lr:g}")

    def _validate(self, seconds: float, bar) -> None:
        self._check_finite()
        train_loss = self._pending_losses().mean().item()
        val_loss = split_loss(self.model, *self.val_set)
        record = {"step": self.step, "train_loss": train_loss, "val_loss": val_loss,
                  "lr": self.scheduler.get_last_lr()[0], "seconds": round(seconds, 3)}
        since = self._last_validated()
        record["loss_chunks"] = chunk_means(self._pending_losses(), since, self.loss_chunk)
        if self.update_ratios.every:
            record["update_ratios"] = self.update_ratios.record(since, self.step)
        self.history.append(record)
        self.callbacks.on_validation(record)
        bar.set_postfix(train=f"{train_loss:.4f}", val=f"{val_loss:.4f}")
        if val_loss < self.best[0]:
            self.best = (val_loss, self.step, _cloned_state(self.model))
            self.callbacks.on_best(self.best[2])
        self.seconds_before = seconds
        self.callbacks.on_checkpoint(self.checkpoint())

    def checkpoint(self) -> Checkpoint:
        optimizer_tensors, param_groups = optimizer_to_flat(self.optimizer)
        scheduler = {key: value for key, value in self.scheduler.state_dict().items()
                     if key != "lr_lambdas"}  # the lambda is rebuilt from the config
        tensors = {**prefixed("model", self.model.state_dict()), **prefixed("best", self.best[2]),
                   **optimizer_tensors, "order": self.order.cpu(),
                   "pending_losses": self._pending_losses().cpu(),
                   "pending_update_ratios": self.update_ratios.waiting(self._last_validated(),
                                                                       self.step).cpu(),
                   "generator": self.generator.get_state(), "global_rng": torch.get_rng_state(),
                   **_device_rng(self.targets.device)}
        meta = {"step": self.step, "cursor": self.cursor, "best_val": self.best[0],
                "best_step": self.best[1], "history": self.history, "initial_loss": self.first_loss,
                "seconds": self.seconds_before, "param_groups": param_groups, "scheduler": scheduler}
        return Checkpoint(tensors, meta)

    def restore(self, checkpoint: Checkpoint) -> None:
        tensors, meta = checkpoint.tensors, checkpoint.meta
        load_weights(self.model, unprefixed("model", tensors), "the checkpoint")
        try:
            optimizer_from_flat(self.optimizer, tensors, meta["param_groups"])
            self.scheduler.load_state_dict({**meta["scheduler"], "lr_lambdas": [None]})
            self.generator.set_state(tensors["generator"])
            torch.set_rng_state(tensors["global_rng"])
            if "cuda_rng" in tensors:
                torch.cuda.set_rng_state(tensors["cuda_rng"], self.targets.device)
            self.order, self.cursor = tensors["order"].to(self.targets.device), meta["cursor"]
            self.step, self.history = meta["step"], meta["history"]
            self.losses[:len(tensors["pending_losses"])] = tensors["pending_losses"]
            self.update_ratios.restore(tensors["pending_update_ratios"])
            self.first_loss, self.seconds_before = meta["initial_loss"], meta["seconds"]
            self.best = (meta["best_val"], meta["best_step"], unprefixed("best", tensors))
        except (KeyError, RuntimeError, ValueError, TypeError) as error:
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise UserError(f"the checkpoint does not match this run's model or settings "
                            f"({first_line})") from None


class _ctrl_c_requests_stop:
    """While active, Ctrl-C (SIGINT) asks the loop to stop after the current step instead of
    killing it mid-update; a second Ctrl-C interrupts at once."""

    def __init__(self, loop: _Loop):
        self.loop = loop

    def __enter__(self):
        self.previous = signal.getsignal(signal.SIGINT)
        try:
            signal.signal(signal.SIGINT, self._request_stop)
        except ValueError:  # not the main thread: leave Ctrl-C alone
            self.previous = None
        return self

    def _request_stop(self, signum, frame):
        self.loop.stop_requested = True
        signal.signal(signal.SIGINT, signal.default_int_handler)

    def __exit__(self, *exc_info):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _device_rng(device: torch.device) -> dict[str, torch.Tensor]:
    """The state of the generator dropout draws from on a GPU (on the CPU it is `global_rng`)."""
    return {"cuda_rng": torch.cuda.get_rng_state(device)} if device.type == "cuda" else {}


def build_optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """Weight decay pulls the weight matrices and embeddings towards zero; biases and the gains of
    BatchNorm and LayerNorm (1-D) are left alone, as in nanoGPT: shrinking them only rescales."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": config.weight_decay},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    groups = [group for group in groups if group["params"]]
    if config.optimizer == "sgd":
        return torch.optim.SGD(groups, lr=config.lr)
    return torch.optim.AdamW(groups, lr=config.lr)
