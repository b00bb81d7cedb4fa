"""Find a model's nonlinearity layers and catch what flows through them, with hooks.

While `capture` is active, a forward hook on each nonlinearity module keeps its output, and a hook
on that output tensor keeps the gradient that reaches it in the backward pass. Nothing is stored
on the layers and no hook exists outside `capture`, so being diagnosable costs a model nothing.
Any model works whose nonlinearities are modules; `torch.tanh(x)` called inline is invisible.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from villanueva.models.layers import Tanh

FlatTest = Callable[[torch.Tensor, float], torch.Tensor]


def _tanh_flat(output: torch.Tensor, threshold: float) -> torch.Tensor:
    return output.abs() > threshold  # the tails, where tanh' = 1 - t^2 is nearly 0


def _sigmoid_flat(output: torch.Tensor, threshold: float) -> torch.Tensor:
    return (2 * output - 1).abs() > threshold  # sigmoid(x) = (1 + tanh(x / 2)) / 2


def _relu_flat(output: torch.Tensor, threshold: float) -> torch.Tensor:
    return output <= 0  # the off side, where the gradient is exactly 0


@dataclass(frozen=True)
class Kind:
    name: str
    flat: FlatTest | None  # where the unit is saturated (no gradient); None: no flat region


NONLINEARITIES: dict[type, Kind] = {
    Tanh: Kind("tanh", _tanh_flat),
    nn.Tanh: Kind("tanh", _tanh_flat),
    nn.Sigmoid: Kind("sigmoid", _sigmoid_flat),
    nn.ReLU: Kind("relu", _relu_flat),
    nn.GELU: Kind("gelu", None),
    nn.SiLU: Kind("silu", None),
    nn.ELU: Kind("elu", None),
    nn.LeakyReLU: Kind("leaky-relu", None),
}


def kind_of(module: nn.Module) -> Kind | None:
    return next((kind for cls, kind in NONLINEARITIES.items() if isinstance(module, cls)), None)


def nonlinearity_layers(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """(name, module) of every nonlinearity module, in the order the model defines them."""
    return [(name, module) for name, module in model.named_modules() if kind_of(module)]


@dataclass
class Captured:
    name: str
    kind: Kind
    output: torch.Tensor
    grad: torch.Tensor | None = None  # d(loss)/d(output), once backward has run


@contextmanager
def capture(model: nn.Module) -> Iterator[list[Captured]]:
    """Yield a list that fills, in call order, with the output of every nonlinearity layer of each
    forward pass (and its gradient after `backward`)."""
    captured: list[Captured] = []

    def keeper(name: str, kind: Kind):
        def keep(module, inputs, output):
            entry = Captured(name, kind, output.detach())
            if output.requires_grad:
                output.register_hook(lambda grad: setattr(entry, "grad", grad.detach()))
            captured.append(entry)

        return keep

    handles = [
        module.register_forward_hook(keeper(name, kind_of(module)))
        for name, module in nonlinearity_layers(model)
    ]
    try:
        yield captured
    finally:
        for handle in handles:
            handle.remove()
