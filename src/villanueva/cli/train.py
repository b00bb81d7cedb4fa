"""`villanueva train`: train a model and write a run directory, or continue one with --resume."""

import argparse
import math
import signal
import sys
from functools import partial
from pathlib import Path

from villanueva.cli.diagnose import print_diagnosis
from villanueva.cli.options import (
    add_device_option,
    add_model_choice,
    add_model_options,
    add_options,
    add_recipe_choice,
    add_training_options,
    build,
    model_options,
    training_options,
)
from villanueva.data import DataOptions
from villanueva.errors import UserError
from villanueva.inference.score import MARGINAL_SKIPPED
from villanueva.library.progress import ProgressBar
from villanueva.models import MODELS
from villanueva.training import PRESETS


def add(commands) -> argparse.ArgumentParser:
    models = "\n".join(f"  {name:11} {spec.summary}" for name, spec in MODELS.items())
    presets = "\n".join(f"  {name:11} {chosen.summary}" for name, chosen in PRESETS.items())
    parser = commands.add_parser(
        "train",
        help="train a model and write a run directory",
        description="Train a model on a list of names (default: the "
        "municipalities of Spain) and write a run directory.",
        epilog=f"models:\n{models}\n\npresets (--preset):\n{presets}",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(command=run)
    running = parser.add_argument_group("running (also with --resume)")
    running.add_argument(
        "--resume",
        metavar="RUN",
        type=Path,
        help="continue an interrupted run from its last checkpoint, with its own settings",
    )
    add_device_option(running)
    running.add_argument("--quiet", action="store_true", help="no progress bar")
    running.add_argument(
        "--tensorboard",
        metavar="DIR",
        type=Path,
        help="also write the losses, learning rate and update:data ratios as TensorBoard event files "
        "in DIR (pip install 'villanueva[tensorboard]')",
    )
    what = parser.add_argument_group("what to train")
    settings = [
        add_model_choice(what),
        what.add_argument(
            "--preset",
            metavar="NAME",
            help="a model with its best-known settings: best (the lowest validation loss found on "
            "the municipalities, see docs/results.md), or a FILE.json that `villanueva tune "
            "--write-preset` wrote; other options given override it",
        ),
        add_recipe_choice(
            what, "fast (default) or notebook: the study notebooks' SGD recipe, for reproducing their numbers"
        ),
        what.add_argument(
            "--out", metavar="DIR", type=Path, help="run directory to create (default runs/<model>-<time>)"
        ),
    ]
    settings += add_options(parser.add_argument_group("data"), DataOptions)
    settings += add_training_options(parser.add_argument_group("training settings"))
    settings += add_model_options(parser.add_argument_group("model options (each model uses its own)"))
    parser.set_defaults(settings=settings)
    return parser


def run(args) -> int:
    from villanueva.experiment import resume_run, train_run
    from villanueva.runs import default_path
    from villanueva.training import TrainingInterrupted, resolve

    if args.resume is not None:
        given = [
            action.option_strings[0] for action in args.settings if getattr(args, action.dest) is not None
        ]
        if given:
            raise UserError(f"--resume continues a run with its own settings; drop {', '.join(given)}")
        out, start = args.resume, partial(resume_run, args.resume, args.device)
    else:
        data = build(DataOptions, args)
        settings = resolve(
            args.model,
            args.recipe,
            args.preset,
            training_options(args),
            model_options(args),
            data.conditioned,
        )
        out = args.out or default_path(settings.model)
        start = partial(train_run, out, settings, data, args.device, command=args.command_line)
    start = partial(start, tensorboard=args.tensorboard)
    with ProgressBar(enabled=not args.quiet) as bar:
        try:
            trained = start(on_progress=bar)
        except TrainingInterrupted as stop:
            bar.close()
            stopped = f"interrupted ({signal.Signals(stop.signum).name}) at step {stop.step:,}"
            print(f"villanueva: {stopped}; checkpoint saved. Resume with:", file=sys.stderr)
            print(f"  villanueva train --resume {out}", file=sys.stderr)
            return 128 + stop.signum
    print_summary(trained)
    if trained.diagnosis is not None:
        print_diagnosis(trained.diagnosis)
    return 0


def print_summary(trained) -> None:
    result, vocab_size = trained.result, trained.record.data.vocab_size
    if result.steps:
        print(
            f"initial loss {result.initial_loss:.4f} (a uniform guess scores "
            f"ln {vocab_size} = {math.log(vocab_size):.4f})"
        )
        print(
            f"trained {trained.record.model} ({result.parameters:,} parameters) for {result.steps:,} "
            f"steps in {result.seconds:.1f} s; best validation at step {result.best_step:,}"
        )
        if result.stopped_early:
            print("stopped early: the validation loss had stopped improving (--patience)")
    else:
        print(f"fitted {trained.record.model} ({result.parameters:,} parameters) by counting")
    label = trained.record.data.options.label
    given = f" (given each name's {label})" if label else ""
    for part in ("train", "val"):
        print(f"{part} loss {result.best[part]:.4f}{given}")
    if label:
        marginal = f"{result.marginal['val']:.4f}" if result.marginal else MARGINAL_SKIPPED
        print(f"val loss with the {label} summed out (the prior's mixture): {marginal}")
    print("samples:")
    for name in trained.samples:
        print(f"  {name}")
    print(f"run saved in {trained.path}")
