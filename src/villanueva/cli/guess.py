"""`villanueva guess NAME...`: which labels (provinces, communities) names sound like."""

from villanueva.cli.options import add_run_option


def add(commands):
    parser = commands.add_parser(
        "guess", help="which province or community names sound like, with probabilities"
    )
    parser.set_defaults(command=run)
    parser.add_argument("names", nargs="+", metavar="NAME", help="names to place (any, seen or not)")
    add_run_option(parser)
    parser.add_argument(
        "--by",
        metavar="KIND",
        help="community: sum a province run's guesses by community (default: its labels)",
    )
    parser.add_argument("--top", type=int, default=3, help="how many labels per name (default 3)")
    return parser


def run(args) -> int:
    from villanueva.inference import guess_labels
    from villanueva.runs import load_run
    from villanueva.training import resolve_device

    trained = load_run(args.run, resolve_device(args.device))
    guesses = guess_labels(
        trained.model,
        trained.vocab,
        trained.labels,
        args.names,
        keep_accents=trained.keep_accents,
        by=args.by,
        top=args.top,
    )
    width = max(len(guess.name) for guess in guesses)
    for guess in guesses:
        labels = "   ".join(f"{label} {probability:.1%}" for label, probability in guess.labels)
        print(f"{guess.name:{width}}  {labels}")
    return 0
