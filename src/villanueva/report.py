"""`villanueva report`: finished runs side by side in one markdown table — the model, what was
changed from its defaults, its size, its train / val / test loss and what training cost — read
from the runs' own records, so any set of runs, trained by any command, compares on one scale."""

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
