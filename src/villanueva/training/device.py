"""Choosing the device to train and sample on. The CPU is the default; a GPU is never required."""

import os

import torch

from villanueva.errors import UserError, unknown

DEVICES = ("cpu", "cuda", "mps")


def resolve_device(name: str) -> torch.device:
    if name not in DEVICES:
        raise unknown("device", name, DEVICES)
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda: no CUDA GPU is available here; use --device cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise UserError("--device mps: Apple's MPS backend is not available here; use --device cpu")
    return torch.device(name)


def use_threads(threads: int | None = None) -> int:
    """Set and return the number of CPU threads torch uses for one operation.

    By default, one per core this process may run on. torch's own default counts the machine's
    physical cores, which in a container or under `taskset` can be more than the process is
    allowed, and oversubscribed threads slow small models down many times. OMP_NUM_THREADS, when
    set, is the user's choice and wins over the default.
    """
    if threads is not None and threads < 1:
        raise UserError(f"--threads must be positive, got {threads}")
    if threads is None and os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    allowed = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    torch.set_num_threads(threads or allowed or 1)
    return torch.get_num_threads()
