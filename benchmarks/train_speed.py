"""Training speed: the notebooks' MLPv1 loop against villanueva's fast recipe, side by side.

    python benchmarks/train_speed.py [--runs 3] [--device cuda] [--threads N]

The baseline is the notebook's code (benchmarks/notebook.py): 200,000 SGD steps of 64 examples.
villanueva trains an MLPv1-sized model (the same layers: embedding, one Linear -> BatchNorm -> tanh
layer, output Linear; 18,519 parameters against MLPv1's 18,619) with a context of 6 characters
instead of 3, AdamW, batches of 1,024 and a cosine decay, through `train_run`, exactly what
`villanueva train` does (run directory, final evaluation and samples included). The runs alternate,
so both sides see the same machine. It also trains the exact MLPv1 layout with the fast recipe once,
to show what the wider context is worth.
"""

import tempfile
from pathlib import Path

from villanueva.data import DataOptions
from villanueva.experiment import train_run
from villanueva.training import resolve

import notebook
from common import median, parser, setup, synchronize, timed

TARGET_VAL, TARGET_SPEEDUP = 1.774, 20
FAST_MODEL = {"block_size": 6, "hidden": 200}
FAST_RECIPE = {"batch_size": 1024, "lr": 0.015, "steps": 600}


def baseline(split, vocab, device, steps: int) -> tuple[float, float]:
    """(seconds, val loss) of the notebook's MLPv1 code, dataset building included."""

    def run():
        Xtr, Ytr = (t.to(device) for t in notebook.build_dataset(split.train, vocab.index))
        params = notebook.init_parameters(len(vocab), device)
        notebook.train(params, Xtr, Ytr, steps)
        synchronize(device)
        return params

    params, seconds = timed(run)
    Xva, Yva = (t.to(device) for t in notebook.build_dataset(split.val, vocab.index))
    return seconds, notebook.split_loss(params, Xva, Yva)


def villanueva(args, device, model_options: dict) -> tuple[float, float]:
    """(seconds, val loss of the saved model) of one `villanueva train` run."""
    settings = resolve("mlp-bn", train_options=FAST_RECIPE, model_options=model_options)
    data = DataOptions(data=str(args.data), column=args.column)
    with tempfile.TemporaryDirectory() as tmp:
        trained, seconds = timed(train_run, Path(tmp) / "run", settings, data, device.type)
    return seconds, trained.result.best["val"]


def main() -> None:
    options = parser(__doc__.splitlines()[0])
    options.add_argument(
        "--baseline-steps",
        type=int,
        default=notebook.STEPS,
        help="shorten the baseline for a quick look (default 200,000: the real one)",
    )
    args = options.parse_args()
    device, split, vocab = setup(args)
    print(f"baseline: notebook MLPv1 loop, {args.baseline_steps:,} SGD steps of {notebook.BATCH_SIZE}")
    print(f"villanueva: mlp-bn {FAST_MODEL}, AdamW {FAST_RECIPE}")
    base, fast = [], []
    for run in range(1, args.runs + 1):
        base.append(baseline(split, vocab, device, args.baseline_steps))
        print(f"run {run}: baseline   {base[-1][0]:7.1f} s, val {base[-1][1]:.4f}", flush=True)
        fast.append(villanueva(args, device, FAST_MODEL))
        print(f"run {run}: villanueva {fast[-1][0]:7.1f} s, val {fast[-1][1]:.4f}", flush=True)
    seconds, val = villanueva(args, device, {})
    print(
        f"for comparison, the exact MLPv1 layout (context 3) with the same recipe: "
        f"{seconds:.1f} s, val {val:.4f}"
    )
    base_s, fast_s = median([s for s, _ in base]), median([s for s, _ in fast])
    fast_val = max(v for _, v in fast)
    met = fast_val <= TARGET_VAL and base_s / fast_s >= TARGET_SPEEDUP
    print(
        f"goal (val <= {TARGET_VAL} in <= 1/{TARGET_SPEEDUP} of the baseline's time): "
        f"{'met' if met else 'NOT met'}"
    )
    print(
        f"speedup {base_s / fast_s:.1f}x (baseline {base_s:.1f} s, villanueva {fast_s:.1f} s, "
        f"val {fast_val:.3f}; medians of {args.runs} runs, baseline val "
        f"{median([v for _, v in base]):.3f})"
    )


if __name__ == "__main__":
    main()
