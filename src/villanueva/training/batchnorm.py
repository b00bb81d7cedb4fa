"""Replace BatchNorm's running statistics by the exact statistics of the whole training set.

During training the running mean / variance are an exponential average over recent batches, taken
while the weights were still moving. The notebooks therefore recompute them once after training,
over every training example, before evaluating; this does the same with one full-batch forward pass
in training mode and momentum 1, so each running statistic becomes exactly the full-set one.
"""

import torch
from torch import nn

from villanueva.models.layers import BatchNorm1d


def batchnorm_layers(model: nn.Module) -> list[BatchNorm1d]:
    return [module for module in model.modules() if isinstance(module, BatchNorm1d)]


@torch.no_grad()
def calibrate_batchnorm(model: nn.Module, contexts: torch.Tensor) -> None:
    norms = batchnorm_layers(model)
    if not norms:
        return
    momenta = [norm.momentum for norm in norms]
    for norm in norms:
        norm.momentum = 1.0
    was_training = model.training
    model.train()
    model(contexts)
    model.train(was_training)
    for norm, momentum in zip(norms, momenta):
        norm.momentum = momentum
