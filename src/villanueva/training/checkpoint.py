"""A trainer's complete state as flat tensors + JSON-able metadata, for safetensors checkpoints.

Everything a resumed run needs to continue bit for bit as if never stopped: the weights (with
BatchNorm's running statistics), the optimizer's moments, the schedule's position, the batch order
of the current epoch and the generator that draws the next one, the global RNG, the loss summed
since the last validation, and the best model so far. Nothing is pickled: tensors go into
safetensors, the rest into its JSON metadata, so loading a checkpoint cannot execute code.
"""

import json
from dataclasses import dataclass

import torch

from villanueva.errors import UserError

FORMAT = 1


@dataclass
class Checkpoint:
    tensors: dict[str, torch.Tensor]
    meta: dict

    def to_safetensors_metadata(self) -> dict[str, str]:
        return {"villanueva_checkpoint": json.dumps({"format": FORMAT, **self.meta})}

    @classmethod
    def from_safetensors(cls, tensors: dict[str, torch.Tensor], metadata: dict[str, str] | None):
        try:
            meta = json.loads((metadata or {})["villanueva_checkpoint"])
        except (KeyError, ValueError):
            raise UserError("the checkpoint has no villanueva training state") from None
        if meta.get("format") != FORMAT:
            raise UserError(f"the checkpoint is from an incompatible version (format {meta.get('format')})")
        return cls(tensors, meta)


def prefixed(prefix: str, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {f"{prefix}.{name}": tensor.detach().cpu().contiguous() for name, tensor in state.items()}


def unprefixed(prefix: str, tensors: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    start = len(prefix) + 1
    return {name[start:]: tensor for name, tensor in tensors.items() if name.startswith(prefix + ".")}


def optimizer_to_flat(optimizer: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], list]:
    """Split optimizer.state_dict() into tensors and its (JSON-able) param_groups."""
    state = optimizer.state_dict()
    tensors = {f"{index}.{key}": value for index, entries in state["state"].items()
               for key, value in entries.items()}
    return prefixed("optimizer", tensors), state["param_groups"]


def optimizer_from_flat(optimizer: torch.optim.Optimizer, tensors: dict[str, torch.Tensor],
                        param_groups: list) -> None:
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, tensor in unprefixed("optimizer", tensors).items():
        index, key = name.split(".", 1)
        state.setdefault(int(index), {})[key] = tensor
    optimizer.load_state_dict({"state": state, "param_groups": param_groups})
