"""The search for the best model on the notebooks' data: train each candidate and print a table.

    python benchmarks/sweep.py [--jobs 2] [--only NAME ...] [--out DIR]

Each candidate is a `villanueva train` command line (so the sweep uses nothing the CLI does not
offer), run in its own process with one thread; --jobs of them run at once. The table gives the
best validation loss, the train loss of that model (the gap is overfitting), the parameters and the
training time. Times are only comparable between candidates run with the same --jobs.
"""

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import NOTEBOOK_CSV

# name -> the options given to `villanueva train` after the data options
CANDIDATES = {
    # every model with its fast recipe: the table of docs/results.md
    "bigram": "--model bigram",
    "mlp": "--model mlp",
    "mlp-bn": "--model mlp-bn",
    "deep-mlp": "--model deep-mlp",
    "wavenet": "--model wavenet",
    "gru": "--model gru",
    "transformer": "--model transformer",
    # the search for --preset best
    "wavenet-16": "--model wavenet --block-size 16 --emb-dim 16 --hidden 128",
    "transformer-3-blocks-dropout-0.2": "--model transformer --dropout 0.2 --blocks 3",
    "gru-2-layers-no-clip": "--model gru --layers 2 --dropout 0.25 --grad-clip 0",
    "gru-256-dropout-0.3-no-clip": "--model gru --hidden 256 --dropout 0.3 --grad-clip 0",
    "gru-dropout-0.3": "--model gru --dropout 0.3 --steps 8000",
    "gru-256-dropout-0.3-lr-3e-3": "--model gru --hidden 256 --dropout 0.3 --lr 0.003",
    "gru-256-dropout-0.4-lr-5e-3": "--model gru --hidden 256 --dropout 0.4 --lr 0.005",
}


def run(name: str, options: str, out: Path) -> dict:
    run_dir = out / name
    command = [
        sys.executable,
        "-m",
        "villanueva",
        "train",
        "--data",
        str(NOTEBOOK_CSV),
        "--column",
        "Nom",
        "--out",
        str(run_dir),
        "--quiet",
        "--threads",
        "1",
        *options.split(),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode:
        return {"name": name, "error": result.stderr.strip().splitlines()[-1]}
    final = json.loads((run_dir / "metrics.jsonl").read_text().splitlines()[-1])
    return {"name": name, **final}


def row(result: dict) -> str:
    if "error" in result:
        return f"| {result['name']} | failed: {result['error']} | | | | |"
    best = result["best"]
    return (
        f"| {result['name']} | {best['val']:.4f} | {best['train']:.4f} | {best['test']:.4f} | "
        f"{result['parameters']:,} | {result['seconds']:.0f} s |"
    )


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--jobs", type=int, default=2)
    options.add_argument("--only", nargs="+", choices=list(CANDIDATES), metavar="NAME")
    options.add_argument("--out", type=Path, default=Path("runs/sweep"))
    args = options.parse_args()
    chosen = {name: CANDIDATES[name] for name in args.only or CANDIDATES}
    print("| candidate | val | train | test | parameters | time |\n|---|---:|---:|---:|---:|---:|")
    with ThreadPoolExecutor(args.jobs) as pool:
        for result in pool.map(lambda item: run(*item, args.out), chosen.items()):
            print(row(result), flush=True)
    for name, command in chosen.items():
        print(f"{name}: villanueva train {command}")


if __name__ == "__main__":
    main()
