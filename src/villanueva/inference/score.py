"""How "in style" is a name: its mean negative log-likelihood per character under a run's model,
on the same scale as the training loss (lower = more typical). All names are scored in one batch."""

import torch

from villanueva.data import Vocab, clean_name
from villanueva.errors import UserError
from villanueva.models.base import model_device
from villanueva.training import batch_loss, model_examples


@torch.no_grad()
def score_names(model, vocab: Vocab, names: list[str], keep_accents: bool = False) -> list[tuple[str, float]]:
    """Return (cleaned name, loss) for each name, cleaned with the rules the run was trained with."""
    cleaned = [clean_name(name, keep_accents) for name in names]
    for raw, name in zip(names, cleaned):
        if not name:
            raise UserError(f"{raw!r} is empty after cleaning; nothing to score")
        vocab.encode(name)  # a clear error naming this name, before they are joined into windows
    device = model_device(model)
    inputs, targets = model_examples(model, cleaned, vocab)
    model.eval()
    # One loss per target (0 for padding), summed per row: a row is one window of a name, or a
    # whole name for a model that predicts every position.
    losses = batch_loss(model(inputs.to(device)), targets.to(device), reduction="none")
    row_totals = losses.cpu().double().view(len(targets), -1).sum(1)
    rows_per_name = [1 if targets.dim() > 1 else len(name) + 1 for name in cleaned]
    owner = torch.repeat_interleave(torch.tensor(rows_per_name))
    totals = torch.zeros(len(cleaned), dtype=torch.float64).index_add_(0, owner, row_totals)
    return [(name, total / (len(name) + 1)) for name, total in zip(cleaned, totals.tolist())]
