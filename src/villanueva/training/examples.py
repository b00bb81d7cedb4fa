"""What a model trains on: its inputs and the ids it must predict, as index tensors.

Every model of the registry reads (B, T) ids. Window models (the MLPs, WaveNet) predict one next
character per row, from a fixed window of `block_size` ids; their targets are (N,). The loss code
treats targets of any shape the same way (flattened, ids of -1 ignored), so a model that predicts
every position of a name at once can give (N, T) targets padded with -1 and share the trainer.
"""

import torch
from torch import nn

from villanueva.data import Vocab, context_windows

IGNORED = -1  # target id of padding: no prediction is scored there

Examples = tuple[torch.Tensor, torch.Tensor]  # inputs (N, T), targets (N,) or (N, T)


def model_examples(model: nn.Module, names: list[str], vocab: Vocab) -> Examples:
    """The (inputs, targets) of `names` in the form `model` reads, on the CPU."""
    return context_windows(names, vocab, model.block_size)


def characters(targets: torch.Tensor) -> int:
    """How many predictions `targets` scores (padding excluded)."""
    return int((targets != IGNORED).sum())
