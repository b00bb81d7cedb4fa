"""The base install (no PyTorch) against the full one ([train]), side by side in one run: the
installed size, the wall time of commands in a fresh process, and the Faker provider's first call
and calls per second.

    python benchmarks/light_install.py [--runs 5] [--keep DIR]

Two virtual environments are made from this checkout (`pip install .` and
`pip install torch==2.13.0 '.[train]'`, both with [faker]); sizes are of everything installed in
each, pip included. Times are medians of --runs fresh processes, start to exit, of the bundled model.
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import median, row, table

ROOT = Path(__file__).resolve().parents[1]
INSTALLS = {
    "base (`pip install villanueva`)": [str(ROOT) + "[faker]"],
    "full (`[train]`)": ["torch==2.13.0", str(ROOT) + "[train,faker]"],
}
COMMANDS = {
    "`villanueva --help`": ["-m", "villanueva", "--help"],
    "`villanueva sample -n 20`": ["-m", "villanueva", "sample", "-n", "20"],
    "`villanueva guess Zugarramurdi`": ["-m", "villanueva", "guess", "Zugarramurdi"],
}
FAKER_FIRST = """
import time
start = time.perf_counter()
from faker import Faker
from villanueva.faker import Municipalities
fake = Faker()
fake.add_provider(Municipalities)
fake.municipality()
print(time.perf_counter() - start)
"""
FAKER_RATE = """
import time
from faker import Faker
from villanueva.faker import Municipalities
fake = Faker()
fake.add_provider(Municipalities)
fake.municipality()
start = time.perf_counter()
for _ in range(20_000):
    fake.municipality()
print(20_000 / (time.perf_counter() - start))
"""


def make(directory: Path, packages: list[str]) -> Path:
    subprocess.run([sys.executable, "-m", "venv", str(directory)], check=True)
    python = directory / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", *packages], check=True, stderr=subprocess.DEVNULL
    )
    return python


def size_mb(directory: Path) -> float:
    return sum(f.stat().st_size for f in directory.rglob("*") if f.is_file() and not f.is_symlink()) / 1e6


def wall(python: Path, args: list[str], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([str(python), *args], check=True, capture_output=True, cwd=tempfile.gettempdir())
        times.append(time.perf_counter() - start)
    return median(times)


def printed(python: Path, code: str, runs: int) -> float:
    """The median of the number `code` prints, over `runs` fresh processes."""
    command = [str(python), "-c", code]
    return median(
        [
            float(subprocess.run(command, check=True, capture_output=True, text=True).stdout)
            for _ in range(runs)
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="make the environments here and keep them")
    args = parser.parse_args()
    where = args.keep or Path(tempfile.mkdtemp(prefix="villanueva-install-"))
    try:
        pythons = {
            name: make(where / f"env{i}", packages) for i, (name, packages) in enumerate(INSTALLS.items())
        }
        names = list(pythons)
        table("Installed size and start-up", "", *names, "full / base")
        sizes = [size_mb(python.parents[1]) for python in pythons.values()]
        row("installed (MB, pip included)", *(f"{s:,.0f}" for s in sizes), f"{sizes[1] / sizes[0]:.1f}x")
        for label, command in COMMANDS.items():
            seconds = [wall(python, command, args.runs) for python in pythons.values()]
            row(f"{label} (s)", *(f"{s:.2f}" for s in seconds), f"{seconds[1] / seconds[0]:.1f}x")
        first = [printed(python, FAKER_FIRST, args.runs) for python in pythons.values()]
        row("Faker: first call (s)", *(f"{s:.2f}" for s in first), f"{first[1] / first[0]:.1f}x")
        rate = [printed(python, FAKER_RATE, args.runs) for python in pythons.values()]
        row("Faker: calls/s after it", *(f"{r:,.0f}" for r in rate), f"{rate[1] / rate[0]:.2f}x")
    finally:
        if args.keep is None:
            shutil.rmtree(where, ignore_errors=True)


if __name__ == "__main__":
    main()
