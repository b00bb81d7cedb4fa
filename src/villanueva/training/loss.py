"""The one number everything reports: mean negative log-likelihood per character (natural log),
end token included, over every name of a split."""

import copy

import torch
import torch.nn.functional as F
from torch import nn

from villanueva.data import Split, Vocab, context_windows
from villanueva.models.base import model_device

EVAL_BATCH = 16_384


@torch.no_grad()
def split_loss(model: nn.Module, contexts: torch.Tensor, targets: torch.Tensor) -> float:
    """Mean NLL of `targets` given `contexts`, computed in eval mode in large batches."""
    was_training = model.training
    model.eval()
    total = torch.zeros((), dtype=torch.float64, device=targets.device)
    for start in range(0, len(targets), EVAL_BATCH):
        logits = model(contexts[start:start + EVAL_BATCH])
        total += F.cross_entropy(logits.float(), targets[start:start + EVAL_BATCH], reduction="sum")
    model.train(was_training)
    return total.item() / len(targets)


def names_loss(model: nn.Module, vocab: Vocab, names: list[str]) -> float:
    """The loss of `model` over a list of names (one part of a split)."""
    contexts, targets = context_windows(names, vocab, model.block_size)
    device = model_device(model)
    return split_loss(model, contexts.to(device), targets.to(device))


def split_losses(model: nn.Module, vocab: Vocab, split: Split) -> dict[str, float]:
    """{"train": loss, "val": loss, "test": loss}."""
    return {part: names_loss(model, vocab, names) for part, names in split.parts().items()}


INITIAL_LOSS_EXAMPLES = 4096


@torch.no_grad()
def initial_loss(model: nn.Module, contexts: torch.Tensor, targets: torch.Tensor) -> float:
    """The loss the untrained model starts from: in training mode (BatchNorm uses batch statistics,
    as on the first step), on up to 4,096 examples, on a copy so running statistics stay untouched.
    A well-initialised model starts near ln(vocab size), the loss of a uniform guess."""
    probe = copy.deepcopy(model).train()
    logits = probe(contexts[:INITIAL_LOSS_EXAMPLES])
    return F.cross_entropy(logits.float(), targets[:INITIAL_LOSS_EXAMPLES]).item()
