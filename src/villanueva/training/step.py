"""One optimisation step, the same for the trainer and the learning-rate finder."""

from collections.abc import Callable

import torch
from torch import nn

from villanueva.training.examples import trimmed
from villanueva.training.loss import batch_loss


def optimisation_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    inputs: torch.Tensor,
    targets: torch.Tensor,
    grad_clip: float = 0.0,
    update: Callable[[], None] | None = None,
    weight: torch.Tensor | float = 1.0,
) -> torch.Tensor:
    """Forward, backward and update on one batch; returns its loss times `weight`, still on the
    device (reading it back every step would synchronise). `update` applies the gradients (default
    optimizer.step); `weight` is a torchrun rank's share of the global batch."""
    inputs, targets = trimmed(inputs, targets)
    loss = batch_loss(model(inputs), targets) * weight
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if grad_clip:
        # A recurrent network's gradient can explode through time; one long step then undoes
        # what was learned. Rescaling the gradient's norm keeps its direction and caps its size.
        nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
    (update or optimizer.step)()
    return loss.detach()
