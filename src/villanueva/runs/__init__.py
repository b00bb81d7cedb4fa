"""The run directory stage: write a run while training, read it back for every consumer."""

from villanueva.runs.record import DataRecord, Machine, RunRecord, RunResult
from villanueva.runs.run import (
    Run,
    RunWriter,
    default_path,
    load_run,
    read_checkpoint,
    read_metrics,
    read_record,
    read_result,
    read_run_setup,
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
    "read_checkpoint",
    "read_metrics",
    "read_record",
    "read_result",
    "read_run_setup",
]
