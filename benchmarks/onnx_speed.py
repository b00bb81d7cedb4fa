"""Names from an exported model (ONNX Runtime) against the torch model, side by side in one run:
names/s sampled through the one numpy sampler, the model step run by ONNX Runtime or by torch, for
the bundled GRU (province-conditioned, labels from the prior), a default Transformer and an MLPv1
(`mlp-bn`), each trained here briefly so that names have realistic lengths. (What a fresh process
costs, with and without torch installed: benchmarks/light_install.py.)

    python benchmarks/onnx_speed.py [--runs 3] [--names 20000]

Each side samples once untimed first; the figures are medians of --runs.
"""

import tempfile
from pathlib import Path

from villanueva.data import DataOptions
from villanueva.experiment import train_run
from villanueva.inference import sample_names
from villanueva.inference.graphs import onnx_steps, torch_steps
from villanueva.runs import load_run
from villanueva.runs.run import EXPORT
from villanueva.training import resolve

from common import median, parser, row, setup, table, timed

TRAINED = {  # (model, steps): short trainings on the embedded list, for realistic name lengths
    "Transformer (default)": ("transformer", 800),
    "MLPv1 (mlp-bn)": ("mlp-bn", 600),
}


def rates(steps, run, names: int, runs: int) -> float:
    weights = run.label_weights()
    sample_names(steps, run.vocab, 1000, seed=0, label_weights=weights)  # untimed: warm-up
    seconds = [
        timed(sample_names, steps, run.vocab, names, seed=i, label_weights=weights)[1] for i in range(runs)
    ]
    return names / median(seconds)


def trained(tmp: Path, model: str, steps: int):
    out = tmp / model
    train_run(out, resolve(model, train_options={"steps": steps}), DataOptions())
    return load_run(out)


def main() -> None:
    options = parser(__doc__.splitlines()[0])
    options.add_argument("--names", type=int, default=20_000, help="names per timed sample (default 20,000)")
    args = options.parse_args()
    setup(args)
    with tempfile.TemporaryDirectory() as tmp:
        runs = {"bundled GRU (province-conditioned)": load_run(None)}
        runs |= {title: trained(Path(tmp), model, steps) for title, (model, steps) in TRAINED.items()}
        table(
            f"Names/s sampled, {args.names:,} names (median of {args.runs})",
            "model",
            "ONNX Runtime",
            "torch",
            "ratio",
        )
        for title, run in runs.items():
            onnx, torch_ = (
                rates(steps, run, args.names, args.runs)
                for steps in (onnx_steps(run.path / EXPORT), torch_steps(run.model))
            )
            row(title, f"{onnx:,.0f}", f"{torch_:,.0f}", f"{onnx / torch_:.2f}x")


if __name__ == "__main__":
    main()
