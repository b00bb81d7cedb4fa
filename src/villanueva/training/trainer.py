"""The training loop: minibatch optimisation with periodic validation and best-model keeping.

Speed comes from keeping the per-step work inside torch: the examples are index tensors on the
training device, each epoch is one `randperm`, and the running training loss is summed on the
device and read back only at validation time (a `.item()` every step would synchronise).
"""

import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from villanueva.errors import UserError
from villanueva.training.batchnorm import batchnorm_layers
from villanueva.training.config import TrainConfig
from villanueva.training.loss import initial_loss, split_loss

PROGRESS_EVERY = 100  # steps between progress-bar updates; tqdm per step would cost a little
Examples = tuple[torch.Tensor, torch.Tensor]  # contexts (N, T), targets (N,)


@dataclass
class TrainResult:
    best_state: dict[str, torch.Tensor]
    best_step: int
    best_val_loss: float
    steps_done: int
    seconds: float
    history: list[dict] = field(default_factory=list)
    initial_loss: float | None = None  # of the untrained model; None for a counted one


def train(model: nn.Module, train_set: Examples, val_set: Examples, config: TrainConfig,
          on_validation: Callable[[dict], None] = lambda record: None,
          progress: bool = False) -> TrainResult:
    """Fit `model` on `train_set`, validating on `val_set`; returns the best weights by val loss."""
    if getattr(model, "fitted_by_counting", False):
        return _fit_by_counting(model, train_set, val_set, on_validation)
    if min(config.batch_size, len(train_set[1])) < 2 and batchnorm_layers(model):
        raise UserError("BatchNorm needs at least 2 examples per batch; raise --batch-size")
    return _Loop(model, train_set, val_set, config, on_validation, progress).run()


def _fit_by_counting(model, train_set, val_set, on_validation) -> TrainResult:
    start = time.perf_counter()
    model.fit(*train_set)
    seconds = time.perf_counter() - start
    record = {"step": 0, "train_loss": split_loss(model, *train_set),
              "val_loss": split_loss(model, *val_set), "lr": 0.0, "seconds": seconds}
    on_validation(record)
    return TrainResult(_cloned_state(model), 0, record["val_loss"], 0, seconds, [record])


def _cloned_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {name: tensor.detach().to("cpu", copy=True) for name, tensor in model.state_dict().items()}


class _Loop:
    def __init__(self, model, train_set, val_set, config: TrainConfig, on_validation, progress):
        self.model, self.config, self.on_validation = model, config, on_validation
        self.contexts, self.targets = train_set
        self.val_set = val_set
        self.batch_size = min(config.batch_size, len(self.targets))
        self.generator = torch.Generator().manual_seed(config.seed)
        self.optimizer = _optimizer(model, config)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, config.lr_factor)
        self.bar = tqdm(total=config.steps, disable=not progress, unit="step", leave=False,
                        dynamic_ncols=True)
        self.order, self.cursor = None, len(self.targets)
        self.history: list[dict] = []
        self.best = (float("inf"), 0, _cloned_state(model))

    def run(self) -> TrainResult:
        first_loss = initial_loss(self.model, self.contexts, self.targets)
        self.on_validation({"step": 0, "initial_loss": first_loss})
        start = time.perf_counter()
        running_loss = torch.zeros((), device=self.targets.device)
        self.model.train()
        interval = self.config.validation_interval
        for step in range(1, self.config.steps + 1):
            running_loss += self._step()
            if step % PROGRESS_EVERY == 0:
                self.bar.update(PROGRESS_EVERY)
            if step % interval == 0 or step == self.config.steps:
                steps_since = step - (self.history[-1]["step"] if self.history else 0)
                self._validate(step, running_loss.item() / steps_since, time.perf_counter() - start)
                running_loss.zero_()
        self.bar.update(self.config.steps - self.bar.n)
        self.bar.close()
        best_val, best_step, best_state = self.best
        return TrainResult(best_state, best_step, best_val, self.config.steps,
                           time.perf_counter() - start, self.history, first_loss)

    def _step(self) -> torch.Tensor:
        batch = self._next_batch()
        loss = F.cross_entropy(self.model(self.contexts[batch]), self.targets[batch])
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
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

    def _validate(self, step: int, train_loss: float, seconds: float) -> None:
        val_loss = split_loss(self.model, *self.val_set)
        record = {"step": step, "train_loss": train_loss, "val_loss": val_loss,
                  "lr": self.scheduler.get_last_lr()[0], "seconds": round(seconds, 3)}
        self.history.append(record)
        self.on_validation(record)
        self.bar.set_postfix(train=f"{train_loss:.4f}", val=f"{val_loss:.4f}")
        if val_loss < self.best[0]:
            self.best = (val_loss, step, _cloned_state(self.model))


def _optimizer(model: nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr, weight_decay=config.weight_decay)
    return torch.optim.AdamW(params, lr=config.lr, weight_decay=config.weight_decay)
