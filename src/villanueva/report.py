"""`villanueva report`: finished runs side by side in one markdown table — the model, what was
changed from its defaults, its size, its train / val / test loss and what training cost — read
from the runs' own files, so any set of runs, trained by any command, compares on one scale."""

from dataclasses import asdict, dataclass
from pathlib import Path

from villanueva.errors import UserError
from villanueva.models import make_config
from villanueva.runs import read_metrics, read_run_setup
from villanueva.training import TrainConfig, recipe

NOT_SETTINGS = {"device", "eval_every"}  # how a run was done, not what it learned with


@dataclass
class RunRow:
    path: Path
    model: str
    changes: str  # model options and training settings that differ from the defaults
    parameters: int
    steps: int
    losses: dict[str, float]  # of the saved (best by validation) model
    seconds: float
    threads: int | None  # torch's CPU threads while training (None: not recorded)
    device: str


def read_row(path: Path) -> RunRow:
    setup = read_run_setup(Path(path))
    config, train_config = setup.config, setup.train_config
    final = next((record for record in reversed(read_metrics(path)) if record.get("final")), None)
    if final is None:
        raise UserError(f"{path} has not finished training; finish it with: "
                        f"villanueva train --resume {path}")
    return RunRow(Path(path), config["model"], _changes(config, train_config), final["parameters"],
                  final["steps"], final["best"], final["seconds"],
                  config.get("machine", {}).get("threads"), train_config.device)


def _changes(config: dict, train_config: TrainConfig) -> str:
    """The settings of this run that differ from its model's defaults and its recipe's."""
    recipe_name = config.get("recipe", "fast")
    model_defaults = asdict(make_config(config["model"]))
    train_defaults = asdict(recipe(config["model"], recipe_name))
    changed = [(key, value) for key, value in config["model_config"].items()
               if model_defaults.get(key) != value]
    changed += [(key, value) for key, value in asdict(train_config).items()
                if key not in NOT_SETTINGS and train_defaults.get(key) != value]
    recipe_flag = [] if recipe_name == "fast" else [f"--recipe {recipe_name}"]
    return " ".join(recipe_flag + [_flag(key, value) for key, value in changed])


def _flag(key: str, value) -> str:
    option = "--" + key.replace("_", "-")
    if isinstance(value, bool):
        return option if value else "--no-" + option[2:]
    return f"{option} {value:g}" if isinstance(value, float) else f"{option} {value}"


def report(paths: list[Path]) -> str:
    """The markdown table of the runs at `paths`, best validation loss first."""
    if not paths:
        raise UserError("give at least one run directory")
    rows = sorted((read_row(path) for path in paths), key=lambda row: row.losses["val"])
    lines = ["| run | model | settings changed | parameters | steps | train | val | test | time |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|"]
    for row in rows:
        where = row.device if row.threads is None or row.device != "cpu" else f"{row.threads} thr."
        lines.append(f"| {row.path.name} | `{row.model}` | {row.changes or '—'} | {row.parameters:,} | "
                     f"{row.steps:,} | {row.losses['train']:.4f} | **{row.losses['val']:.4f}** | "
                     f"{row.losses['test']:.4f} | {row.seconds:.0f} s ({where}) |")
    return "\n".join(lines) + "\n"
