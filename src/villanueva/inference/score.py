"""How "in style" is a name: its mean negative log-likelihood per character under a run's model,
on the same scale as the training loss (lower = more typical). All names are scored in one batch."""

import torch

from villanueva.data import Vocab, clean_name
from villanueva.errors import UserError
from villanueva.models.base import NameModel, model_device
from villanueva.training import batch_loss
from villanueva.training.examples import IGNORED


@torch.no_grad()
def score_names(
    model: NameModel, vocab: Vocab, names: list[str], keep_accents: bool = False
) -> list[tuple[str, float]]:
    """Return (cleaned name, loss) for each name, cleaned with the rules the run was trained with."""
    cleaned = [clean_name(name, keep_accents) for name in names]
    for raw, name in zip(names, cleaned):
        if not name:
            raise UserError(f"{raw!r} is empty after cleaning; nothing to score")
        vocab.encode(name)  # a clear error naming this name, before they are joined into examples
    device = model_device(model)
    inputs, targets = model.examples(cleaned, vocab)
    model.eval()
    losses = batch_loss(model(inputs.to(device)), targets.to(device), reduction="none").cpu().double()
    # Whatever the model's kind, its scored targets, read in row-major order, are the names'
    # characters and end tokens one name after another: len(name) + 1 for each.
    scored = losses[(targets != IGNORED).flatten()]
    lengths = torch.tensor([len(name) + 1 for name in cleaned])
    owner = torch.repeat_interleave(torch.arange(len(cleaned)), lengths)
    totals = torch.zeros(len(cleaned), dtype=torch.float64).index_add_(0, owner, scored)
    return [(name, total / (len(name) + 1)) for name, total in zip(cleaned, totals.tolist())]
