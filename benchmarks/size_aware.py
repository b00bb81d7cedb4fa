"""A list of another size: `--preset best` fixed in steps against the same preset in epochs (the
size-aware one), and optionally a tune's best trial, side by side on one list.

    python benchmarks/size_aware.py [--data benchmarks/data/plaatsen_nl.txt] [--study DB] [--out DIR]

The preset was found on the municipalities of Spain (6,507 training names), where its epochs are a
number of steps. "Fixed" trains the list for that many steps, which on a list of another size are
another number of epochs; "size-aware" keeps the epochs. Each run is `villanueva train` as a user
types it, on the list's own 80/10/10 split; --study adds the best trial of a `villanueva tune` of
the same list.
"""

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path

from villanueva.training import PRESETS

HERE = Path(__file__).resolve().parent
MUNICIPALITIES = 6_507  # training names of the split the preset was found on
BEST = PRESETS["best"].training
FIXED_STEPS = math.ceil(BEST["epochs"] * MUNICIPALITIES / BEST["batch_size"])
RUNS = {
    "fixed": (f"--preset best, fixed {FIXED_STEPS:,} steps", ["--steps", str(FIXED_STEPS)]),
    "size-aware": (f"--preset best, {BEST['epochs']:g} epochs (size-aware)", []),
}


def train(data: Path, options: list[str], out: Path) -> tuple[dict, float]:
    start = time.perf_counter()
    command = [sys.executable, "-m", "villanueva", "train", "--data", str(data), *options, "--quiet"]
    subprocess.run([*command, "--out", str(out)], check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "metrics.jsonl").read_text().splitlines()[-1]), time.perf_counter() - start


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--data", type=Path, default=HERE / "data" / "plaatsen_nl.txt")
    options.add_argument("--study", help="a tune's study.db of the same list, for its best trial")
    options.add_argument("--out", type=Path, default=Path("runs/size-aware"))
    args = options.parse_args()
    print("| recipe | steps | epochs | train | val | test | time |\n|---|---:|---:|---:|---:|---:|---:|")
    for name, (title, run_options) in RUNS.items():
        out = args.out / name
        final, seconds = train(args.data, ["--preset", "best", *run_options], out)
        config = json.loads((out / "config.json").read_text())
        train_names = len(json.loads((out / "split.json").read_text())["train"])
        epochs = final["steps"] * config["train"]["batch_size"] / train_names  # a gru's batch: names
        best = final["best"]
        print(
            f"| {title} | {final['steps']:,} | {epochs:.1f} | {best['train']:.4f} | **{best['val']:.4f}** | "
            f"{best['test']:.4f} | {seconds:.0f} s |",
            flush=True,
        )
    if args.study:
        from villanueva.report import study_url
        from villanueva.tune import load_study

        study = load_study(study_url(args.study))
        trial = study.best_trial
        states = [t.state.name for t in study.trials]
        print(
            f"| `tune`, best of {len(states)} trials ({states.count('PRUNED')} pruned): {trial.number} | "
            f"{trial.user_attrs['steps']:,} | {trial.params[trial.params['model'] + '.epochs']:.1f} | "
            f"{trial.user_attrs['train']:.4f} | **{trial.value:.4f}** | {trial.user_attrs['test']:.4f} | "
            f"{trial.user_attrs['seconds']:.0f} s (1 thr.) |"
        )


if __name__ == "__main__":
    main()
