"""What every model is, and checks shared by the model configs.

A model is a `torch.nn.Module` built as `Model(config, vocab_size)` from a dataclass config, of one
of two kinds:
- A window model has an attribute `block_size` (how many previous characters it reads) and maps
  contexts `(B, block_size)` of ids to next-character logits `(B, vocab_size)`.
- A whole-name model has `predicts_every_position = True`. It reads names `(B, T)` that begin with
  the start token and returns logits `(B, T, vocab_size)`, where position t predicts character
  t + 1 from positions 0..t only (causal), so one pass scores every character of a name. Its
  `max_length` is the longest name, in characters, it can read (None: any length).
A model with `fitted_by_counting = True` has a `fit(contexts, targets)` method and is fitted in one
pass instead of by gradient descent.
"""

from dataclasses import field

import torch
from torch import nn

from villanueva.errors import UserError


def predicts_every_position(model: nn.Module) -> bool:
    """Whether `model` is a whole-name model (see above) rather than a window model."""
    return getattr(model, "predicts_every_position", False)


def dropout_field(default: float):
    """The `dropout` option of the models that have one (one help text for the CLI)."""
    return field(default=default, metadata={
        "help": "probability of zeroing each activation while training; a regulariser against "
                "overfitting a short list (0 = off)"})


def require_probability(config, *names: str) -> None:
    """Reject a value outside [0, 1), naming the command-line option that sets it."""
    for name in names:
        value = getattr(config, name)
        if not 0 <= value < 1:
            raise UserError(f"--{name.replace('_', '-')} must be at least 0 and below 1, got {value}")


def require_positive(config, *names: str) -> None:
    """Reject a non-positive size, naming the command-line option that sets it."""
    for name in names:
        value = getattr(config, name)
        if value <= 0:
            raise UserError(f"--{name.replace('_', '-')} must be positive, got {value}")


def model_device(model: nn.Module) -> torch.device:
    """The device a model's weights (or, for a counted model, its buffers) live on."""
    return next(iter(model.state_dict().values())).device


def load_weights(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """model.load_state_dict(state), with a one-line UserError naming the first mismatch."""
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        # torch lists every problem on its own line after a header; the first one is enough.
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = lines[1] if len(lines) > 1 else (lines[0] if lines else "the shapes differ")
        raise UserError(f"{source} does not fit this model: {detail}") from None


def count_parameters(model: nn.Module) -> int:
    """Trainable parameters; for a counted model, the size of its table."""
    if getattr(model, "fitted_by_counting", False):
        return sum(buffer.numel() for buffer in model.buffers())
    return sum(p.numel() for p in model.parameters())
