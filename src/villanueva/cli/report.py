"""`villanueva report RUN...`: finished runs side by side in one markdown table (or a tune's trials)."""

from pathlib import Path

from villanueva.errors import UserError


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
    parser.add_argument(
        "runs",
        nargs="+",
        metavar="RUN",
        help="run directories, or one study of `villanueva tune` (its study.db, or a database URL)",
    )
    parser.add_argument("--study", metavar="NAME", help="the study to show, when the database has several")
    parser.add_argument("--out", type=Path, metavar="FILE", help="also write the table to this new file")
    parser.add_argument("--force", action="store_true", help="with --out: replace an existing file")
    return parser


def run(args) -> int:
    from villanueva.report import is_study, report, study_url, trials_table, write_report
    from villanueva.runs.run import check_new_file
    from villanueva.tune import load_study

    if any(map(is_study, args.runs)):
        if len(args.runs) > 1:
            raise UserError("give one study, or run directories: not both")
        table = trials_table(load_study(study_url(args.runs[0]), args.study))
    else:
        table = report([Path(run) for run in args.runs])
    if args.out:  # refused before the table is printed: an error comes before any output
        check_new_file(args.out, "out", args.force)
    print(table, end="")
    if args.out:
        write_report(args.out, table, args.force)
        print(f"written to {args.out}")
    return 0
