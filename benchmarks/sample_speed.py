"""Sampling and scoring speed, side by side in one run:

1. the notebooks' one-name-at-a-time loops against villanueva's batched ones, on one trained MLPv1;
2. the whole-name models (the best GRU, the bundled model; the default Transformer): decoding by
   reading the whole prefix again at every step against incremental decoding (the GRU's state, the
   Transformer's keys and values carried from step to step), and scoring before and after
   scoring was batched by length;
3. constrained sampling with the bundled model, each kind of constraint against none: names/s,
   candidates drawn and the share of the budget used, and 100,000 names at edit distance 2 or more
   from every name of the embedded list.

    python benchmarks/sample_speed.py [--runs 3] [--device cuda] [--part notebook|whole-name|constraints]

Part 1 first trains an MLPv1 (`mlp-bn`, the notebooks' layout) with 600 AdamW steps of 1,024 (val
~1.81), so that names have realistic lengths; part 2 trains a default Transformer for 800 steps for
the same reason, and uses the bundled model as the best GRU (`--preset best`, conditioned on the
province, each name's province drawn from the prior). The sides of each line call the same model;
each side samples once untimed first.
"""

import tempfile
from pathlib import Path

import torch
import torch.nn.functional as F

from villanueva.data import DataOptions, load_corpus
from villanueva.data.tensors import IGNORED
from villanueva.experiment import train_run
from villanueva.inference import Constraints, Drawing, SampleReport, sample_names, score_names
from villanueva.inference.graphs import full_prefix_steps, torch_steps
from villanueva.inference.on_demand import sample_run
from villanueva.inference.score import cleaned_names
from villanueva.models.loss import batch_loss
from villanueva.runs import load_run
from villanueva.training import resolve

import notebook
from common import median, parser, setup, synchronize, timed

BASELINE_NAMES, BATCHED_NAMES = 500, 50_000
WHOLE_NAME_SAMPLES, LATENCY_NAMES = 20_000, 20


@torch.no_grad()
def score_one_at_a_time(model, vocab, names: list[str], device) -> list[float]:
    """The notebook way: one name's windows per forward pass."""
    losses = []
    for name in names:
        X, Y = notebook.build_dataset([name], vocab.index)
        losses.append(F.cross_entropy(model(X.to(device)), Y.to(device)).item())
    return losses


@torch.no_grad()
def score_in_given_order(model, vocab, names: list[str], label_ids: list[int] | None, per_pass: int = 4096):
    """Scoring before it was batched by length: every name cleaned and encoded alone, then passes
    of 4,096 names in the order given, each padded to the longest name of its pass."""
    for name in cleaned_names(names, vocab, False):
        vocab.encode(name)
    totals = []
    for start in range(0, len(names), per_pass):
        chunk = names[start : start + per_pass]
        labels = None if label_ids is None else label_ids[start : start + per_pass]
        inputs, targets = model.examples(chunk, vocab, labels)
        losses = batch_loss(model(inputs), targets, reduction="none")
        totals.append(losses[(targets != IGNORED).flatten()].sum())
    return totals


def rate(count: int, seconds: float) -> float:
    return count / seconds


def trained(tmp: Path, name: str, model: str, train_options: dict, args, device):
    settings = resolve(model, train_options=train_options)
    path = train_run(
        tmp / name, settings, DataOptions(data=str(args.data), column=args.column), device.type
    ).path
    return load_run(path, str(device))


def notebook_comparison(args, device, split, tmp: Path) -> float:
    """Part 1; returns villanueva's names/s on the MLPv1."""
    run = trained(tmp, "mlpv1", "mlp-bn", {"batch_size": 1024, "lr": 0.015, "steps": 600}, args, device)
    model, vocab, to_score = run.model, run.vocab, split.val + split.test
    print(f"\n## 1. The notebooks' loops against villanueva's, on {run.record.model}")
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
    return median(sampling["villanueva"])


def whole_name_models(args, device, tmp: Path, mlp_rate: float | None) -> None:
    bundled = load_run(None, str(device))
    transformer = trained(tmp, "transformer", "transformer", {"steps": 800}, args, device)
    embedded = load_corpus().names
    print("\n## 2. Whole-name models: the whole prefix at every step against incremental decoding")
    for title, run in (("best GRU (the bundled model)", bundled), ("default Transformer", transformer)):
        weights = run.label_weights()

        def sample(model, count: int, seed: int, vocab=run.vocab, weights=weights) -> list[str]:
            return sample_names(model, vocab, count, seed=seed, label_weights=weights)

        models = {"full prefix": full_prefix_steps(run.model), "incremental": torch_steps(run.model)}
        rates, latency = {way: [] for way in models}, {way: [] for way in models}
        for model in models.values():
            # Untimed: the first rounds of a process run several times slower (the allocator's
            # first large blocks), which would land on whichever side happens to go first.
            sample(model, WHOLE_NAME_SAMPLES, 0)
        for number in range(1, args.runs + 1):
            for way, model in models.items():
                names, seconds = timed(sample, model, WHOLE_NAME_SAMPLES, number)
                synchronize(device)
                rates[way].append(rate(len(names), seconds))
                _, seconds = timed(sample, model, LATENCY_NAMES, number)
                latency[way].append(1000 * seconds)
        before, after = median(rates["full prefix"]), median(rates["incremental"])
        print(
            f"{title}: sampling {before:,.0f} -> {after:,.0f} names/s ({after / before:.1f}x); "
            f"{LATENCY_NAMES} names in {median(latency['full prefix']):.1f} -> "
            f"{median(latency['incremental']):.1f} ms"
            + (f"; the MLPv1 samples {mlp_rate / after:.1f}x as fast" if mlp_rate else ""),
            flush=True,
        )
        scoring(title, run, embedded, args.runs)


def scoring(title: str, run, names: list[str], runs: int) -> None:
    """Scoring the embedded list, before and after; a conditioned run gives each name one label."""
    label_ids = [0] * len(names) if run.labels is not None else None
    weights = run.label_weights(run.labels.names[0]) if run.labels is not None else None
    before = [timed(score_in_given_order, run.model, run.vocab, names, label_ids)[1] for _ in range(runs)]
    after = [timed(score_names, run.model, run.vocab, names, False, weights)[1] for _ in range(runs)]
    given = " (one label each)" if label_ids is not None else ""
    b, a = rate(len(names), median(before)), rate(len(names), median(after))
    print(
        f"{title}: scoring the embedded list{given} {b:,.0f} -> {a:,.0f} names/s ({a / b:.1f}x)", flush=True
    )


CONSTRAINED = {  # what to ask for: names, constraints, how to draw them
    "no constraint": (20_000, Constraints(), Drawing()),
    "--top-p 0.9": (20_000, Constraints(), Drawing(top_p=0.9)),
    "--min-length 12 --max-length 25": (5_000, Constraints(min_length=12, max_length=25), Drawing()),
    "--starts-with vila --contains nova": (
        100,
        Constraints(starts_with="vila", contains=("nova",)),
        Drawing(),
    ),
    "--ends-with 'de la sierra' --min-length 12 --max-length 25": (
        100,
        Constraints(ends_with="de la sierra", min_length=12, max_length=25),
        Drawing(),
    ),
    "--new-only": (20_000, Constraints(new_only=True), Drawing()),
    "--new-only --min-distance 3": (5_000, Constraints(min_distance=3), Drawing()),
    "--min-distance 2 (100,000 names)": (100_000, Constraints(min_distance=2), Drawing()),
}


def constrained(args, device) -> None:
    run = load_run(None, str(device))
    print("\n## 3. Constrained sampling, the bundled model (medians; candidates and budget of the last run)")
    print("| constraints | names | names/s | candidates | budget used |\n|---|---:|---:|---:|---:|")
    for title, (count, constraints, drawing) in CONSTRAINED.items():
        seconds, report = [], SampleReport()
        for number in range(args.runs):
            report = SampleReport()
            batches = sample_run(run, count, constraints, drawing, seed=number, report=report)
            seconds.append(timed(lambda batches=batches: sum(map(len, batches)))[1])
        print(
            f"| `{title}` | {report.found:,} | {report.found / median(seconds):,.0f} | "
            f"{report.candidates:,} | {report.candidates / report.budget:.1%} |",
            flush=True,
        )


def main() -> None:
    options = parser(__doc__.splitlines()[0])
    options.add_argument(
        "--part", choices=("notebook", "whole-name", "constraints"), help="run one part only"
    )
    args = options.parse_args()
    device, split, _ = setup(args)
    with tempfile.TemporaryDirectory() as tmp:
        mlp_rate = None
        if args.part in (None, "notebook"):
            mlp_rate = notebook_comparison(args, device, split, Path(tmp))
        if args.part in (None, "whole-name"):
            whole_name_models(args, device, Path(tmp), mlp_rate)
        if args.part in (None, "constraints"):
            constrained(args, device)
    print(f"medians of {args.runs} runs")


if __name__ == "__main__":
    main()
