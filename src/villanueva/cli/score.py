"""`villanueva score NAME...`: how typical names are, as loss per character."""

from villanueva.cli.formats import RecordWriter, add_format_option
from villanueva.cli.options import add_names_input, add_options, build, read_names, run_path
from villanueva.data.spelling import Writing
from villanueva.inference.on_demand import SURPRISING, Scoring, Style

NAMES_PER_CALL = 4096  # names scored (and written) at a time: bounded memory however long the file
LEVELS = "▁▂▃▄▅▆▇█"


def add(commands):
    parser = commands.add_parser(
        "score", help="how typical names are: loss per character (lower = more in style)"
    )
    parser.set_defaults(command=run)
    add_names_input(parser, "score")
    add_options(parser, Style)
    add_options(parser, Scoring)
    add_options(parser, Writing)
    add_format_option(parser, "loss and name per line (with --explain, a bar per character below)")
    return parser


def run(args) -> int:
    from villanueva.inference.on_demand import score_run
    from villanueva.runs import open_run

    names = read_names(args, "score")
    trained = open_run(run_path(args), args.device)
    style, scoring, writing = build(Style, args), build(Scoring, args), build(Writing, args)
    columns = ["name", "loss", "known", *(["surprisals"] if scoring.explain else [])]
    writer = RecordWriter(args.format, columns, explained if scoring.explain else scored_line)
    for start in range(0, len(names), NAMES_PER_CALL):
        writer.write(
            writing.applied(score_run(trained, names[start : start + NAMES_PER_CALL], style, scoring))
        )
    writer.close()
    return 0


def scored_line(scored) -> str:
    known = f"  ({scored.real_note or 'in training data'})" if scored.known else ""
    return f"{scored.loss:.4f}  {scored.name}{known}"


def explained(scored) -> str:
    """The name's line, then a bar under each character (and under the end token, '.') that rises
    with its surprisal (full at SURPRISING nats), then the most surprising characters with their values."""
    pairs, top = scored.explained, len(LEVELS) - 1
    bars = "".join(LEVELS[min(top, int(value / SURPRISING * top))] for _, value in pairs)
    worst = sorted(range(len(pairs)), key=lambda i: -pairs[i][1])[:3]
    most = ", ".join(f"{pairs[i][0]!r} at {i + 1} ({pairs[i][1]:.2f})" for i in worst)
    written = "".join(character for character, _ in pairs)  # the name and its end token
    return f"{scored_line(scored)}\n        {written}\n        {bars}\n        most surprising: {most}"
