"""`villanueva report RUN...`: finished runs side by side in one markdown table."""

from pathlib import Path


def add(commands):
    parser = commands.add_parser(
        "report",
        help="compare finished runs in one markdown table",
        description="Print (and with --out, write) a markdown table of "
        "finished runs, best validation loss first: model, "
        "settings changed from the defaults, parameters, "
        "train / val / test loss and training time.",
    )
    parser.set_defaults(command=run)
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN", help="run directories")
    parser.add_argument("--out", type=Path, metavar="FILE", help="also write the table to this new file")
    parser.add_argument("--force", action="store_true", help="with --out: replace an existing file")
    return parser


def run(args) -> int:
    from villanueva.report import report, write_report

    table = report(args.runs)
    print(table, end="")
    if args.out:
        write_report(args.out, table, args.force)
        print(f"written to {args.out}")
    return 0
