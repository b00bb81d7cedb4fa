"""`villanueva guess NAME...`: which labels (provinces, communities) names sound like."""

from villanueva.cli.formats import RecordWriter, add_format_option
from villanueva.cli.options import add_names_input, add_options, build, read_names, run_path
from villanueva.data.spelling import Writing
from villanueva.inference.guess import Guessing

NAMES_PER_CALL = 256  # names placed (and written) at a time: each costs one pass per label


def add(commands):
    parser = commands.add_parser(
        "guess", help="which province or community names sound like, with probabilities"
    )
    parser.set_defaults(command=run)
    add_names_input(parser, "place")
    add_options(parser, Guessing)
    add_options(parser, Writing)
    add_format_option(parser, "each name with its likeliest labels", "one row per name and label")
    return parser


def run(args) -> int:
    from villanueva.inference.guess import guess_run
    from villanueva.runs import open_run

    names = read_names(args, "place")
    trained = open_run(run_path(args), args.device)
    guessing, writing = build(Guessing, args), build(Writing, args)
    writer = RecordWriter(args.format, ["name", "rank", "label", "probability", "real"], guessed_line)
    for start in range(0, len(names), NAMES_PER_CALL):
        guesses = writing.applied(guess_run(trained, names[start : start + NAMES_PER_CALL], guessing))
        width = max(len(guess.name) for guess in guesses)  # names aligned within each batch
        writer.line = lambda guess, width=width: guessed_line(guess, width)
        writer.write(guesses if args.format != "csv" else [row for guess in guesses for row in guess.rows()])
    writer.close()
    return 0


def guessed_line(guess, width: int = 0) -> str:
    labels = "   ".join(f"{label} {probability:.1%}" for label, probability in guess.labels)
    return f"{guess.name:{width}}  {labels}" + (f"   ({guess.real_note})" if guess.real else "")
