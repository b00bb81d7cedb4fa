"""`villanueva reproduce`: train every row of the notebooks' table with the notebooks' recipes and
compare with their published validation losses.

`scale` shortens every recipe proportionally (steps, validation interval), so the whole table can
run in seconds as a test and in full (minutes to half an hour per row on 2 CPU cores) for the record.
"""

import os
import platform
import time
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from villanueva.data import DataOptions
from villanueva.errors import UserError
from villanueva.experiment import TrainedRun, train_run
from villanueva.runs import files
from villanueva.training import resolve
from villanueva.training.trainer import OnProgress


@dataclass(frozen=True)
class NotebookRow:
    label: str
    model: str
    published_val: float


NOTEBOOK_TABLE = (
    NotebookRow("bigram", "bigram", 2.29),
    NotebookRow("MLPv0", "mlp", 1.87),
    NotebookRow("MLPv1", "mlp-bn", 1.774),
    NotebookRow("MLPv3", "deep-mlp", 1.831),
    NotebookRow("WaveNet", "wavenet", 1.734),
)


def reproduce(
    out: Path,
    data: DataOptions,
    scale: float = 1.0,
    device: str = "cpu",
    models: list[str] | None = None,
    on_progress: OnProgress | None = None,
    on_row=lambda row, trained: None,
) -> str:
    """Train each row (or those of `models`) into `out/<model>`, write `out/results.md` and
    return its markdown."""
    if not 0 < scale <= 1:
        raise UserError(f"--scale must be in (0, 1], got {scale}")
    rows = _chosen_rows(models)
    out = files.make_folder(out, "out")
    if any(out.iterdir()):
        raise UserError(f"{out} already exists; choose a new `out`")
    results = []
    for row in rows:
        settings = resolve(row.model, "notebook")
        settings = replace(settings, train=_scaled(settings.train, scale))
        trained = train_run(out / row.model, settings, data, device, on_progress)
        results.append((row, trained))
        on_row(row, trained)
    table = results_markdown(results, data, _command(data, scale, models), device)
    files.write_text(out / "results.md", table)
    return table


def _chosen_rows(models: list[str] | None) -> list[NotebookRow]:
    known = [row.model for row in NOTEBOOK_TABLE]
    unknown = sorted(set(models or []) - set(known))
    if unknown:
        raise UserError(f"the notebooks' table has no {', '.join(unknown)} (it has: {', '.join(known)})")
    return [row for row in NOTEBOOK_TABLE if models is None or row.model in models]


def _scaled(config, scale: float):
    return replace(
        config,
        steps=max(1, round(config.steps * scale)),
        eval_every=max(1, round(config.validation_interval * scale)),
    )


def _command(data: DataOptions, scale: float, models: list[str] | None) -> str:
    options = {
        "--data": data.data,
        "--column": data.column,
        "--scale": f"{scale:g}" if scale != 1 else None,
        "--models": ",".join(models) if models else None,
    }
    return " ".join(
        ["villanueva reproduce"] + [f"{flag} {value}" for flag, value in options.items() if value is not None]
    )


def results_markdown(
    results: list[tuple[NotebookRow, TrainedRun]], data: DataOptions, command: str, device: str
) -> str:
    lines = [
        "# The notebooks' table, reproduced",
        "",
        f"Command: `{command}`  ",
        f"Data: {data.data or 'the embedded municipalities'}, seed-compatible split "
        f"(seed {data.split_seed}, 80/10/10)  ",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, device {device}, torch "
        f"{torch.__version__}, {torch.get_num_threads()} threads; {time.strftime('%Y-%m-%d')}",
        "",
        "Losses are mean NLL per character (nats). *best* = the checkpoint with the lowest "
        "validation loss (what villanueva keeps); *last* = after the final step (what the "
        "notebooks report).",
        "",
        "| notebook | model | parameters | steps | best at | train best | val best | test best "
        "| train last | val last | test last | time | notebooks' val |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row, trained in results:
        s = trained.result
        lines.append(
            f"| {row.label} | `{row.model}` | {s.parameters:,} | {s.steps:,} | {s.best_step:,} | "
            f"{s.best['train']:.4f} | **{s.best['val']:.4f}** | {s.best['test']:.4f} | "
            f"{s.last['train']:.4f} | {s.last['val']:.4f} | {s.last['test']:.4f} | "
            f"{s.seconds:.1f} s | {row.published_val} |"
        )
    return "\n".join(lines) + "\n"
