"""Diagnostics: look inside a model with hooks (activations, saturation, gradients), read the
curves the trainer recorded (loss, update:data ratios), judge what looks unhealthy, draw it all,
and find a learning rate. A consumer of runs, like inference."""

from villanueva.diagnostics.diagnose import Diagnosis, check_diagnosable, diagnose, diagnose_run, probe_run
from villanueva.diagnostics.lr_find import LRSweep, SweepRange, lr_sweep
from villanueva.diagnostics.snapshot import LayerStats, Snapshot, WeightStats, take_snapshot
from villanueva.diagnostics.verdicts import Verdict

__all__ = [
    "Diagnosis",
    "LRSweep",
    "LayerStats",
    "Snapshot",
    "SweepRange",
    "Verdict",
    "WeightStats",
    "check_diagnosable",
    "diagnose",
    "diagnose_run",
    "lr_sweep",
    "probe_run",
    "take_snapshot",
]
