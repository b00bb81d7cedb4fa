"""What every benchmark shares: the machine line, the data, medians and the command-line options.

Benchmarks print figures; they are never tests. Run them alone: two PyTorch processes on a small
machine slow each other down by far more than the differences being measured.
"""

import argparse
import importlib
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from villanueva.data import Split, Vocab, load_corpus, split_names
from villanueva.machine import resolve_device

NOTEBOOK_CSV = Path(__file__).resolve().parents[1] / "tests" / "data" / "Municipis_d_Espanya.csv"


def parser(description: str) -> argparse.ArgumentParser:
    options = argparse.ArgumentParser(description=description)
    options.add_argument("--runs", type=int, default=3, help="repetitions of each side (default 3)")
    options.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    options.add_argument("--threads", type=int, help="torch CPU threads (default: torch's choice)")
    options.add_argument(
        "--data",
        type=Path,
        default=NOTEBOOK_CSV,
        help="names file or CSV (default: the notebooks' Municipis_d_Espanya.csv)",
    )
    options.add_argument("--column", default="Nom", help="CSV column of names (default Nom)")
    return options


def setup(args) -> tuple[torch.device, Split, Vocab]:
    """Apply --threads, print the machine line, load the seed-compatible split."""
    if args.threads:
        torch.set_num_threads(args.threads)
    # torch's first optimizer imports torch._dynamo (about 2 s here): a one-off cost of a process,
    # paid before any timing so that it does not land on whichever run happens to be first.
    # (import_module: an `import torch._dynamo` here would make `torch` a local name of setup.)
    importlib.import_module("torch._dynamo")
    device = resolve_device(args.device)
    print(machine_line(device))
    corpus = load_corpus(str(args.data), args.column if args.data.suffix == ".csv" else None)
    return device, split_names(corpus.names), Vocab.from_names(corpus.names)


def machine_line(device: torch.device) -> str:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gpu = f", {torch.cuda.get_device_name()}" if device.type == "cuda" else ""
    return (
        f"machine: {platform.processor() or platform.machine()}, {cores} CPU cores, "
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, device {device}{gpu}, "
        f"python {sys.version.split()[0]}, {time.strftime('%Y-%m-%d %H:%M')}"
    )


def median(values: list[float]) -> float:
    return statistics.median(values)


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def timed(function, *args, **kwargs):
    """(result, seconds) of one call."""
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - start


def table(title: str, *columns: str) -> None:
    """Print a markdown table's title and header: the first column left-aligned, the rest right."""
    print(f"\n## {title}")
    print(f"| {' | '.join(columns)} |\n|---|{'---:|' * (len(columns) - 1)}")


def row(*cells: str) -> None:
    print(f"| {' | '.join(cells)} |")
