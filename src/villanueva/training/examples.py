"""What a model trains on: its inputs and the ids it must predict, as index tensors.

Every model of the registry reads (B, T) ids. Window models (the MLPs, WaveNet) predict one next
character per row, from a fixed window of `block_size` ids; their targets are (N,). The loss code
treats targets of any shape the same way (flattened, ids of -1 ignored), so a model that predicts
every position of a name at once can give (N, T) targets padded with -1 and share the trainer.
Whole-name models (gru, transformer) do: one row per name, so for them a batch counts names.
"""

import torch
from torch import nn

from villanueva.data import Vocab, context_windows, whole_names
from villanueva.errors import UserError
from villanueva.models.base import predicts_every_position

IGNORED = -1  # target id of padding: no prediction is scored there

Examples = tuple[torch.Tensor, torch.Tensor]  # inputs (N, T), targets (N,) or (N, T)


def model_examples(model: nn.Module, names: list[str], vocab: Vocab) -> Examples:
    """The (inputs, targets) of `names` in the form `model` reads, on the CPU."""
    if predicts_every_position(model):
        check_name_lengths(model, names)
        return whole_names(names, vocab, IGNORED)
    return context_windows(names, vocab, model.block_size)


def check_name_lengths(model: nn.Module, names: list[str]) -> None:
    """Refuse names longer than `model` can read (a Transformer has one learned position per
    character), before any work is done or written."""
    limit = getattr(model, "max_length", None)
    longest = max(names, key=len, default="")
    if limit is not None and len(longest) > limit:
        raise UserError(f"{longest!r} has {len(longest)} characters; this model reads names of at "
                        f"most {limit} (raise --max-length)")


def trimmed(inputs: torch.Tensor, targets: torch.Tensor) -> Examples:
    """A batch of whole names without the padding columns none of its names reaches: rows are
    padded to the data set's longest name, a random batch's longest is usually far shorter. Reads
    the batch's width back from the device (one synchronisation); window batches pass untouched."""
    if targets.dim() == 1:
        return inputs, targets
    width = int((targets != IGNORED).sum(1).max())  # padding only ever follows a name
    return inputs[:, :width], targets[:, :width]


def characters(targets: torch.Tensor) -> int:
    """How many predictions `targets` scores (padding excluded)."""
    return int((targets != IGNORED).sum())
