"""`villanueva sample [RUN]`: invent names (default: with the bundled model), under constraints."""

import sys

from villanueva.cli.formats import RecordWriter, add_format_option
from villanueva.cli.options import add_label_option, add_run_arguments

SHORTFALL = 3  # the exit status when the budget ran out before enough names were found


def add(commands):
    parser = commands.add_parser(
        "sample",
        help="invent names (no RUN: the bundled model)",
        description="Invent names. Constraints are met exactly (the model's own distribution, "
        "restricted to the names that meet them); when too few names meet them within --budget "
        f"candidates, the names found are written and the exit status is {SHORTFALL}.",
    )
    parser.set_defaults(command=run)
    add_run_arguments(parser, bundled=True)
    parser.add_argument("-n", "--count", type=int, default=20, help="how many names (default 20)")
    add_label_option(parser, "names")
    parser.add_argument("--seed", type=int, help="seed for repeatable samples (default: random)")
    drawing = parser.add_argument_group("drawing each character")
    drawing.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="below 1: safer, more typical names; above 1: wilder (default 1.0)",
    )
    drawing.add_argument("--top-k", type=int, metavar="K", help="draw only from the k likeliest characters")
    drawing.add_argument(
        "--top-p", type=float, metavar="P", help="draw only from the likeliest characters that make up P"
    )
    wanted = parser.add_argument_group("constraints")
    wanted.add_argument("--starts-with", "--prefix", default="", metavar="TEXT", help="start with TEXT")
    wanted.add_argument("--ends-with", default="", metavar="TEXT", help="end with TEXT")
    wanted.add_argument(
        "--contains", action="append", default=[], metavar="TEXT", help="contain TEXT (repeat for more)"
    )
    wanted.add_argument("--min-length", type=int, default=1, metavar="N", help="at least N characters")
    wanted.add_argument("--max-length", type=int, default=100, metavar="N", help="at most N (default 100)")
    wanted.add_argument(
        "--new-only", action="store_true", help="only names that are not in the training data (distinct)"
    )
    wanted.add_argument(
        "--min-distance",
        type=int,
        default=0,
        metavar="D",
        help="only names at least D edits (Levenshtein) from every name of the data (implies --new-only)",
    )
    wanted.add_argument("--exclude", metavar="FILE", help="never a name of FILE (one per line)")
    wanted.add_argument(
        "--budget",
        type=int,
        metavar="N",
        help="candidates to draw at most (default: 100 per name, >= 100,000)",
    )
    add_format_option(parser, "one name per line, known ones marked")
    return parser


def run(args) -> int:
    from villanueva.data import read_name_lines
    from villanueva.inference import Constraints, Drawing, SampleReport
    from villanueva.inference.on_demand import sample_run
    from villanueva.runs import load_run
    from villanueva.training import resolve_device

    trained = load_run(args.run, resolve_device(args.device))
    excluded = read_name_lines(args.exclude, "--exclude file") if args.exclude else []
    constraints = Constraints(
        args.starts_with,
        args.ends_with,
        tuple(args.contains),
        args.min_length,
        args.max_length,
        args.new_only,
        args.min_distance,
        frozenset(excluded),
        args.exclude or "",
    )
    drawing = Drawing(args.temperature, args.top_k, args.top_p)
    report = SampleReport()
    columns = ["name", "loss", *(["label"] if trained.labels is not None else []), "known"]
    writer = RecordWriter(
        args.format, columns, lambda n: f"{n.name}  (in training data)" if n.known else n.name
    )
    batches = sample_run(
        trained,
        args.count,
        constraints,
        drawing,
        seed=args.seed,
        label=args.label,
        budget=args.budget,
        report=report,
        losses=args.format != "txt",
    )
    for batch in batches:
        writer.write(batch)
    writer.close()
    if not report.complete:
        print(f"villanueva: {report.shortfall()}", file=sys.stderr)
        return SHORTFALL
    return 0
