"""How "in style" is a name: its mean negative log-likelihood per character under a run's model,
on the same scale as the training loss (lower = more typical). All names are scored in one batch."""

import torch

from villanueva.data import Vocab, clean_name, context_windows
from villanueva.errors import UserError
from villanueva.models.base import model_device


@torch.no_grad()
def score_names(model, vocab: Vocab, names: list[str], keep_accents: bool = False) -> list[tuple[str, float]]:
    """Return (cleaned name, loss) for each name, cleaned with the rules the run was trained with."""
    cleaned = [clean_name(name, keep_accents) for name in names]
    for raw, name in zip(names, cleaned):
        if not name:
            raise UserError(f"{raw!r} is empty after cleaning; nothing to score")
        vocab.encode(name)  # a clear error naming this name, before they are joined into windows
    device = model_device(model)
    contexts, targets = context_windows(cleaned, vocab, model.block_size)
    model.eval()
    losses = torch.nn.functional.cross_entropy(model(contexts.to(device)).float(), targets.to(device),
                                               reduction="none")
    owner = torch.repeat_interleave(torch.tensor([len(name) + 1 for name in cleaned]))
    totals = torch.zeros(len(cleaned), dtype=torch.float64).index_add_(0, owner, losses.cpu().double())
    return [(name, total / (len(name) + 1)) for name, total in zip(cleaned, totals.tolist())]
