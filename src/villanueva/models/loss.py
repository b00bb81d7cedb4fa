"""The one number everything reports: mean negative log-likelihood per character (natural log),
end token included; the same for every kind of model, since targets of any shape are flattened and
padding (IGNORED) is skipped. Training minimises it, evaluation and the diagnostics report it, and
inference computes it from a model's steps in numpy (inference/score.per_character_loss, tested
against this one).
"""

import torch
import torch.nn.functional as F

from villanueva.data.tensors import IGNORED


def batch_loss(logits: torch.Tensor, targets: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Cross-entropy of `targets` of any shape under `logits` of that shape + (vocab,), skipping
    IGNORED targets; "mean" is per scored character, as the loss of docs/design.md is. Half-precision logits
    are scored in float32, float64 ones in float64; compact targets are widened to int64."""
    logits = logits.to(torch.promote_types(logits.dtype, torch.float32))
    return F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]),
        targets.reshape(-1).long(),
        ignore_index=IGNORED,
        reduction=reduction,
    )
