"""A trainer's complete state as flat tensors + JSON-able metadata, for safetensors checkpoints.

Everything a resumed run needs to continue bit for bit as if never stopped: the weights (with
BatchNorm's running statistics), the optimizer's moments, the schedule's position, the batch order
of the current epoch and the generator that draws the next one, the global RNG, the losses since
the last validation, and the best model so far. The batch order itself is not stored: the
generator's state before it was drawn is (5 KB, where the order of a list of millions of names
would take megabytes at every validation), and resuming draws it again. Nothing is pickled:
tensors go into safetensors, the rest into its JSON metadata, so loading a checkpoint cannot
execute code.

Bit-identical resume is promised on the device the run was interrupted on. A run continued on
another device (`--resume RUN --device cuda`) starts from the same state, but its arithmetic, and
so its last digits, follow the new device.
"""

import json
import math
from dataclasses import dataclass, field

import torch

from villanueva.errors import UserError
from villanueva.models.weights import check_state, load_weights, model_device


@dataclass
class Checkpoint:
    tensors: dict[str, torch.Tensor]
    meta: dict

    FORMAT = 2

    def to_safetensors_metadata(self) -> dict[str, str]:
        return {"villanueva_checkpoint": json.dumps({"format": self.FORMAT, **self.meta}, allow_nan=False)}

    def check(self, model: torch.nn.Module, steps: int, examples: int) -> None:
        """Refuse what a damaged or hand-edited checkpoint can hold before resuming writes
        anything: metadata out of the run's bounds (`steps` to train, `examples` in an epoch),
        weights the run's `model` cannot take, NaN anywhere (the weights' by check_state, the
        optimizer's and the pending losses' here: each tensor is scanned once)."""
        problem = _metadata_problem(self.meta, steps, examples)
        if problem is not None:
            raise UserError(
                f"the checkpoint is damaged: {problem}; resume is refused and nothing was changed"
            )
        check_state(model, unprefixed("model", self.tensors), "the checkpoint")
        check_state(model, unprefixed("best", self.tensors), "the checkpoint's best weights")
        rest = {name: t for name, t in self.tensors.items() if not name.startswith(("model.", "best."))}
        broken = next(
            (name for name, t in rest.items() if t.is_floating_point() and not t.isfinite().all()), None
        )
        if broken is not None:
            raise UserError(f"the checkpoint is damaged: its {broken!r} holds NaN or infinite values")

    @classmethod
    def from_safetensors(cls, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None):
        try:
            meta = json.loads((metadata or {})["villanueva_checkpoint"])
        except (KeyError, ValueError):
            raise UserError("the checkpoint has no villanueva training state") from None
        if meta.get("format") != cls.FORMAT:
            raise UserError(f"the checkpoint is from an incompatible version (format {meta.get('format')})")
        return cls(tensors, meta)


@dataclass
class Trainee:
    """What training changes in place: the model and the objects that drive its updates."""

    model: torch.nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    generator: torch.Generator  # draws each epoch's batch order


@dataclass
class Progress:
    """Where training stands: the bookkeeping of the loop, as plain values and CPU tensors."""

    step: int = 0
    cursor: int = 0  # position in `order` of the next batch
    order: torch.Tensor = field(default_factory=lambda: torch.empty(0, dtype=torch.long))
    order_drawn_from: torch.Tensor | None = None  # the generator's state before `order` was drawn
    history: list[dict] = field(default_factory=list)  # one record per validation
    initial_loss: float | None = None  # None until the run has started
    seconds: float = 0.0  # spent training before the last checkpoint
    best_val: float = math.inf
    best_step: int = 0
    best_state: dict[str, torch.Tensor] = field(default_factory=dict)
    pending_losses: torch.Tensor = field(default_factory=lambda: torch.empty(0))  # since the last validation
    pending_update_ratios: torch.Tensor = field(default_factory=lambda: torch.empty(0))

    @property
    def last_validated(self) -> int:
        return self.history[-1]["step"] if self.history else 0


def save_state(trainee: Trainee, progress: Progress) -> Checkpoint:
    optimizer_tensors, param_groups = _optimizer_to_flat(trainee.optimizer)
    scheduler = {
        key: value for key, value in trainee.scheduler.state_dict().items() if key != "lr_lambdas"
    }  # the lambda is rebuilt from the config
    tensors = {
        **prefixed("model", trainee.model.state_dict()),
        **prefixed("best", progress.best_state),
        **optimizer_tensors,
        "pending_losses": progress.pending_losses.cpu(),
        "pending_update_ratios": progress.pending_update_ratios.cpu(),
        "generator": trainee.generator.get_state(),
        "global_rng": torch.get_rng_state(),
    }
    if progress.order_drawn_from is not None:
        tensors["order_drawn_from"] = progress.order_drawn_from
    device = model_device(trainee.model)
    if device.type == "cuda":  # the generator dropout draws from on a GPU (on the CPU: global_rng)
        tensors["cuda_rng"] = torch.cuda.get_rng_state(device)
    meta = {
        "step": progress.step,
        "cursor": progress.cursor,
        "best_val": None if math.isinf(progress.best_val) else progress.best_val,  # strict JSON: no Infinity
        "best_step": progress.best_step,
        "history": progress.history,
        "initial_loss": progress.initial_loss,
        "seconds": progress.seconds,
        "param_groups": param_groups,
        "scheduler": scheduler,
    }
    return Checkpoint(tensors, meta)


def restore_state(checkpoint: Checkpoint, trainee: Trainee, device: torch.device, examples: int) -> Progress:
    """Load the checkpoint into `trainee` and return the progress it records, its tensors on
    `device`, its batch order one of `examples` training examples; a checkpoint that does not fit
    is a UserError."""
    tensors, meta = checkpoint.tensors, checkpoint.meta
    load_weights(trainee.model, unprefixed("model", tensors), "the checkpoint")
    try:
        _optimizer_from_flat(trainee.optimizer, tensors, meta["param_groups"])
        trainee.scheduler.load_state_dict({**meta["scheduler"], "lr_lambdas": [None]})
        trainee.generator.set_state(tensors["generator"])
        torch.set_rng_state(tensors["global_rng"])
        if "cuda_rng" in tensors and device.type == "cuda":
            torch.cuda.set_rng_state(tensors["cuda_rng"], device)
        drawn_from = tensors.get("order_drawn_from")
        order = _redrawn_order(drawn_from, examples)
        return Progress(
            meta["step"],
            meta["cursor"],
            order.to(device),
            drawn_from,
            meta["history"],
            meta["initial_loss"],
            meta["seconds"],
            math.inf if meta["best_val"] is None else meta["best_val"],
            meta["best_step"],
            unprefixed("best", tensors),
            tensors["pending_losses"].to(device),
            tensors["pending_update_ratios"].to(device),
        )
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


def prefixed(prefix: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{name}": tensor.detach().cpu().contiguous() for name, tensor in state.items()}


def unprefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    start = len(prefix) + 1
    return {name[start:]: tensor for name, tensor in tensors.items() if name.startswith(prefix + ".")}


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


def _metadata_problem(meta: dict, steps: int, examples: int) -> str | None:
    step, history = meta.get("step"), meta.get("history")
    if not _integer(step, 0, steps):
        return f"step {step!r} is not a whole number from 0 to the run's {steps:,} steps"
    if not _integer(meta.get("cursor"), 0, examples):
        return f"its batch cursor is not a whole number from 0 to the {examples:,} examples of an epoch"
    if not _integer(meta.get("best_step"), 0, step):
        return "its best step is not a whole number from 0 to its step"
    if not isinstance(history, list) or not all(
        isinstance(r, dict) and _finite(r.get("val_loss")) for r in history
    ):
        return "its history is not a list of validation records"
    validated = [r.get("step") for r in history]
    if not all(_integer(s, 1, step) for s in validated) or validated != sorted(set(validated)):
        return "the steps of its history do not rise from 1 to its step"
    if not (_finite(meta.get("seconds")) and meta["seconds"] >= 0):
        return f"its training time {meta.get('seconds')!r} is not a number of seconds"
    started = step > 0 or history
    if not _finite(meta.get("initial_loss")) and (started or meta.get("initial_loss") is not None):
        return "its initial loss is not a number"
    if meta.get("best_val") is not None and not _finite(meta.get("best_val")):
        return "its best validation loss is not a number"
    return None


def _integer(value, low: int, high: int | None = None) -> bool:
    return type(value) is int and low <= value and (high is None or value <= high)


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
