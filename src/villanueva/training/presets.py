"""Presets: a model, its options and its training settings under one name, for `train --preset`.

`best` is the best recipe found for the municipalities of Spain: benchmarks/sweep.py trained the
candidates, docs/results.md has the table. Options given on the command line beside --preset win.
"""

from dataclasses import dataclass, field

from villanueva.errors import unknown


@dataclass(frozen=True)
class Preset:
    model: str
    model_options: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)  # changes to the model's fast recipe
    summary: str = ""


PRESETS = {
    # benchmarks/sweep.py, candidate gru-256-dropout-0.3-lr-3e-3: val 1.5920, test 1.5944 on the
    # notebooks' split in 596 s (1 thread, beside another training). lr 1e-2 blew up without
    # gradient clipping; with it, dropout 0.4 and lr 5e-3 reached 1.6155.
    "best": Preset(
        "gru",
        {"hidden": 256, "dropout": 0.3},
        {"lr": 3e-3},
        "GRU, state 256, dropout 0.3, AdamW lr 3e-3, 6,000 steps of 32 names",
    ),
}


def preset(name: str) -> Preset:
    if name not in PRESETS:
        raise unknown("preset", name, PRESETS)
    return PRESETS[name]
