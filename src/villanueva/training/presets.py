"""Presets: a model, its options and its training settings under one name, for `train --preset`.

`best` is the best recipe found for the municipalities of Spain (docs/results.md has the table). Its
length is in epochs, so that a list of another size gets as many passes over its names: 19.7
epochs are 2,003 steps of 64 names on the municipalities' 6,507 training names. A preset can also
be a JSON file, as `villanueva tune --write-preset FILE` writes one.
Options given on the command line beside --preset win.
"""

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from villanueva.errors import UserError, unknown
from villanueva.training.config import TrainConfig


@dataclass(frozen=True)
class Preset:
    model: str
    model_options: dict = field(default_factory=dict)
    training: dict = field(default_factory=dict)  # changes to the model's fast recipe
    summary: str = ""

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data, source: str) -> "Preset":
        """A preset read from a file; a wrong shape or an unknown training setting is a UserError
        (the model's options are checked by the model's config when the run is resolved)."""
        known = {f.name for f in fields(TrainConfig)}
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("model"), str)
            or not all(isinstance(data.get(key, {}), dict) for key in ("model_options", "training"))
        ):
            raise UserError(f"{source} is not a preset: it needs a model name and two objects of settings")
        strange = sorted(set(data.get("training", {})) - known)
        if strange:
            raise UserError(f"{source}: no training setting {', '.join(strange)}")
        return cls(data["model"], data.get("model_options", {}), data.get("training", {}), source)


PRESETS = {
    # villanueva tune --model gru --timeout 30m --jobs 2 on the notebooks' split (60 CPU-minutes,
    # 22 trials): trial 14, val 1.5619, test 1.5660, in 110 s on 2 threads. The hand-made sweep's
    # best before it (benchmarks/sweep.py, now gone): hidden 256, dropout 0.3, lr 3e-3, 6,000 steps
    # of 32, val 1.5920 in 340 s. Weight decay 0.1 and a second layer are what the sweep lacked.
    "best": Preset(
        "gru",
        {"hidden": 201, "layers": 2, "dropout": 0.136},
        {"lr": 3.28e-3, "batch_size": 64, "weight_decay": 0.1, "epochs": 19.7},
        "GRU, 2 layers of 201, dropout 0.136, AdamW lr 3.28e-3, weight decay 0.1, 19.7 epochs of 64 names",
    ),
    # `best`, conditioned as docs/results.md found best: the province as an input vector and a
    # style table, each left out for 20% of the training names (what style strength needs).
    "regions": Preset(
        "gru",
        {"hidden": 201, "layers": 2, "dropout": 0.136, "label_dropout": 0.2, "style_table": True},
        {"lr": 3.28e-3, "batch_size": 64, "weight_decay": 0.1, "epochs": 19.7},
        "best, for a run conditioned on labels: label dropout 0.2 (for --style-strength) and a style table",
    ),
}


def preset(name: str) -> Preset:
    """The preset called `name`, or the one in the JSON file `name` (a name ending in .json)."""
    if name.endswith(".json"):
        return read_preset(Path(name))
    if name not in PRESETS:
        raise unknown("preset", name, PRESETS)
    return PRESETS[name]


def read_preset(path: Path) -> Preset:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"preset file {path} not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise UserError(f"cannot read the preset file {path}: {error}") from None
    except RecursionError:
        raise UserError(f"cannot read the preset file {path}: it is nested too deeply") from None
    return Preset.from_json(data, str(path))
