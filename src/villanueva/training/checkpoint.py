"""A checkpoint: the training loop's state (training/state.py) as flat tensors for safetensors and
JSON-able metadata, and the checks that refuse a damaged one before a resumed run writes anything.
Nothing is pickled: tensors go into safetensors, the rest into its JSON metadata, so loading a
checkpoint cannot execute code."""

import json
import math
from dataclasses import dataclass

import torch

from villanueva.errors import UserError
from villanueva.models.weights import check_state


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


def prefixed(prefix: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{name}": tensor.detach().cpu().contiguous() for name, tensor in state.items()}


def unprefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    start = len(prefix) + 1
    return {name[start:]: tensor for name, tensor in tensors.items() if name.startswith(prefix + ".")}


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
