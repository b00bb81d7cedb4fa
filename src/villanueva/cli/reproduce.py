"""`villanueva reproduce`: train the notebooks' table with their recipes and compare."""

import sys
from pathlib import Path

from villanueva.cli.options import add_device_option, add_options, build
from villanueva.data import DataOptions
from villanueva.library.progress import ProgressBar


def add(commands):
    parser = commands.add_parser(
        "reproduce",
        help="train the notebooks' table (bigram, MLPv0, MLPv1, MLPv3, WaveNet) and compare",
        description="Train every row of the study notebooks' table with their recipes on the "
        "seed-compatible split and write a markdown table of the results.",
    )
    parser.set_defaults(command=run)
    add_options(parser, DataOptions, only=("data", "column"))  # the notebooks: Municipis_d_Espanya.csv, Nom
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="shorten every recipe to this fraction of its steps (default 1)",
    )
    parser.add_argument(
        "--out",
        metavar="DIR",
        type=Path,
        help="directory for the runs and results.md (default runs/reproduce-<time>)",
    )
    parser.add_argument(
        "--models",
        metavar="LIST",
        type=lambda text: text.split(","),
        help="comma-separated rows to train, e.g. mlp,mlp-bn (default: all)",
    )
    add_device_option(parser)
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def run(args) -> int:
    from villanueva.reproduce import reproduce
    from villanueva.runs import default_path

    out = args.out or default_path("reproduce")
    bar = ProgressBar(enabled=not args.quiet)

    def report(row, trained):
        bar.close()  # the next run gets a bar of its own
        print(
            f"{row.label:7} {row.model:9} val best {trained.result.best['val']:.4f} "
            f"(notebooks {row.published_val}) in {trained.result.seconds:.1f} s",
            file=sys.stderr,
        )

    with bar:
        table = reproduce(
            out,
            build(DataOptions, args),
            args.scale,
            args.device,
            args.models,
            on_progress=bar,
            on_row=report,
        )
    print(table)
    print(f"written to {out / 'results.md'}")
    return 0
