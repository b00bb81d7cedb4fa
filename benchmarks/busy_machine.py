"""A shared machine: how much slower villanueva gets when another process keeps the CPU busy,
with a fixed 2 threads (the previous default) and with the default (one thread per core idle at
start), side by side in one run.

    python benchmarks/busy_machine.py [--runs 3]

Each command runs as a user types it, in its own process, timed from start to exit: a 3,000-step
`train` of the default mlp and `sample -n 100000` of its run. The neighbour is another villanueva
training with 2 threads (what the previous default started); "alone" has no neighbour.
"""

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

VILLANUEVA = [sys.executable, "-m", "villanueva"]


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--runs", type=int, default=3)
    args = options.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        subprocess.run(
            [*VILLANUEVA, "train", "--steps", "300", "--quiet", "--out", str(tmp / "run")],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        commands = {
            "train 3,000 steps": lambda number, threads: [
                *VILLANUEVA,
                "train",
                "--steps",
                "3000",
                "--quiet",
                "--out",
                str(tmp / f"t{number}{threads}{time.time_ns()}"),
                *threads,
            ],
            "sample 100,000": lambda number, threads: [
                *VILLANUEVA,
                "sample",
                str(tmp / "run"),
                "-n",
                "100000",
                "--seed",
                "1",
                *threads,
            ],
        }
        ways = {"2 threads (previous default)": ["--threads", "2"], "default (idle cores)": []}
        results = {}
        for neighbour in ("alone", "beside a 2-thread training"):
            busy = None
            if neighbour != "alone":
                busy = subprocess.Popen(
                    [
                        *VILLANUEVA,
                        "train",
                        "--steps",
                        "100000000",
                        "--quiet",
                        "--threads",
                        "2",
                        "--out",
                        str(tmp / "busy"),
                    ],
                    stdout=subprocess.DEVNULL,
                )
                time.sleep(8)  # past its start-up, into its training loop
            try:
                for title, command in commands.items():
                    for way, threads in ways.items():
                        times = [timed(command(number, threads)) for number in range(args.runs)]
                        results[neighbour, title, way] = statistics.median(times)
                        print(
                            f"{neighbour}: {title}, {way}: {results[neighbour, title, way]:.1f} s", flush=True
                        )
            finally:
                if busy is not None:
                    busy.kill()
                    busy.wait()
    print("\n| command | threads | alone | beside a busy training | slower by |\n|---|---|---:|---:|---:|")
    for title in commands:
        for way in ways:
            alone, busy = results["alone", title, way], results["beside a 2-thread training", title, way]
            print(f"| {title} | {way} | {alone:.1f} s | {busy:.1f} s | {busy / alone:.1f}x |")
    print(f"medians of {args.runs} runs; each time includes starting Python and importing torch (about 4 s)")


if __name__ == "__main__":
    main()
