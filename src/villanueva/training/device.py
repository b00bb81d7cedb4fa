"""Choosing the device to train and sample on. The CPU is the default; a GPU is never required."""

import torch

from villanueva.errors import UserError
from villanueva.machine import check_device


def resolve_device(name: str) -> torch.device:
    check_device(name)
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("`device` cuda: no CUDA GPU is available here; use `device` cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise UserError("`device` mps: Apple's MPS backend is not available here; use `device` cpu")
    return torch.device(name)
