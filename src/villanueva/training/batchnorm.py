"""Replace BatchNorm's running statistics by the exact statistics of the whole training set.

During training the running mean / variance are an exponential average over recent batches, taken
while the weights were still moving. The notebooks therefore recompute them once after training,
with one forward pass of every training example in a single batch. That batch's activations grow
with the data (gigabytes for a list of millions of names), so this reads the training set in
chunks of CALIBRATION_ROWS and adds up each layer's input sums in float64 instead. A layer's input
depends on the layers before it, so the layers are calibrated in order, one pass each, with the
earlier ones already normalising by their exact full-set statistics, as in the single batch.
"""

from contextlib import contextmanager

import torch
from torch import nn

from villanueva.models.layers import BatchNorm1d

CALIBRATION_ROWS = 16_384  # examples per forward pass: tens of MB of activations, whatever the data


def batchnorm_layers(model: nn.Module) -> list[BatchNorm1d]:
    return [module for module in model.modules() if isinstance(module, BatchNorm1d)]


@torch.no_grad()
def calibrate_batchnorm(model: nn.Module, contexts: torch.Tensor, rows: int = CALIBRATION_ROWS) -> None:
    was_training = model.training
    model.eval()
    counts = []
    for norm in batchnorm_layers(model):
        with _input_moments(norm) as moments:
            for start in range(0, len(contexts), rows):
                model(contexts[start : start + rows])
        count, total, squares = moments
        mean = total / count
        # The biased variance first: the single batch normalises by it, so the next layers see
        # exactly what they would have seen there.
        norm.running_mean.copy_(mean)
        norm.running_var.copy_(squares / count - mean * mean)
        counts.append(count)
    for norm, count in zip(batchnorm_layers(model), counts):
        norm.running_var.mul_(count / (count - 1))  # stored as training stores it: unbiased
    model.train(was_training)


@contextmanager
def _input_moments(norm: BatchNorm1d):
    """While active, add up [values, sum, sum of squares] per channel of what reaches `norm`."""
    moments = [0, 0.0, 0.0]

    def collect(module, args):
        x = args[0].double().flatten(0, -2)  # every dimension but the channels
        moments[0] += len(x)
        moments[1] += x.sum(0)
        moments[2] += (x * x).sum(0)

    handle = norm.register_forward_pre_hook(collect)
    try:
        yield moments
    finally:
        handle.remove()
