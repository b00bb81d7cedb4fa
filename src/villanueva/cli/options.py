"""Option groups that several commands share, and the parser every command uses.

Training settings and model options are generated from the fields of `TrainConfig` and of the
registered models' configs, so a new setting or model needs no code here. Their values land in
`args` as `train_<field>` and `model_<field>`, None when not given, so the settings resolver can
tell what the user chose from what the recipe, the preset and the defaults decide.
"""

import argparse
import shlex
from dataclasses import fields
from pathlib import Path

from villanueva.data import DataOptions
from villanueva.data.labels import EMBEDDED_LABELS
from villanueva.errors import UserError, option
from villanueva.models import MODELS
from villanueva.training import DEFAULT_MODEL, TrainConfig, recipe
from villanueva.training.settings import is_option, setting_text


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr (exit 2), like every other mistake."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def add_threads_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--threads",
        type=int,
        metavar="N",
        help="CPU threads for torch (default: "
        "one per core this process may use, or OMP_NUM_THREADS when set)",
    )


def add_device_option(group) -> argparse.Action:
    return group.add_argument("--device", default="cpu", metavar="NAME", help="cpu (default), cuda or mps")


BUNDLED_HELP = "run directory (default: the bundled model, conditioned on the province)"


def add_run_arguments(parser: argparse.ArgumentParser, bundled: bool = False) -> None:
    """RUN and --device, for the commands that read a trained run; with `bundled`, RUN is optional
    and defaults to the bundled model."""
    if bundled:
        parser.add_argument("run", type=Path, metavar="RUN", nargs="?", help=BUNDLED_HELP)
    else:
        parser.add_argument("run", type=Path, metavar="RUN", help="run directory")
    add_device_option(parser)


def add_run_option(parser: argparse.ArgumentParser) -> None:
    """--run and --device, for the commands whose arguments are names (score, guess)."""
    parser.add_argument("--run", type=Path, metavar="RUN", help=BUNDLED_HELP)
    add_device_option(parser)


def add_label_option(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--label",
        metavar="NAME",
        help=f"{what} in the style of one label of a conditioned run: a province (Girona) or a "
        "community (Galicia); accents and case do not matter",
    )


def add_model_choice(group) -> argparse.Action:
    return group.add_argument(
        "--model", choices=list(MODELS), metavar="NAME", help=f"{', '.join(MODELS)} (default {DEFAULT_MODEL})"
    )


def add_recipe_choice(group, help: str) -> argparse.Action:
    return group.add_argument("--recipe", metavar="NAME", help=help)


def add_data_options(group) -> list[argparse.Action]:
    return [
        group.add_argument(
            "--data",
            metavar="FILE",
            help="names file, one per line, or a CSV with "
            "--column (default: the embedded list of Spanish municipalities)",
        ),
        group.add_argument("--column", help="the CSV column that holds the names"),
        group.add_argument(
            "--keep-accents",
            action="store_true",
            default=None,  # None: not given
            help="keep accents and ñ instead of transliterating to ASCII",
        ),
        group.add_argument(
            "--split-seed",
            type=int,
            metavar="N",
            help="seed of the 80/10/10 split (default 42, the notebooks' split)",
        ),
        group.add_argument(
            "--condition",
            choices=EMBEDDED_LABELS,
            help="learn names by label, to sample or guess them: the embedded list's province or "
            "community (default model: gru)",
        ),
        group.add_argument(
            "--label-column",
            metavar="NAME",
            help="with --data FILE.csv: learn names by the labels in this column, as --condition does",
        ),
    ]


def data_options(args) -> DataOptions:
    if args.condition is not None and args.data is not None:
        raise UserError(
            "--condition labels the embedded list; for --data, name the column of labels with --label-column"
        )
    if args.label_column is not None and args.data is None:
        raise UserError("--label-column needs --data FILE.csv (the embedded list: --condition province)")
    given = {
        "path": args.data,
        "column": args.column,
        "keep_accents": args.keep_accents,
        "split_seed": args.split_seed,
        "label": args.condition or args.label_column,
    }
    return DataOptions(**{key: value for key, value in given.items() if value is not None})


def data_arguments(data: DataOptions) -> str:
    """The data options that give `data` (the inverse of data_options), for a command to print."""
    default, given = DataOptions(), []
    if data.path is not None:
        given += ["--data", shlex.quote(str(data.path))]
    if data.column is not None:
        given += ["--column", shlex.quote(data.column)]
    if data.keep_accents:
        given.append("--keep-accents")
    if data.split_seed != default.split_seed:
        given += ["--split-seed", str(data.split_seed)]
    if data.label is not None:
        given += ["--label-column" if data.path else "--condition", shlex.quote(data.label)]
    return " ".join(given)


def add_training_options(group, only: tuple[str, ...] | None = None) -> list[argparse.Action]:
    """One option per command-line field of TrainConfig (or of those named in `only`)."""
    chosen = [f for f in fields(TrainConfig) if is_option(f) and (only is None or f.name in only)]
    return [
        group.add_argument(
            option(f.name),
            dest=f"train_{f.name}",
            metavar=f.metadata["metavar"],
            **_value_kind(f),
            help=f"{f.metadata['help']} ({_recipe_defaults(f.name)})",
        )
        for f in chosen
    ]


def training_options(args) -> dict:
    return _prefixed(args, "train_")


def add_model_options(group) -> list[argparse.Action]:
    """One option per field of the registered models' configs, so a new model needs no CLI code."""
    defaults: dict[str, dict[str, object]] = {}  # option -> {model: its default}
    described = {}
    for model, spec in MODELS.items():
        for field in fields(spec.config):
            defaults.setdefault(field.name, {})[model] = field.default
            if field.name not in described or "help" in field.metadata:
                described[field.name] = field  # subclasses that only change a default have no help
    return [
        group.add_argument(
            option(name),
            dest=f"model_{name}",
            choices=field.metadata.get("choices"),
            metavar=None if field.type is bool else name.upper(),
            **_value_kind(field),
            help=f"{field.metadata.get('help', name)} ({_model_defaults(defaults[name])})",
        )
        for name, field in described.items()
    ]


def model_options(args) -> dict:
    return _prefixed(args, "model_")


def _prefixed(args, prefix: str) -> dict:
    return {key.removeprefix(prefix): value for key, value in vars(args).items() if key.startswith(prefix)}


def _value_kind(field) -> dict:
    if field.type is bool:
        return {"action": argparse.BooleanOptionalAction}
    return {"type": field.type}


def _model_defaults(defaults: dict[str, object]) -> str:
    values = set(map(str, defaults.values()))
    if len(values) == 1:
        return f"{', '.join(defaults)}; default {values.pop()}"
    return "default " + ", ".join(f"{model} {value}" for model, value in defaults.items())


def _recipe_defaults(name: str) -> str:
    """ "fast recipe: 256; gru, transformer: 32": the default recipe's value, and where models differ."""
    models_by_value: dict[str, list[str]] = {}
    for model in MODELS:
        value = getattr(recipe(model), name)
        models_by_value.setdefault(setting_text(value), []).append(model)
    common = max(models_by_value, key=lambda value: len(models_by_value[value]))
    return "; ".join(
        [f"fast recipe: {common}"]
        + [f"{', '.join(models)}: {value}" for value, models in models_by_value.items() if value != common]
    )
