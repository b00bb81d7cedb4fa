"""The loss of a model over every name of a split, and before training starts: the one number
everything reports, as models/loss.py defines it for a batch."""

import copy

import torch
from torch import nn

from villanueva.data import Split, Vocab
from villanueva.data.labels import LabelSet
from villanueva.data.tensors import IGNORED
from villanueva.models.base import NameModel
from villanueva.models.loss import batch_loss
from villanueva.models.weights import model_device

EVAL_BATCH = 16_384  # predictions per forward pass when evaluating


@torch.no_grad()
def split_loss(model: nn.Module, contexts: torch.Tensor, targets: torch.Tensor) -> float:
    """Mean NLL per character of `targets` given `contexts`, computed in eval mode in large batches."""
    was_training = model.training
    model.eval()
    total = torch.zeros((), dtype=torch.float64, device=targets.device)
    rows = max(1, EVAL_BATCH // targets.shape[1:].numel())  # a row: one window, or a whole name
    for start in range(0, len(targets), rows):
        logits = model(contexts[start : start + rows])
        total += batch_loss(logits, targets[start : start + rows], reduction="sum")
    model.train(was_training)
    return total.item() / characters(targets)


def names_loss(model: NameModel, vocab: Vocab, names: list[str], label_ids: list[int] | None = None) -> float:
    """The loss of `model` over a list of names (one part of a split)."""
    contexts, targets = model.examples(names, vocab, label_ids)
    device = model_device(model)
    return split_loss(model, contexts.to(device), targets.to(device))


def split_losses(
    model: NameModel, vocab: Vocab, split: Split, labels: LabelSet | None = None
) -> dict[str, float]:
    """{"train": loss, "val": loss, "test": loss}; for a conditioned model, the conditional loss
    (each name's true label given)."""
    return {
        part: names_loss(model, vocab, names, part_label_ids(split, labels, part))
        for part, names in split.parts().items()
    }


def part_label_ids(split: Split, labels: LabelSet | None, part: str) -> list[int] | None:
    """The label ids of the names of one part of the split, or None for an unconditioned run."""
    return None if labels is None else labels.ids(split.labels[part])


INITIAL_LOSS_EXAMPLES = 4096


@torch.no_grad()
def initial_loss(model: nn.Module, contexts: torch.Tensor, targets: torch.Tensor) -> float:
    """The loss the untrained model starts from: in training mode (BatchNorm uses batch statistics,
    as on the first step), on up to 4,096 examples, on a copy so running statistics stay untouched.
    A well-initialised model starts near ln(vocab size), the loss of a uniform guess."""
    probe = copy.deepcopy(model).train()
    logits = probe(contexts[:INITIAL_LOSS_EXAMPLES])
    return batch_loss(logits, targets[:INITIAL_LOSS_EXAMPLES]).item()


def characters(targets: torch.Tensor) -> int:
    """How many predictions `targets` scores (padding excluded)."""
    return int((targets != IGNORED).sum())
