"""Sampling and scoring speed: the notebooks' one-name-at-a-time loops against villanueva's batched
ones, on the same trained MLPv1, side by side.

    python benchmarks/sample_speed.py [--runs 3] [--device cuda] [--run RUN]

Without --run it first trains an MLPv1 (`mlp-bn`, the notebooks' layout) with 600 AdamW steps of
1,024 (val ~1.81), so that names have realistic lengths. Both sides call the same model's forward
pass; they differ only in how they drive it: the notebook builds one name at a time, one character
per Python-loop iteration, and scores one name per forward pass; villanueva grows every name of a
batch at once and scores all names in one pass.
"""

import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

from villanueva.data import DataOptions
from villanueva.experiment import train_run
from villanueva.inference import sample_names, score_names
from villanueva.runs import load_run
from villanueva.training import resolve

import notebook
from common import median, parser, setup, synchronize, timed

BASELINE_NAMES, BATCHED_NAMES = 500, 50_000


@torch.no_grad()
def score_one_at_a_time(model, vocab, names: list[str], device) -> list[float]:
    """The notebook way: one name's windows per forward pass."""
    losses = []
    for name in names:
        X, Y = notebook.build_dataset([name], vocab.index)
        losses.append(F.cross_entropy(model(X.to(device)), Y.to(device)).item())
    return losses


def trained_run(args, device, tmp: Path) -> Path:
    settings = resolve("mlp-bn", train_options={"batch_size": 1024, "lr": 0.015, "steps": 600})
    return train_run(tmp / "mlpv1", settings, DataOptions(str(args.data), args.column), device.type).path


def rate(count: int, seconds: float) -> float:
    return count / seconds


def main() -> None:
    options = parser(__doc__.splitlines()[0])
    options.add_argument("--run", type=Path, help="use this trained run instead of training an MLPv1")
    args = options.parse_args()
    device, split, vocab = setup(args)
    with tempfile.TemporaryDirectory() as tmp:
        run = load_run(args.run or trained_run(args, device, Path(tmp)), str(device))
    model, to_score = run.model.eval(), split.val + split.test
    print(f"model: {run.record.model} {run.record.settings.model_config}")
    sampling = {"baseline": [], "villanueva": []}
    scoring = {"baseline": [], "villanueva": []}
    for number in range(1, args.runs + 1):
        _, seconds = timed(notebook.sample_one_at_a_time, model, BASELINE_NAMES, model.block_size, device)
        sampling["baseline"].append(rate(BASELINE_NAMES, seconds))
        _, seconds = timed(sample_names, model, vocab, BATCHED_NAMES, seed=number)
        synchronize(device)
        sampling["villanueva"].append(rate(BATCHED_NAMES, seconds))
        _, seconds = timed(score_one_at_a_time, model, vocab, to_score, device)
        scoring["baseline"].append(rate(len(to_score), seconds))
        _, seconds = timed(score_names, model, vocab, to_score)
        scoring["villanueva"].append(rate(len(to_score), seconds))
        print(
            f"run {number}: sampling {sampling['baseline'][-1]:,.0f} vs {sampling['villanueva'][-1]:,.0f} "
            f"names/s; scoring {scoring['baseline'][-1]:,.0f} vs {scoring['villanueva'][-1]:,.0f} "
            f"names/s (baseline vs villanueva)",
            flush=True,
        )
    for task, rates in (("scoring", scoring), ("sampling", sampling)):
        base, fast = median(rates["baseline"]), median(rates["villanueva"])
        print(
            f"{task} speedup {fast / base:.1f}x (baseline {base:,.0f} names/s, villanueva "
            f"{fast:,.0f} names/s; medians of {args.runs} runs)"
        )


if __name__ == "__main__":
    main()
