"""Batches of examples: each model kind builds its own (`NameModel.examples`); these helpers work
on any of them. Targets of any shape are treated alike (flattened, IGNORED padding skipped)."""

import torch

from villanueva.data.tensors import IGNORED
from villanueva.models.base import Examples

__all__ = ["IGNORED", "Examples", "characters", "trimmed"]


def trimmed(inputs: torch.Tensor, targets: torch.Tensor) -> Examples:
    """A batch of whole names without the padding columns none of its names reaches: rows are
    padded to the data set's longest name, a random batch's longest is usually far shorter. Reads
    the batch's width back from the device (one synchronisation); window batches pass untouched."""
    if targets.dim() == 1:
        return inputs, targets
    width = int((targets != IGNORED).sum(1).max())  # padding only ever follows a name
    label_columns = inputs.shape[1] - targets.shape[1]  # a conditioned model's inputs start with one
    return inputs[:, : label_columns + width], targets[:, :width]


def characters(targets: torch.Tensor) -> int:
    """How many predictions `targets` scores (padding excluded)."""
    return int((targets != IGNORED).sum())
