"""What this process may use: its CPU threads, its memory, and PyTorch, which only training and the
tools around it need (sampling, scoring and guessing run an exported model on ONNX Runtime)."""

import importlib.util
import os
import sys
import time

from villanueva.errors import UserError, unknown

DEVICES = ("cpu", "cuda", "mps")

# What the [train] extra adds, as a user would name it.
TRAINING_MODULES = {"torch": "PyTorch", "matplotlib": "matplotlib", "onnx": "the onnx package"}
_threads: int | None = None  # the count chosen by use_threads, for torch and ONNX Runtime alike


def use_threads(threads: int | None = None) -> int:
    """Choose and return the number of CPU threads one operation may use, in torch and ONNX Runtime.

    By default, one per core this process may run on that is idle when it starts. torch's own
    default counts the machine's physical cores, which in a container or under `taskset` can be
    more than the process is allowed; and a thread on a core another process keeps busy waits for
    it at every operation (beside a busy training, 2 threads made a 3,000-step run 5.0 times slower
    and this default 1.9 times: benchmarks/busy_machine.py). The thread count does not change the
    weights (tests/test_hostile.py trains with 1 and 2 threads to the same bits), but a loss summed
    over many examples can differ in its last bits (tests/test_resume.py runs with one thread).
    OMP_NUM_THREADS, when the user set it, wins over the default.

    torch is not imported for this: when it is not loaded yet, it gets the count when a model's
    module is loaded (models/base.py calls `give_threads`), for whichever command loads it later.
    (Setting OMP_NUM_THREADS instead would leak the count into every child process as if the user
    had chosen it.)
    """
    global _threads
    allowed = (len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()) or 1
    if threads is not None and not 1 <= threads <= allowed:
        # More threads than cores only fight over them (10,000 took 14 s to start; 10^6 crashed).
        raise UserError(
            f"--threads must be from 1 to {allowed} (the cores this process may use), got {threads}"
        )
    users = os.environ.get("OMP_NUM_THREADS")
    if threads is None and users and users.isdigit() and int(users) > 0:
        threads = int(users)
    _threads = threads or max(1, min(allowed, round(idle_cores())))
    torch = sys.modules.get("torch")
    if torch is not None:
        give_threads(torch)
    return _threads


def give_threads(torch) -> None:
    """Set torch's thread count to the one use_threads chose, if it chose one."""
    if _threads is not None:
        torch.set_num_threads(_threads)


def chosen_threads() -> int:
    """The count use_threads chose (choosing it now if no command did)."""
    return _threads or use_threads()


def require_torch(what: str) -> None:
    """Refuse in one line, before anything starts, `what` (a command, a library call) that needs
    PyTorch on an install without it."""
    try:
        found = "torch" in sys.modules or importlib.util.find_spec("torch") is not None
    except ModuleNotFoundError:
        found = False
    if not found:
        raise needs_training(what)


def needs_training(what: str, module: str = "torch") -> UserError:
    """The error for `what` (a command, a library call) on an install without `module`, one of
    TRAINING_MODULES: the line that says how to add them."""
    return UserError(f"{what} needs {TRAINING_MODULES[module]}: pip install 'villanueva[train]'")


def check_device(name: str) -> str:
    """`name` if it names a device torch can run on (whether this machine has it is torch's to say)."""
    if name not in DEVICES:
        raise unknown("device", name, DEVICES)
    return name


def resolve_device(name: str):
    """The torch.device called `name`, once this machine is known to have it. torch is imported
    here, by the commands that run a torch model, not by those that sample an export."""
    check_device(name)
    import torch

    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("`device` cuda: no CUDA GPU is available here; use `device` cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise UserError("`device` mps: Apple's MPS backend is not available here; use `device` cpu")
    return torch.device(name)


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


def available_bytes() -> int:
    """The memory this process can still take: MemAvailable on Linux, else all physical memory."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")


def require_fits(needed: int, what: str) -> None:
    """Refuse, in one line, work estimated to need more memory than this machine has left: it would
    end in an allocator's traceback or the kernel's out-of-memory killer."""
    limit = available_bytes()
    if needed > limit:
        raise UserError(
            f"{what} needs about {_size(needed)} of memory, more than the {_size(limit)} available; "
            "choose smaller sizes"
        )


def _size(count: float) -> str:
    units = ("B", "KB", "MB", "GB", "TB", "PB")
    power = 0
    while count >= 1024 and power < len(units) - 1:
        count, power = count / 1024, power + 1
    return f"{count:,.1f} {units[power]}"
