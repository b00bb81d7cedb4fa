"""A model's weights: where they live, and a state checked before it is loaded into a model."""

import torch
from torch import nn

from villanueva.errors import UserError


def model_device(model: nn.Module) -> torch.device:
    """The device a model's weights (or, for a counted model, its buffers) live on."""
    return next(iter(model.state_dict().values())).device


def load_weights(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """model.load_state_dict(state), once `check_state` has found nothing wrong with it."""
    check_state(model, state, source)
    model.load_state_dict(state)


_MISFIT = "does not fit the model that its run's config.json and vocab.json describe"


def check_state(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """A one-line UserError for the first tensor of `state` that `model` cannot take as it is:
    a missing or extra name, another shape, another dtype (load_state_dict would cast it silently:
    integer weights load as a near-uniform model), or NaN and infinite values."""
    expected = model.state_dict()
    names = sorted(set(expected) ^ set(state))
    if names:
        where = "missing from it" if names[0] in expected else "not in the model"
        raise UserError(f"{source} {_MISFIT}: {names[0]!r} is {where}")
    for name, tensor in state.items():
        want = expected[name]
        if tensor.shape != want.shape or tensor.dtype != want.dtype:
            raise UserError(
                f"{source} {_MISFIT}: {name!r} is {_described(tensor)} where the model has {_described(want)}"
            )
        if tensor.is_floating_point() and not tensor.isfinite().all():
            raise UserError(f"{source} is damaged: its {name!r} holds NaN or infinite values")


def _described(tensor: torch.Tensor) -> str:
    return f"{str(tensor.dtype).removeprefix('torch.')} {tuple(tensor.shape)}"
