"""`villanueva score NAME...`: how typical names are, as loss per character."""

from villanueva.cli.formats import RecordWriter, add_format_option
from villanueva.cli.options import add_label_option, add_run_option

NAMES_PER_CALL = 4096  # names scored (and written) at a time: bounded memory however long the file
LEVELS = "▁▂▃▄▅▆▇█"
NATS_PER_LEVEL = 0.75  # a full block is 5.25 nats or more: far less likely than a uniform guess


def add(commands):
    parser = commands.add_parser(
        "score", help="how typical names are: loss per character (lower = more in style)"
    )
    parser.set_defaults(command=run)
    parser.add_argument("names", nargs="*", metavar="NAME", help="names to score")
    parser.add_argument(
        "--file", metavar="FILE", help="also score the names of FILE, one per line ('-': stdin)"
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="the surprisal (-ln P, in nats) of each character given the ones before it",
    )
    add_run_option(parser)
    add_label_option(parser, "score")
    add_format_option(parser, "loss and name per line (with --explain, a bar per character below)")
    return parser


def run(args) -> int:
    from villanueva.data import read_name_lines
    from villanueva.errors import UserError
    from villanueva.inference.on_demand import score_run
    from villanueva.runs import load_run
    from villanueva.training import resolve_device

    if not args.names and args.file is None:
        raise UserError("give names to score, or --file FILE with one name per line")
    trained = load_run(args.run, resolve_device(args.device))
    names = args.names + (read_name_lines(args.file, "--file") if args.file else [])
    columns = ["name", "loss", "known", *(["surprisals"] if args.explain else [])]
    writer = RecordWriter(args.format, columns, explained if args.explain else scored_line)
    for start in range(0, len(names), NAMES_PER_CALL):
        writer.write(
            score_run(trained, names[start : start + NAMES_PER_CALL], label=args.label, explain=args.explain)
        )
    writer.close()
    return 0


def scored_line(scored) -> str:
    return f"{scored.loss:.4f}  {scored.name}" + ("  (in training data)" if scored.known else "")


def explained(scored) -> str:
    """The name's line, then a bar under each character (and under the end token, '.') that rises
    with its surprisal, then the most surprising characters with their values."""
    from villanueva.data import END

    bars = "".join(LEVELS[min(len(LEVELS) - 1, int(value / NATS_PER_LEVEL))] for value in scored.surprisals)
    characters = [*scored.name, END]
    worst = sorted(range(len(characters)), key=lambda i: -scored.surprisals[i])[:3]
    most = ", ".join(f"{characters[i]!r} at {i + 1} ({scored.surprisals[i]:.2f})" for i in worst)
    return (
        f"{scored_line(scored)}\n        {scored.name}{END}\n        {bars}\n        most surprising: {most}"
    )
