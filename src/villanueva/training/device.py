"""Choosing the device to train and sample on. The CPU is the default; a GPU is never required."""

import os
import time

import torch

from villanueva.errors import UserError, unknown

DEVICES = ("cpu", "cuda", "mps")


def resolve_device(name: str) -> torch.device:
    if name not in DEVICES:
        raise unknown("device", name, DEVICES)
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("`device` cuda: no CUDA GPU is available here; use `device` cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise UserError("`device` mps: Apple's MPS backend is not available here; use `device` cpu")
    return torch.device(name)


def use_threads(threads: int | None = None) -> int:
    """Set and return the number of CPU threads torch uses for one operation.

    By default, one per core this process may run on that is idle when it starts. torch's own
    default counts the machine's physical cores, which in a container or under `taskset` can be
    more than the process is allowed; and a thread on a core another process keeps busy waits for
    it at every operation (beside a busy training, 2 threads made a 3,000-step run 5.0 times slower
    and this default 1.9 times: benchmarks/busy_machine.py). The thread count does not change the
    numbers here (tests/test_hostile.py trains with 1 and 2 threads to the same bits).
    OMP_NUM_THREADS, when set, is the user's choice and wins over the default.
    """
    allowed = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()) or 1
    if threads is not None and not 1 <= threads <= allowed:
        # More threads than cores only fight over them (10,000 took 14 s to start; 10^6 crashed).
        raise UserError(
            f"--threads must be from 1 to {allowed} (the cores this process may use), got {threads}"
        )
    if threads is None and os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()
    torch.set_num_threads(threads or max(1, min(allowed, round(idle_cores()))))
    return torch.get_num_threads()


def idle_cores(seconds: float = 0.05) -> float:
    """How many cores' worth of the machine sat idle over `seconds` (/proc/stat; elsewhere: all)."""
    try:
        first = _cpu_times()
        time.sleep(seconds)
        second = _cpu_times()
    except (OSError, ValueError, IndexError):
        return float(os.cpu_count() or 1)
    busy, idle = (b - a for a, b in zip(first, second))
    cores = os.cpu_count() or 1
    return cores * idle / max(1, busy + idle)


def _cpu_times() -> tuple[int, int]:
    """(busy, idle) jiffies of all cores together, from the first line of /proc/stat."""
    with open("/proc/stat", encoding="ascii") as stat:
        values = [int(v) for v in stat.readline().split()[1:]]
    idle = values[3] + values[4]  # idle and iowait
    return sum(values) - idle, idle
