"""The command line: parse arguments, call the library, print. No logic of its own."""

import argparse
import math
import os
import sys
import textwrap
import time
from dataclasses import fields
from functools import partial
from pathlib import Path

from villanueva.data import NOTEBOOK_SEED
from villanueva.errors import UserError
from villanueva.models import MODELS
from villanueva.training.presets import PRESETS

DEFAULT_MODEL = "mlp"
KEPT_WITH_RESUME = {"command", "resume", "quiet", "threads"}  # every other train option is a setting


class Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr (exit 2), like every other mistake."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        from villanueva.training import use_threads

        use_threads(args.threads)
        return args.command(args) or 0
    except UserError as error:
        print(f"villanueva: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("villanueva: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `villanueva sample RUN | head`: the reader left, that is fine
        # Point stdout at /dev/null so that the flush at exit does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def build_parser() -> Parser:
    parser = Parser(prog="villanueva", description="Learn a list of names; invent new ones like them.")
    commands = parser.add_subparsers(title="commands", required=True, parser_class=Parser)
    _add_train(commands)
    _add_eval(commands)
    _add_sample(commands)
    _add_score(commands)
    _add_reproduce(commands)
    _add_diagnose(commands)
    _add_lr_find(commands)
    _add_report(commands)
    for command in commands.choices.values():
        command.add_argument("--threads", type=int, metavar="N", help="CPU threads for torch (default: "
                             "one per core this process may use, or OMP_NUM_THREADS when set)")
    return parser


def _add_train(commands) -> None:
    models = "\n".join(f"  {name:11} {spec.summary}" for name, spec in MODELS.items())
    presets = "\n".join(f"  {name:11} {chosen.summary}" for name, chosen in PRESETS.items())
    train = commands.add_parser("train", help="train a model and write a run directory",
                                description="Train a model on a list of names (default: the "
                                            "municipalities of Spain) and write a run directory.",
                                epilog=f"models:\n{models}\n\npresets (--preset):\n{presets}",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    train.set_defaults(command=cmd_train)
    train.add_argument("--resume", metavar="RUN", type=Path,
                       help="continue an interrupted run from its last checkpoint")
    train.add_argument("--model", choices=list(MODELS), metavar="NAME",
                       help=f"{', '.join(MODELS)} (default {DEFAULT_MODEL})")
    _add_data_options(train.add_argument_group("data"))
    run = train.add_argument_group("training")
    run.add_argument("--out", metavar="DIR", type=Path,
                     help="run directory to create (default runs/<model>-<time>)")
    run.add_argument("--recipe", metavar="NAME", help="fast (default) or notebook: the study "
                     "notebooks' SGD recipe, for reproducing their numbers")
    run.add_argument("--preset", metavar="NAME", help="a model with its best-known settings: "
                     "best (the lowest validation loss found on the municipalities, see "
                     "docs/results.md); other options given override it")
    run.add_argument("--steps", type=int, metavar="N", help="optimisation steps (default: the recipe's)")
    run.add_argument("--batch-size", type=int, metavar="N", help="examples per step: characters for "
                     "window models, whole names for gru and transformer (default: the recipe's)")
    run.add_argument("--lr", type=float, help="peak learning rate (default: the recipe's)")
    run.add_argument("--seed", type=int, metavar="N",
                     help="seed of initialisation, batches and samples (default 42)")
    run.add_argument("--eval-every", type=int, metavar="N", help="steps between validations, each "
                     "followed by a checkpoint (default: the recipe's, or 20 per run)")
    run.add_argument("--patience", type=int, metavar="N", help="early stopping: stop after N "
                     "validations without a better validation loss (default 0: never)")
    run.add_argument("--weight-decay", type=float, metavar="W", help="decoupled weight decay of "
                     "weight matrices and embeddings (default: the recipe's, 0)")
    run.add_argument("--warmup", type=int, metavar="N", help="steps of linear learning-rate "
                     "warm-up from 0 (default: the recipe's, 0)")
    run.add_argument("--grad-clip", type=float, metavar="NORM", help="rescale any gradient whose "
                     "norm exceeds NORM (default: the recipe's; gru 1, others 0 = off)")
    run.add_argument("--device", metavar="NAME", help="cpu (default), cuda or mps")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--diagnose", action="store_true", default=None,  # None: not given
                     help="record update:data ratios while training and diagnose the run at the "
                          "end, as `villanueva diagnose` does")
    _add_model_options(train.add_argument_group("model options (each model uses its own)"))


def _add_data_options(data) -> None:
    data.add_argument("--data", metavar="FILE", help="names file, one per line, or a CSV with "
                      "--column (default: the embedded list of Spanish municipalities)")
    data.add_argument("--column", help="the CSV column that holds the names")
    data.add_argument("--keep-accents", action="store_true", default=None,  # None: not given
                      help="keep accents and ñ instead of transliterating to ASCII")
    data.add_argument("--split-seed", type=int, metavar="N",
                      help="seed of the 80/10/10 split (default 42, the notebooks' split)")


def _add_model_options(group) -> None:
    """One option per field of the registered models' configs, so a new model needs no CLI code."""
    defaults: dict[str, dict[str, object]] = {}  # option -> {model: its default}
    described = {}
    for model, spec in MODELS.items():
        for field in fields(spec.config):
            defaults.setdefault(field.name, {})[model] = field.default
            if field.name not in described or "help" in field.metadata:
                described[field.name] = field  # subclasses that only change a default have no help
    for name, field in described.items():
        kind = ({"action": argparse.BooleanOptionalAction} if field.type is bool
                else {"type": field.type, "metavar": name.upper()})
        group.add_argument("--" + name.replace("_", "-"), dest=f"model_{name}",
                           choices=field.metadata.get("choices"), **kind,
                           help=f"{field.metadata.get('help', name)} ({_defaults_text(defaults[name])})")


def _defaults_text(defaults: dict[str, object]) -> str:
    values = set(map(str, defaults.values()))
    if len(values) == 1:
        return f"{', '.join(defaults)}; default {values.pop()}"
    return "default " + ", ".join(f"{model} {value}" for model, value in defaults.items())


def _add_run_arguments(command) -> None:
    """RUN and --device, for the commands that read a trained run."""
    command.add_argument("run", type=Path, metavar="RUN", help="run directory")
    command.add_argument("--device", default="cpu", help="cpu (default), cuda or mps")


def _add_eval(commands) -> None:
    evaluate = commands.add_parser("eval", help="print the train / val / test loss of a run")
    evaluate.set_defaults(command=cmd_eval)
    _add_run_arguments(evaluate)


def _add_sample(commands) -> None:
    sample = commands.add_parser("sample", help="invent names with a trained run")
    sample.set_defaults(command=cmd_sample)
    _add_run_arguments(sample)
    sample.add_argument("-n", "--count", type=int, default=20, help="how many names (default 20)")
    sample.add_argument("--seed", type=int, help="seed for repeatable samples (default: random)")
    sample.add_argument("--temperature", type=float, default=1.0,
                        help="below 1: safer, more typical names; above 1: wilder (default 1.0)")
    sample.add_argument("--top-k", type=int, help="draw only from the k likeliest characters")
    sample.add_argument("--prefix", default="", help="start every name with this text")
    sample.add_argument("--new-only", action="store_true",
                        help="only names that are not in the training data (distinct)")


def _add_score(commands) -> None:
    score = commands.add_parser("score", help="how typical names are: loss per character "
                                              "(lower = more in style)")
    score.set_defaults(command=cmd_score)
    _add_run_arguments(score)
    score.add_argument("names", nargs="+", metavar="NAME", help="names to score")


def _add_reproduce(commands) -> None:
    reproduce = commands.add_parser(
        "reproduce", help="train the notebooks' table (bigram, MLPv0, MLPv1, MLPv3, WaveNet) and compare",
        description="Train every row of the study notebooks' table with their recipes on the "
                    "seed-compatible split and write a markdown table of the results.")
    reproduce.set_defaults(command=cmd_reproduce)
    reproduce.add_argument("--data", metavar="FILE", help="names file or CSV (with --column); "
                           "the notebooks used Municipis_d_Espanya.csv --column Nom")
    reproduce.add_argument("--column", help="the CSV column that holds the names")
    reproduce.add_argument("--scale", type=float, default=1.0,
                           help="shorten every recipe to this fraction of its steps (default 1)")
    reproduce.add_argument("--out", metavar="DIR", type=Path,
                           help="directory for the runs and results.md (default runs/reproduce-<time>)")
    reproduce.add_argument("--models", metavar="LIST", type=lambda text: text.split(","),
                           help="comma-separated rows to train, e.g. mlp,mlp-bn (default: all)")
    reproduce.add_argument("--device", default="cpu", metavar="NAME", help="cpu (default), cuda or mps")
    reproduce.add_argument("--quiet", action="store_true", help="no progress bars")


def _add_diagnose(commands) -> None:
    diagnose = commands.add_parser(
        "diagnose", help="plots and verdicts on how healthy a run's training was",
        description="Look inside a run's model at init and at the end of training (loss at init, "
                    "activations, saturation, gradients, update:data ratios, loss curve, "
                    "embeddings): write RUN/plots/*.png and RUN/diagnostics.json and say in words "
                    "what looks unhealthy. See docs/diagnostics.md.")
    diagnose.set_defaults(command=cmd_diagnose)
    _add_run_arguments(diagnose)


def _add_lr_find(commands) -> None:
    lr_find = commands.add_parser(
        "lr-find", help="sweep the learning rate over a short run and suggest one",
        description="Train a new model for a few hundred steps while the learning rate grows "
                    "exponentially, plot the loss against log10(lr) and suggest a learning rate: a "
                    "tenth of the one at the lowest smoothed loss. Nothing is saved but the plot.")
    lr_find.set_defaults(command=cmd_lr_find)
    lr_find.add_argument("--model", choices=list(MODELS), metavar="NAME",
                         help=f"{', '.join(MODELS)} (default {DEFAULT_MODEL})")
    _add_data_options(lr_find.add_argument_group("data"))
    sweep = lr_find.add_argument_group("sweep")
    sweep.add_argument("--min-lr", type=float, default=1e-5, metavar="LR",
                       help="first learning rate (default 1e-5)")
    sweep.add_argument("--max-lr", type=float, default=10.0, metavar="LR",
                       help="last learning rate (default 10)")
    sweep.add_argument("--steps", type=int, default=300, metavar="N",
                       help="steps of the sweep; it stops early once the loss blows up (default 300)")
    sweep.add_argument("--out", metavar="FILE", type=Path,
                       help="the plot, a .png file (default runs/lr-find-<model>-<time>.png)")
    sweep.add_argument("--recipe", metavar="NAME", help="fast (default) or notebook: whose "
                       "optimizer, batch size and weight decay to sweep with")
    sweep.add_argument("--batch-size", type=int, metavar="N",
                       help="examples per step (default: the recipe's)")
    sweep.add_argument("--weight-decay", type=float, metavar="W", help="default: the recipe's")
    sweep.add_argument("--seed", type=int, metavar="N",
                       help="seed of initialisation and batches (default 42)")
    sweep.add_argument("--device", metavar="NAME", help="cpu (default), cuda or mps")
    _add_model_options(lr_find.add_argument_group("model options (each model uses its own)"))


def _add_report(commands) -> None:
    report = commands.add_parser("report", help="compare finished runs in one markdown table",
                                 description="Print (and with --out, write) a markdown table of "
                                             "finished runs, best validation loss first: model, "
                                             "settings changed from the defaults, parameters, "
                                             "train / val / test loss and training time.")
    report.set_defaults(command=cmd_report)
    report.add_argument("runs", nargs="+", type=Path, metavar="RUN", help="run directories")
    report.add_argument("--out", type=Path, metavar="FILE", help="also write the table to this file")


def cmd_train(args) -> int:
    from villanueva.experiment import resume_run, train_run
    from villanueva.training import TrainingInterrupted, recipe

    if args.resume is not None:
        _reject_with_resume(args)
        out, start = args.resume, partial(resume_run, args.resume, progress=not args.quiet)
    else:
        chosen = _chosen_preset(args)
        model, recipe_name = args.model or chosen.model, args.recipe or "fast"
        given = dict(steps=args.steps, batch_size=args.batch_size, lr=args.lr, seed=args.seed,
                     device=args.device, eval_every=args.eval_every, patience=args.patience,
                     weight_decay=args.weight_decay, warmup=args.warmup, grad_clip=args.grad_clip,
                     diagnose=args.diagnose)
        config = recipe(model, recipe_name, **_overriding(chosen.training, given))
        model_options = _overriding(chosen.model_options, _model_options(args))
        out = args.out or Path("runs") / f"{model}-{time.strftime('%Y%m%d-%H%M%S')}"
        start = partial(train_run, out, model, model_options, config, _data_options(args),
                        recipe_name, progress=not args.quiet)
    try:
        summary = start()
    except TrainingInterrupted as stop:
        print(f"villanueva: interrupted at step {stop.step:,}; checkpoint saved. Resume with:\n"
              f"  villanueva train --resume {out}", file=sys.stderr)
        return 130
    _print_summary(summary)
    if summary.diagnosis is not None:
        _print_diagnosis(summary.diagnosis)
    return 0


def _chosen_preset(args):
    """The --preset (a model with its settings), or the default model with none."""
    from villanueva.training import Preset, preset

    if args.preset is None:
        return Preset(DEFAULT_MODEL)
    chosen = preset(args.preset)
    if args.model not in (None, chosen.model):
        raise UserError(f"--preset {args.preset} trains {chosen.model}; drop --model {args.model}")
    if args.recipe is not None:
        raise UserError(f"--preset {args.preset} brings its own training settings; drop --recipe")
    return chosen


def _overriding(defaults: dict, given: dict) -> dict:
    """`defaults`, changed by the options of `given` that were set (not None)."""
    return {**defaults, **{key: value for key, value in given.items() if value is not None}}


def _model_options(args) -> dict:
    return {key[len("model_"):]: value for key, value in vars(args).items() if key.startswith("model_")}


def _data_options(args):
    from villanueva.experiment import DataOptions

    split_seed = NOTEBOOK_SEED if args.split_seed is None else args.split_seed
    return DataOptions(args.data, args.column, bool(args.keep_accents), split_seed)


def _reject_with_resume(args) -> None:
    """--resume continues a run with the settings it was started with; say so if others are given."""
    given = ["--" + name.removeprefix("model_").replace("_", "-") for name, value in vars(args).items()
             if name not in KEPT_WITH_RESUME and value is not None]
    if given:
        raise UserError(f"--resume continues a run with its own settings; drop {', '.join(given)}")


def _print_summary(summary) -> None:
    if summary.steps:
        print(f"initial loss {summary.initial_loss:.4f} (a uniform guess scores "
              f"ln {summary.vocab_size} = {math.log(summary.vocab_size):.4f})")
        print(f"trained {summary.model} ({summary.parameters:,} parameters) for {summary.steps:,} steps "
              f"in {summary.seconds:.1f} s; best validation at step {summary.best_step:,}")
        if summary.stopped_early:
            print("stopped early: the validation loss had stopped improving (--patience)")
    else:
        print(f"fitted {summary.model} ({summary.parameters:,} parameters) by counting")
    for part in ("train", "val"):
        print(f"{part} loss {summary.best[part]:.4f}")
    print("samples:")
    for name in summary.samples:
        print(f"  {name}")
    print(f"run saved in {summary.path}")


def cmd_eval(args) -> int:
    from villanueva.inference import evaluate_run
    from villanueva.runs import load_run
    from villanueva.training import resolve_device

    run = load_run(args.run, resolve_device(args.device))
    for part, loss in evaluate_run(run).items():
        print(f"{part} loss {loss:.4f}")
    return 0


def cmd_sample(args) -> int:
    from villanueva.data import clean_prefix
    from villanueva.inference import sample_names, sample_new_names
    from villanueva.runs import load_run
    from villanueva.training import resolve_device

    run = load_run(args.run, resolve_device(args.device))
    options = dict(seed=args.seed, temperature=args.temperature, top_k=args.top_k,
                   prefix=clean_prefix(args.prefix, run.keep_accents))
    if args.new_only:
        names = sample_new_names(run.model, run.vocab, args.count, run.names, **options)
        print("\n".join(names))
        return 0
    known = run.names
    for name in sample_names(run.model, run.vocab, args.count, **options):
        print(f"{name}  (in training data)" if name in known else name)
    return 0


def cmd_score(args) -> int:
    from villanueva.inference import score_names
    from villanueva.runs import load_run
    from villanueva.training import resolve_device

    run = load_run(args.run, resolve_device(args.device))
    for name, loss in score_names(run.model, run.vocab, args.names, run.keep_accents):
        print(f"{loss:.4f}  {name}")
    return 0


def cmd_reproduce(args) -> int:
    from villanueva.experiment import DataOptions
    from villanueva.reproduce import reproduce

    out = args.out or Path("runs") / f"reproduce-{time.strftime('%Y%m%d-%H%M%S')}"

    def report(row, summary):
        print(f"{row.label:7} {row.model:9} val best {summary.best['val']:.4f} "
              f"(notebooks {row.published_val}) in {summary.seconds:.1f} s", file=sys.stderr)

    table = reproduce(out, DataOptions(args.data, args.column), args.scale, args.device, args.models,
                      progress=not args.quiet, on_row=report)
    print(table)
    print(f"written to {out / 'results.md'}")
    return 0


def cmd_diagnose(args) -> int:
    from villanueva.diagnostics import diagnose_run

    _print_diagnosis(diagnose_run(args.run, args.device))
    return 0


def _print_diagnosis(diagnosis) -> None:
    labels = {True: "ok", False: "UNHEALTHY", None: "note"}
    print(f"diagnosis of {diagnosis.path}:")
    for verdict in diagnosis.verdicts:
        head = f"  {verdict.topic:14} {labels[verdict.healthy]:10} "
        print(textwrap.fill(verdict.text, width=100, initial_indent=head,
                            subsequent_indent=" " * len(head)))
    print(f"plots and numbers written to {diagnosis.path / 'plots'} and "
          f"{diagnosis.path / 'diagnostics.json'}")


def cmd_lr_find(args) -> int:
    from villanueva.diagnostics import SweepRange
    from villanueva.experiment import lr_find_run
    from villanueva.training import recipe

    model = args.model or DEFAULT_MODEL
    config = recipe(model, args.recipe or "fast", batch_size=args.batch_size, seed=args.seed,
                    device=args.device, weight_decay=args.weight_decay)
    out = args.out or Path("runs") / f"lr-find-{model}-{time.strftime('%Y%m%d-%H%M%S')}.png"
    sweep = lr_find_run(out, model, _model_options(args), config, _data_options(args),
                        SweepRange(args.min_lr, args.max_lr, args.steps))
    print(f"swept lr from {sweep.lrs[0]:.2g} to {sweep.lrs[-1]:.2g} in {len(sweep.lrs)} steps; lowest "
          f"smoothed loss {min(sweep.smoothed):.4f} at lr {sweep.lowest_lr:.2g}")
    print(f"suggested lr {sweep.suggested:.2g}  "
          f"(villanueva train --model {model} --lr {sweep.suggested:.2g})")
    print(f"plot saved in {out}")
    return 0


def cmd_report(args) -> int:
    from villanueva.report import report
    from villanueva.runs.files import write_text

    table = report(args.runs)
    print(table, end="")
    if args.out:
        write_text(args.out, table)
        print(f"written to {args.out}")
    return 0
