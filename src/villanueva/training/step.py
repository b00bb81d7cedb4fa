"""The gradient of one batch, the same for the trainer and the learning-rate finder; each applies
it with its optimizer's step."""

import torch
from torch import nn

from villanueva.models.loss import batch_loss


def backward(
    model: nn.Module,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    grad_clip: float = 0.0,
    weight: torch.Tensor | float = 1.0,
) -> torch.Tensor:
    """Forward and backward on one batch, leaving its gradient in the parameters; returns its loss
    times `weight` (a torchrun rank's share of the global batch), still on the device: reading it
    back every step would synchronise."""
    loss = batch_loss(model(inputs), targets) * weight
    model.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip:
        # A recurrent network's gradient can explode through time; one long step then undoes
        # what was learned. Rescaling the gradient's norm keeps its direction and caps its size.
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    return loss.detach()
