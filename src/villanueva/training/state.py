"""The training loop's state: everything a step changes, in one object, saved into a checkpoint and
restored from one together.

That is everything a resumed run needs to continue bit for bit as if never stopped: the weights
(with BatchNorm's running statistics), the optimizer's moments, the schedule's position, the batch
order of the current epoch and the generator that draws the next one, the global RNG, the losses
and measurements since the last validation, and the best model so far. The batch order itself is
not saved: the generator's state before it was drawn is (5 KB, where the order of a list of
millions of names would take megabytes at every validation), and resuming draws it again.

Bit-identical resume is promised on the device the run was interrupted on. A run continued on
another device (`--resume RUN --device cuda`) starts from the same state, but its arithmetic, and
so its last digits, follow the new device.
"""

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from villanueva.errors import UserError
from villanueva.models.weights import load_weights, model_device
from villanueva.training.checkpoint import Checkpoint, prefixed, unprefixed
from villanueva.training.recording import UpdateRatios


@dataclass(eq=False)
class TrainingState:
    model: nn.Module
    optimizer: torch.optim.Optimizer
    schedule: torch.optim.lr_scheduler.LRScheduler
    generator: torch.Generator  # draws each epoch's batch order
    losses: torch.Tensor  # on the training device: the loss of each step since the last validation
    update_ratios: UpdateRatios  # with its measurements since the last validation
    step: int = 0  # steps taken
    cursor: int = 0  # position in `order` of the next batch
    order: torch.Tensor = field(default_factory=lambda: torch.empty(0, dtype=torch.long))
    order_drawn_from: torch.Tensor | None = None  # the generator's state before `order` was drawn
    history: list[dict] = field(default_factory=list)  # one record per validation
    initial_loss: float | None = None  # None until the run has started
    seconds: float = 0.0  # spent training before the last checkpoint
    best_val: float = math.inf
    best_step: int = 0
    best_state: dict[str, torch.Tensor] = field(default_factory=dict)  # on the CPU

    @property
    def last_validated(self) -> int:
        return self.history[-1]["step"] if self.history else 0

    def save(self, pending_losses: torch.Tensor) -> Checkpoint:
        """The state as a checkpoint; `pending_losses` are the losses since the last validation as
        every rank sees them (their mean over the ranks; `losses` in one process)."""
        optimizer_tensors, param_groups = _optimizer_to_flat(self.optimizer)
        tensors = {
            **prefixed("model", self.model.state_dict()),
            **prefixed("best", self.best_state),
            **optimizer_tensors,
            "pending_losses": pending_losses.cpu(),
            "pending_update_ratios": self.update_ratios.waiting(self.last_validated, self.step).cpu(),
            "generator": self.generator.get_state(),
            "global_rng": torch.get_rng_state(),
        }
        if self.order_drawn_from is not None:
            tensors["order_drawn_from"] = self.order_drawn_from
        device = model_device(self.model)
        if device.type == "cuda":  # the generator dropout draws from on a GPU (on the CPU: global_rng)
            tensors["cuda_rng"] = torch.cuda.get_rng_state(device)
        meta = {
            "step": self.step,
            "cursor": self.cursor,
            "best_val": None if math.isinf(self.best_val) else self.best_val,  # strict JSON: no Infinity
            "best_step": self.best_step,
            "history": self.history,
            "initial_loss": self.initial_loss,
            "seconds": self.seconds,
            "param_groups": param_groups,
            # The schedule's position; its factor is a function, rebuilt from the run's settings.
            "scheduler": {
                key: value for key, value in self.schedule.state_dict().items() if key != "lr_lambdas"
            },
        }
        return Checkpoint(tensors, meta)

    def restore(self, checkpoint: Checkpoint, examples: int) -> None:
        """Continue from `checkpoint`, whose batch order is one of `examples` training examples; a
        checkpoint that does not fit is a UserError."""
        tensors, meta = checkpoint.tensors, checkpoint.meta
        load_weights(self.model, unprefixed("model", tensors), "the checkpoint")
        device = self.losses.device
        try:
            _optimizer_from_flat(self.optimizer, tensors, meta["param_groups"])
            self.schedule.load_state_dict({**meta["scheduler"], "lr_lambdas": [None]})
            self.generator.set_state(tensors["generator"])
            torch.set_rng_state(tensors["global_rng"])
            if "cuda_rng" in tensors and device.type == "cuda":
                torch.cuda.set_rng_state(tensors["cuda_rng"], device)
            self.order_drawn_from = tensors.get("order_drawn_from")
            self.order = _redrawn_order(self.order_drawn_from, examples).to(device)
            self.step, self.cursor, self.history = meta["step"], meta["cursor"], meta["history"]
            self.initial_loss, self.seconds = meta["initial_loss"], meta["seconds"]
            self.best_val = math.inf if meta["best_val"] is None else meta["best_val"]
            self.best_step, self.best_state = meta["best_step"], unprefixed("best", tensors)
            # Every rank takes the whole batches' losses: their mean over the ranks is the same.
            pending = tensors["pending_losses"]
            self.losses[: len(pending)] = pending.to(device)
            self.update_ratios.restore(tensors["pending_update_ratios"].to(device))
        except (KeyError, RuntimeError, ValueError, TypeError) as error:
            first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise UserError(
                f"the checkpoint does not match this run's model or settings ({first_line})"
            ) from None


def epoch_order(examples: int, generator: torch.Generator) -> torch.Tensor:
    """A random order of `examples` indices: int32 when they fit (half of int64's memory; torch
    draws the same permutation in either type)."""
    dtype = torch.int32 if examples <= torch.iinfo(torch.int32).max else torch.long
    return torch.randperm(examples, generator=generator, dtype=dtype)


def _redrawn_order(drawn_from: torch.Tensor | None, examples: int) -> torch.Tensor:
    if drawn_from is None:  # saved before the first epoch began
        return torch.empty(0, dtype=torch.long)
    return epoch_order(examples, torch.Generator().set_state(drawn_from))


def _optimizer_to_flat(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list]:
    """Split optimizer.state_dict() into tensors and its (JSON-able) param_groups."""
    state = optimizer.state_dict()
    tensors = {
        f"{index}.{key}": value for index, entries in state["state"].items() for key, value in entries.items()
    }
    return prefixed("optimizer", tensors), state["param_groups"]


def _optimizer_from_flat(
    optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor], param_groups: list
) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, tensor in unprefixed("optimizer", tensors).items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = tensor
    optimizer.load_state_dict({"state": state, "param_groups": param_groups})
