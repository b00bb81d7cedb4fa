"""The run directory stage: write a run while training, read it back for every consumer."""

from villanueva.runs.run import Run, RunWriter, load_run, read_checkpoint, read_metrics, read_run_setup

__all__ = ["Run", "RunWriter", "load_run", "read_checkpoint", "read_metrics", "read_run_setup"]
