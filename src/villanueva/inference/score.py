"""How "in style" is a name: its mean negative log-likelihood per character under a run's model,
on the same scale as the training loss (lower = more typical).

A conditioned model gives the likelihood of a name given a label; the likelihood of the name
itself sums the label out: P(name) = sum over labels of P(label) P(name | label), with the run's
prior or any other weights (those of one community's provinces, say).
"""

import torch

from villanueva.data import LabelSet, Split, Vocab, clean_name
from villanueva.errors import UserError
from villanueva.models.base import NameModel, model_device
from villanueva.training import batch_loss
from villanueva.training.examples import IGNORED

NAMES_PER_PASS = 4096  # bounds the memory of scoring a long list


def cleaned_names(names: list[str], vocab: Vocab, keep_accents: bool) -> list[str]:
    """`names` cleaned with a run's rules; an empty or unencodable one is a UserError naming it."""
    cleaned = [clean_name(name, keep_accents) for name in names]
    for raw, name in zip(names, cleaned):
        if not name:
            raise UserError(f"{raw!r} is empty after cleaning; nothing to score")
        vocab.encode(name)  # a clear error naming this name, before they are joined into examples
    return cleaned


@torch.no_grad()
def log_likelihoods(model: NameModel, vocab: Vocab, names: list[str], label_ids=None) -> torch.Tensor:
    """log P(name), or log P(name | label) for a conditioned model, of each name: float64 `(N,)`."""
    model.eval()
    parts = []
    for start in range(0, len(names), NAMES_PER_PASS):
        chunk = names[start : start + NAMES_PER_PASS]
        labels = None if label_ids is None else label_ids[start : start + NAMES_PER_PASS]
        inputs, targets = model.examples(chunk, vocab, labels)
        device = model_device(model)
        losses = batch_loss(model(inputs.to(device)), targets.to(device), reduction="none").cpu().double()
        # Whatever the model's kind, its scored targets, read in row-major order, are the names'
        # characters and end tokens one name after another: len(name) + 1 for each.
        scored = losses[(targets != IGNORED).flatten()]
        owner = torch.repeat_interleave(torch.arange(len(chunk)), torch.tensor([len(n) + 1 for n in chunk]))
        parts.append(-torch.zeros(len(chunk), dtype=torch.float64).index_add_(0, owner, scored))
    return torch.cat(parts)


def label_log_likelihoods(
    model: NameModel, vocab: Vocab, names: list[str], label_ids: list[int]
) -> torch.Tensor:
    """log P(name | label) of every name under every one of `label_ids`: `(N, len(label_ids))`."""
    return torch.stack([log_likelihoods(model, vocab, names, [label] * len(names)) for label in label_ids], 1)


def mixture_log_likelihoods(
    model: NameModel, vocab: Vocab, names: list[str], label_weights: torch.Tensor | None
) -> torch.Tensor:
    """log P(name): of an unconditioned model (`label_weights` None), or of a conditioned one with
    its label drawn from `label_weights` (non-negative, summing to 1)."""
    if label_weights is None:
        return log_likelihoods(model, vocab, names)
    chosen = label_weights.nonzero().flatten()
    joint = label_log_likelihoods(model, vocab, names, chosen.tolist()) + label_weights[chosen].double().log()
    return joint.logsumexp(dim=1)


def score_names(
    model: NameModel,
    vocab: Vocab,
    names: list[str],
    keep_accents: bool = False,
    label_weights: torch.Tensor | None = None,
) -> list[tuple[str, float]]:
    """Return (cleaned name, loss per character) for each name, cleaned with the rules the run was
    trained with; a conditioned model's label is drawn from `label_weights`."""
    cleaned = cleaned_names(names, vocab, keep_accents)
    totals = mixture_log_likelihoods(model, vocab, cleaned, label_weights)
    return [(name, -total / (len(name) + 1)) for name, total in zip(cleaned, totals.tolist())]


def marginal_loss(model: NameModel, vocab: Vocab, names: list[str], labels: LabelSet) -> float:
    """A conditioned model's loss with each name's label summed out with the prior: the loss per
    character of P(name), comparable with an unconditioned model's."""
    totals = mixture_log_likelihoods(model, vocab, names, labels.prior())
    return float(-totals.sum()) / sum(len(name) + 1 for name in names)


def marginal_losses(model: NameModel, vocab: Vocab, split: Split, labels: LabelSet) -> dict[str, float]:
    """The marginal loss on val and test (not on train: that would score 80% of the names once per
    label, for a number nothing compares)."""
    return {part: marginal_loss(model, vocab, split.parts()[part], labels) for part in ("val", "test")}
