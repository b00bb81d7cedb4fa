"""One look inside a model: a forward and a backward pass on one training batch, with hooks,
summarised per nonlinearity layer (activations, their gradients, saturation) and per weight
matrix (its gradient and the gradient's size relative to the weights)."""

import copy
from dataclasses import asdict, dataclass, field, replace

import torch
from torch import nn

from villanueva.data.tensors import IGNORED
from villanueva.diagnostics.hooks import Captured, capture
from villanueva.errors import UserError
from villanueva.inference.steps import NON_FINITE
from villanueva.models.loss import batch_loss

SATURATED = 0.97  # |tanh| above this counts as saturated: tanh' = 1 - t^2 < 0.06 there
SATURATION_MAP = 0.99  # the stricter cut of the saturation map and of dead neurons (tanh' < 0.02)
BINS = 50


@dataclass
class Histogram:
    edges: list[float]  # BINS + 1 bin edges
    counts: list[int]

    @classmethod
    def of(cls, values: torch.Tensor, low: float | None = None, high: float | None = None) -> "Histogram":
        """BINS bins from low to high; by default over mean +- 4 std (within the values' range), so
        that a few outliers do not squeeze the bulk of a gradient into one bin."""
        values = values.detach().float().flatten()
        mean, spread = values.mean().item(), 4 * values.std().nan_to_num().item()
        low = max(values.min().item(), mean - spread) if low is None else low
        high = min(values.max().item(), mean + spread) if high is None else high
        if low == high:  # a constant tensor: one bin around it
            low, high = low - 0.5, high + 0.5
        counts = torch.histc(values, BINS, low, high)
        return cls(torch.linspace(low, high, BINS + 1).tolist(), [int(c) for c in counts.tolist()])


@dataclass
class LayerStats:
    """One nonlinearity layer; `neurons` is its output's last dimension, every other dimension
    (examples, positions) counts as examples."""

    name: str
    kind: str
    neurons: int
    mean: float
    std: float
    saturated: float | None  # fraction of outputs in a flat region (|t| > 0.97 for tanh)
    dead: int | None  # neurons in a flat region (|t| > 0.99) for every example of the batch
    histogram: Histogram
    grad_mean: float | None  # of d(loss)/d(output); None when no gradient reached the layer
    grad_std: float | None
    grad_histogram: Histogram | None
    saturation_map: torch.Tensor | None = field(default=None, repr=False)  # examples x neurons

    def to_json(self) -> dict:
        data = asdict(replace(self, saturation_map=None))
        del data["saturation_map"]  # an image, drawn but not saved
        return data


@dataclass
class WeightStats:
    """One weight matrix (2-D parameter: the Linear layers and the embedding tables)."""

    name: str
    shape: list[int]
    data_std: float
    grad_mean: float | None
    grad_std: float | None
    grad_data_ratio: float | None  # std(grad) / std(weights): how hard a step of plain SGD pushes
    grad_histogram: Histogram | None


@dataclass
class Snapshot:
    loss: float
    layers: list[LayerStats]
    weights: list[WeightStats]

    def to_json(self) -> dict:
        return {
            "loss": self.loss,
            "layers": [layer.to_json() for layer in self.layers],
            "weights": [asdict(weight) for weight in self.weights],
        }


def take_snapshot(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor) -> Snapshot:
    """Statistics of one training step's forward and backward pass on (inputs, targets), taken in
    training mode (BatchNorm normalises with the batch, as in training) on a copy of `model`, so
    the model itself (its running statistics, its gradients) is left untouched."""
    probe = copy.deepcopy(model).train()
    with capture(probe) as captured:
        loss = batch_loss(probe(inputs), targets)
        if not loss.isfinite():  # weights too large for float32: nothing meaningful to plot
            raise UserError(NON_FINITE)
        loss.backward()
    scored = (targets != IGNORED).flatten()
    layers = [_layer_stats(entry, scored) for entry in captured]
    weights = [_weight_stats(name, p) for name, p in probe.named_parameters() if p.dim() == 2]
    return Snapshot(loss.item(), layers, weights)


def _rows(tensor: torch.Tensor, scored: torch.Tensor) -> torch.Tensor:
    """(rows, neurons) of a layer's output. A layer with one row per prediction (a window model's
    examples, a whole-name model's positions) keeps the rows the loss scores, padding dropped; one
    with several rows per example (WaveNet's pairs of the context) keeps them all."""
    rows = tensor.reshape(-1, tensor.shape[-1]).float()
    return rows[scored] if len(rows) == len(scored) else rows


def _layer_stats(entry: Captured, scored: torch.Tensor) -> LayerStats:
    out = _rows(entry.output, scored)
    saturated = dead = saturation_map = None
    if entry.kind.flat is not None:
        saturated = entry.kind.flat(out, SATURATED).float().mean().item()
        saturation_map = entry.kind.flat(out, SATURATION_MAP).cpu()
        dead = int(saturation_map.all(dim=0).sum())
    bounded = (-1.0, 1.0) if entry.kind.name == "tanh" else (None, None)
    grad = None if entry.grad is None else _rows(entry.grad, scored)
    return LayerStats(
        entry.name,
        entry.kind.name,
        out.shape[-1],
        out.mean().item(),
        out.std().item(),
        saturated,
        dead,
        Histogram.of(out, *bounded),
        *_grad_summary(grad),
        saturation_map,
    )


def _weight_stats(name: str, weight: nn.Parameter) -> WeightStats:
    data_std = weight.detach().float().std().item()
    grad_mean, grad_std, histogram = _grad_summary(weight.grad)
    ratio = grad_std / data_std if grad_std is not None and data_std > 0 else None
    return WeightStats(name, list(weight.shape), data_std, grad_mean, grad_std, ratio, histogram)


def _grad_summary(grad: torch.Tensor | None) -> tuple[float | None, float | None, Histogram | None]:
    if grad is None:
        return None, None, None
    grad = grad.float()
    return grad.mean().item(), grad.std().item(), Histogram.of(grad)
