"""`villanueva lr-find`: sweep the learning rate over a short run and suggest one."""

from pathlib import Path

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


def add(commands):
    parser = commands.add_parser(
        "lr-find",
        help="sweep the learning rate over a short run and suggest one",
        description="Train a new model for a few hundred steps while the learning rate grows "
        "exponentially, plot the loss against log10(lr) and suggest a learning rate: a "
        "tenth of the one at the lowest smoothed loss. Nothing is saved but the plot.",
    )
    parser.set_defaults(command=run)
    add_model_choice(parser)
    add_options(parser.add_argument_group("data"), DataOptions)
    sweep = parser.add_argument_group("sweep")
    sweep.add_argument(
        "--min-lr", type=float, default=1e-5, metavar="LR", help="first learning rate (default 1e-5)"
    )
    sweep.add_argument(
        "--max-lr", type=float, default=10.0, metavar="LR", help="last learning rate (default 10)"
    )
    sweep.add_argument(
        "--steps",
        type=int,
        default=300,
        metavar="N",
        help="steps of the sweep; it stops early once the loss blows up (default 300)",
    )
    sweep.add_argument(
        "--out",
        metavar="FILE",
        type=Path,
        help="the plot, a new .png file (default runs/lr-find-<model>-<time>.png)",
    )
    sweep.add_argument("--force", action="store_true", help="with --out: replace an existing file")
    add_recipe_choice(
        sweep,
        "fast (default) or notebook: whose optimizer, batch size, weight decay "
        "and gradient clipping to sweep with",
    )
    add_device_option(sweep)
    add_training_options(sweep, only=("batch_size", "weight_decay", "grad_clip", "seed"))
    add_model_options(parser.add_argument_group("model options (each model uses its own)"))
    return parser


def run(args) -> int:
    from villanueva.diagnostics import SweepRange
    from villanueva.experiment import lr_find_run
    from villanueva.runs import default_path
    from villanueva.training import resolve

    data = build(DataOptions, args)
    settings = resolve(
        args.model, args.recipe, None, training_options(args), model_options(args), data.conditioned
    )
    out = args.out or default_path(f"lr-find-{settings.model}", ".png")
    sweep_range = SweepRange(args.min_lr, args.max_lr, args.steps)
    sweep = lr_find_run(out, settings, data, sweep_range, args.device, args.force)
    print(
        f"swept lr from {sweep.lrs[0]:.2g} to {sweep.lrs[-1]:.2g} in {len(sweep.lrs)} steps; lowest "
        f"smoothed loss {min(sweep.smoothed):.4f} at lr {sweep.lowest_lr:.2g}"
    )
    print(
        f"suggested lr {sweep.suggested:.2g}  "
        f"(villanueva train --model {settings.model} --lr {sweep.suggested:.2g})"
    )
    print(f"plot saved in {out}")
    return 0
