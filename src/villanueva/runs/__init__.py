"""The run directory stage: write a run while training, read it back for every consumer.

Reading needs no torch (runs/run.py); building and loading a run's torch model does (runs/model.py)."""

from villanueva.runs.record import DataRecord, Machine, RunRecord, RunResult
from villanueva.runs.run import (
    Run,
    RunWriter,
    default_path,
    load_run,
    open_run,
    read_metrics,
    read_record,
    read_result,
    read_run,
)

__all__ = [
    "DataRecord",
    "Machine",
    "Run",
    "RunRecord",
    "RunResult",
    "RunWriter",
    "default_path",
    "load_run",
    "open_run",
    "read_metrics",
    "read_record",
    "read_result",
    "read_run",
]
