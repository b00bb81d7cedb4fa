"""`villanueva tune`: search for the best settings for a list with Optuna; print them as a command."""

import math
import signal
import sys
from pathlib import Path

from villanueva.cli.options import add_device_option, add_options, build, data_arguments
from villanueva.data import DataOptions
from villanueva.errors import UserError

ALL = "all"


def add(commands):
    from villanueva.tune import spaces

    parser = commands.add_parser(
        "tune",
        help="search for the settings with the lowest validation loss (Optuna); prints a train command",
        description="Train trial after trial, each a run directory under --out with settings drawn "
        "from its model's search space, stopping poor ones early, and print the best as a "
        "`villanueva train` command. The study is kept in a database: running tune again continues "
        "it, and tunes on several machines with one --storage share it.",
    )
    parser.set_defaults(command=run)
    parser.add_argument(
        "--model",
        default=ALL,
        choices=[*spaces(), ALL],
        help=f"the model family to search, or all of them (default {ALL})",
    )
    parser.add_argument(
        "--trials", type=int, metavar="N", help="trials to add to the study (default: no limit)"
    )
    parser.add_argument("--timeout", metavar="TIME", help="stop after TIME (90s, 30m, 2h, 1h30m), trials too")
    parser.add_argument(
        "--jobs", type=int, default=1, metavar="N", help="processes that search the study at once (default 1)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("runs/tune"), metavar="DIR", help="default runs/tune"
    )
    parser.add_argument(
        "--storage",
        metavar="URL",
        help="the study's database (default sqlite in --out); postgresql://user@host/db to share it",
    )
    parser.add_argument("--study", default="villanueva", metavar="NAME", help="the study's name")
    parser.add_argument("--seed", type=int, default=0, metavar="N", help="seed of the search (default 0)")
    parser.add_argument("--write-preset", type=Path, metavar="FILE.json", help="write the best for --preset")
    add_device_option(parser)
    add_options(parser.add_argument_group("data (as for train)"), DataOptions)
    return parser


def run(args) -> int:
    from villanueva.training import TrainingInterrupted
    from villanueva.tune import TuneRequest, best_settings, masked, spaces, tune

    if args.trials is None and args.timeout is None:
        raise UserError("give --trials N or --timeout TIME (or both): a search has no end of its own")
    if args.write_preset is not None and args.write_preset.suffix != ".json":
        raise UserError(f"--write-preset {args.write_preset}: name a .json file (what --preset reads)")
    if args.write_preset is not None and args.write_preset.exists():
        raise UserError(f"--write-preset {args.write_preset} exists; choose a new file")
    request = TuneRequest(
        build(DataOptions, args),
        tuple(spaces()) if args.model == ALL else (args.model,),
        args.out,
        args.storage,
        args.study,
        args.trials,
        None if args.timeout is None else parse_duration(args.timeout),
        args.jobs,
        args.seed,
        args.device,
    )
    print(f"study {request.study!r} in {masked(request.storage_url)}; trials in {request.out}", flush=True)
    try:
        study = tune(request, on_trial=print_trial)
    except (TrainingInterrupted, KeyboardInterrupt) as stop:  # in a trial (a checkpoint saved) or between
        signum = getattr(stop, "signum", signal.SIGINT)
        print("villanueva: tune interrupted; run the same command to continue the study", file=sys.stderr)
        return 128 + signum
    settings = best_settings(study)
    print_best(study, settings, request.data)
    if args.write_preset is not None:
        from villanueva.runs import files
        from villanueva.tune import as_preset

        chosen = as_preset(
            settings, f"villanueva tune, trial {study.best_trial.number} of {study.study_name!r}"
        )
        files.write_json(args.write_preset, chosen.to_json())
        print(f"preset written to {args.write_preset}: villanueva train --preset {args.write_preset}")
    return 0


def parse_duration(text: str) -> float:
    """Seconds in "90", "90s", "30m", "2h", "1h30m" or "1.5h"; anything else is a UserError."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    rest, seconds = text.strip().lower(), 0.0
    try:
        if rest and rest[-1].isdigit():
            rest += "s"
        while rest:
            number = len(rest) - len(rest.lstrip("0123456789."))
            value, unit, rest = float(rest[:number]), units[rest[number]], rest[number + 1 :]
            seconds += value * unit
    except (ValueError, KeyError, IndexError):
        raise UserError(f"--timeout {text!r} is not a duration (e.g. 90s, 30m, 2h, 1h30m)") from None
    if not 0 < seconds < math.inf:
        raise UserError(f"--timeout must be positive, got {text!r}")
    return seconds


def print_trial(trial) -> None:
    from villanueva.training import changes
    from villanueva.tune import trial_settings

    settings = trial_settings(trial)
    print(f"trial {trial.number}: {outcome(trial)}: {settings.model} {changes(settings)}", flush=True)


def outcome(trial) -> str:
    """What became of a finished trial, in a few words."""
    took = f" in {trial.duration.total_seconds():.0f} s" if trial.duration else ""
    if trial.state.name == "COMPLETE":
        return f"val {trial.value:.4f}{took}"
    if trial.state.name == "PRUNED" and trial.intermediate_values:
        validation, last = max(trial.intermediate_values.items())
        return f"pruned at validation {validation} (val {last:.4f}){took}"
    return f"{trial.state.name.lower()}: {trial.user_attrs.get('ended', 'an error')}{took}"


def print_best(study, settings, data) -> None:
    from villanueva.training import changes

    best = study.best_trial
    counts = {}
    for trial in study.trials:
        counts[trial.state.name.lower()] = counts.get(trial.state.name.lower(), 0) + 1
    print(f"{len(study.trials)} trials ({', '.join(f'{n} {state}' for state, n in counts.items())})")
    test = best.user_attrs.get("test", float("nan"))
    print(f"best: trial {best.number}, val {best.value:.4f} (test {test:.4f})")
    print(f"  villanueva train --model {settings.model} {changes(settings)} {data_arguments(data)}".rstrip())
