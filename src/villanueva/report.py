"""`villanueva report`: finished runs side by side in one markdown table — the model, what was
changed from its defaults, its size, its train / val / test loss and what training cost — read
from the runs' own records, so any set of runs, trained by any command, compares on one scale;
or the trials of a study of `villanueva tune`."""

import math
from pathlib import Path

from villanueva.errors import UserError
from villanueva.runs import RunRecord, RunResult, files, read_record, read_result
from villanueva.runs.run import check_new_file
from villanueva.training import changes


def read_finished(path: Path) -> tuple[RunRecord, RunResult]:
    """The record and result of the finished run at `path`."""
    record, result = read_record(path), read_result(path)
    if result is None:
        raise UserError(f"{path} has not finished training; finish it with: villanueva train --resume {path}")
    return record, result


def report(paths: list[Path]) -> str:
    """The markdown table of the runs at `paths`, best validation loss first."""
    if not paths:
        raise UserError("give at least one run directory")
    runs = sorted(((Path(path), *read_finished(path)) for path in paths), key=lambda run: run[2].best["val"])
    lines = [
        "| run | model | settings changed | parameters | steps | train | val | test | time |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for path, record, result in runs:
        machine = record.machine
        where = f"{machine.threads} thr." if machine.device == "cpu" and machine.threads else machine.device
        losses = result.best
        lines.append(
            f"| {path.name} | `{record.model}` | {changes(record.settings) or '—'} | "
            f"{result.parameters:,} | {result.steps:,} | {losses['train']:.4f} | "
            f"**{losses['val']:.4f}** | {losses['test']:.4f} | {result.seconds:.0f} s ({where}) |"
        )
    return "\n".join(lines) + "\n"


def write_report(path: Path, table: str, force: bool = False) -> None:
    """Write the table to a new file; an existing one only with `force`, and never a file inside a
    run directory (a report must not replace a run's own records)."""
    check_new_file(path, "out", force)
    files.write_text(path, table)  # a failure is a UserError naming the file


def is_study(path: str) -> bool:
    """Whether `report` was given a study (a database URL or an SQLite file) rather than runs."""
    return "://" in path or path.endswith(".db")


def study_url(path: str) -> str:
    return path if "://" in path else f"sqlite:///{Path(path).resolve()}"


def trials_table(study) -> str:
    """The study's trials as a markdown table, finished ones best validation loss first."""
    from villanueva.tune import trial_settings  # loads Optuna, which only a study needs

    def order(trial):
        values = trial.intermediate_values
        last = trial.value if trial.state.name == "COMPLETE" else values[max(values)] if values else math.inf
        return (trial.state.name != "COMPLETE", last)

    lines = [
        "| trial | state | val | test | model | settings | steps | time |",
        "|---:|---|---:|---:|---|---|---:|---:|",
    ]
    for trial in sorted(study.trials, key=order):
        if "model" not in trial.params:
            continue  # a trial that failed before it drew anything
        settings = trial_settings(trial)
        values, val = trial.intermediate_values, ""
        if trial.state.name == "COMPLETE":
            val = f"**{trial.value:.4f}**"
        elif values:  # where it stood when it was stopped
            val = f"({values[max(values)]:.4f} at {max(values)}/20)"
        test, steps = trial.user_attrs.get("test"), trial.user_attrs.get("steps")
        took = f"{trial.duration.total_seconds():.0f} s" if trial.duration else ""
        lines.append(
            f"| {trial.number} | {trial.state.name.lower()} | {val} | "
            f"{'' if test is None else f'{test:.4f}'} | `{settings.model}` | {changes(settings) or '—'} | "
            f"{'' if steps is None else f'{steps:,}'} | {took} |"
        )
    return "\n".join(lines) + "\n"
