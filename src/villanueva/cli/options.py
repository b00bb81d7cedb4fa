"""Option groups that several commands share, and the parser every command uses.

Training settings and model options are generated from the fields of `TrainConfig` and of the
registered models' configs, so a new setting or model needs no code here. Their values land in
`args` as `train_<field>` and `model_<field>`, None when not given, so the settings resolver can
tell what the user chose from what the recipe, the preset and the defaults decide.
"""

import argparse
import shlex
from dataclasses import Field, fields
from pathlib import Path

from villanueva.data import DataOptions
from villanueva.errors import UserError, flag, worded
from villanueva.models import MODELS
from villanueva.models.spec import option_help
from villanueva.schema import ValueType, options
from villanueva.training import DEFAULT_MODEL, TrainConfig, recipe
from villanueva.training.settings import setting_text


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


def add_run_arguments(
    parser: argparse.ArgumentParser, bundled: bool = False, positional: bool = True
) -> None:
    """The run to read, as --run RUN on every command (and as RUN, for the commands whose other
    arguments are not names), and --device; with `bundled`, the run defaults to the bundled model."""
    help = BUNDLED_HELP if bundled else "run directory"
    if positional:
        parser.add_argument("run", type=Path, metavar="RUN", nargs="?", help=help)
    parser.add_argument("--run", type=Path, metavar="RUN", dest="run_option", help=help)
    parser.set_defaults(needs_run=not bundled)
    add_device_option(parser)


def run_path(args) -> Path | None:
    """The run the command was given (None: the bundled model)."""
    positional, named = getattr(args, "run", None), args.run_option
    if positional is not None and named is not None and positional != named:
        raise UserError(f"two runs given: {positional} and --run {named}; give one")
    path = positional if positional is not None else named
    if path is None and args.needs_run:
        raise UserError("name the run directory to read: RUN or --run RUN")
    return path


def add_names_input(parser: argparse.ArgumentParser, what: str) -> None:
    """NAME... and --file FILE, the names a command reads (typed or one per line of a file), and
    --run RUN (default: the bundled model), the run it reads them with."""
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"names to {what}")
    parser.add_argument(
        "--file", metavar="FILE", help=f"also {what} the names of FILE, one per line ('-': stdin)"
    )
    add_run_arguments(parser, bundled=True, positional=False)


def read_names(args, what: str) -> list[str]:
    """The names typed and those of --file; a typed name that is a run directory is refused, since
    it was surely meant as the run."""
    from villanueva.data import read_name_lines

    for name in args.names:
        if _is_run(name):
            raise UserError(f"{name!r} is a run directory, not a name; name the run with --run {name}")
    if not args.names and args.file is None:
        raise UserError(f"give names to {what}, or --file FILE with one name per line")
    return args.names + (read_name_lines(args.file, "--file") if args.file else [])


def _is_run(text: str) -> bool:
    try:
        return (Path(text) / "config.json").is_file()
    except OSError:  # a name too long to be a path, say
        return False


def add_model_choice(group) -> argparse.Action:
    return group.add_argument(
        "--model", choices=list(MODELS), metavar="NAME", help=f"{', '.join(MODELS)} (default {DEFAULT_MODEL})"
    )


def add_recipe_choice(group, help: str) -> argparse.Action:
    return group.add_argument("--recipe", metavar="NAME", help=help)


def add_options(group, cls, *, only: tuple[str, ...] | None = None, prefix: str = "", default_note=None):
    """One option per option field of the dataclass `cls` (or of those named in `only`), from its
    declaration (schema.setting): flag, aliases, type, choices, help. Nothing gets a default here
    (None = not given), so that the dataclass's own default is the one default."""
    return [
        group.add_argument(
            flag(f.name),
            *f.metadata["aliases"],
            dest=prefix + f.name,
            default=None,
            help=_help(f, default_note),
            **_value_kind(f),
        )
        for f in options(cls)
        if only is None or f.name in only
    ]


def given_options(args, cls, prefix: str = "") -> dict:
    """The option fields of `cls` that the command line set, by name (a names file read)."""
    from villanueva.data import read_name_lines

    given = {}
    for f in options(cls):
        value = getattr(args, prefix + f.name, None)
        if value is not None:
            names_file = f.metadata["names_file"]
            given[f.name] = read_name_lines(value, f"{flag(f.name)} file") if names_file else value
    return given


def build(cls, args, prefix: str = ""):
    """An instance of the dataclass `cls` from the options that `add_options` made for it."""
    return cls(**given_options(args, cls, prefix))


def _help(f, default_note=None) -> str:
    text = worded(f.metadata["help"], flag)
    if f.metadata["names_file"]:
        text += ", read from FILE, one per line ('-': stdin)"
    note = default_note(f) if default_note is not None else _default_note(f.default)
    return f"{text} ({note})" if note else text


def _default_note(default) -> str | None:
    if default is None or default is False or default == () or default == "":
        return None
    return f"default {setting_text(default)}"


def data_arguments(data: DataOptions) -> str:
    """The options that give `data` (the inverse of `build(DataOptions, args)`), for a command to print."""
    default, given = DataOptions(), []
    for f in options(DataOptions):
        value = getattr(data, f.name)
        if value != getattr(default, f.name):
            given += [flag(f.name)] if value is True else [flag(f.name), shlex.quote(str(value))]
    return " ".join(given)


def add_training_options(group, only: tuple[str, ...] | None = None) -> list[argparse.Action]:
    """One option per command-line field of TrainConfig (or of those named in `only`)."""
    recipe_defaults = lambda f: _recipe_defaults(f.name)  # noqa: E731
    return add_options(group, TrainConfig, only=only, prefix="train_", default_note=recipe_defaults)


def training_options(args) -> dict:
    return _prefixed(args, "train_")


def add_model_options(group) -> list[argparse.Action]:
    """One option per field of the registered models' configs, so a new model needs no CLI code. An
    option that several models have is one flag, whose help says what it means to each."""
    declared: dict[str, dict[str, Field]] = {}  # option -> {model: its field}
    for model, spec in MODELS.items():
        for field in fields(spec.config):
            declared.setdefault(field.name, {})[model] = field
    return [
        group.add_argument(
            flag(name), dest=f"model_{name}", **_shared_kind(name, by_model), help=_model_help(by_model)
        )
        for name, by_model in declared.items()
    ]


def _shared_kind(name: str, by_model: dict[str, Field]) -> dict:
    kinds = {repr(_value_kind(field)) for field in by_model.values()}
    if len(kinds) > 1:  # one flag cannot parse two ways: a model's spec must rename its option
        raise TypeError(
            f"models declare option {name!r} with different types or choices: {', '.join(by_model)}"
        )
    return _value_kind(next(iter(by_model.values())))


def _model_help(by_model: dict[str, Field]) -> str:
    """ "what it means (models; defaults)", once per meaning the models give the option."""
    defaults_by_help: dict[str, dict[str, object]] = {}
    for model, field in by_model.items():
        text = option_help(MODELS[model].config, field.name)
        defaults_by_help.setdefault(text, {})[model] = field.default
    return "; ".join(
        f"{worded(text, flag)} ({_model_defaults(defaults)})" for text, defaults in defaults_by_help.items()
    )


def model_options(args) -> dict:
    return _prefixed(args, "model_")


def _prefixed(args, prefix: str) -> dict:
    return {key.removeprefix(prefix): value for key, value in vars(args).items() if key.startswith(prefix)}


def _value_kind(field) -> dict:
    if field.type is bool:
        return {"action": argparse.BooleanOptionalAction}
    if field.metadata.get("names_file"):
        return {"metavar": "FILE"}
    expected = ValueType.of(field.type)
    choices = field.metadata.get("choices")
    # With choices, argparse lists them in place of a metavar.
    kind = {
        "type": expected.kind,
        "choices": choices,
        "metavar": None if choices else field.metadata.get("metavar") or field.name.upper(),
    }
    return {**kind, "action": "append"} if expected.sequence else kind


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
