"""`villanueva score RUN NAME...`: how typical names are, as loss per character."""

from villanueva.cli.options import add_run_arguments


def add(commands):
    parser = commands.add_parser(
        "score", help="how typical names are: loss per character (lower = more in style)"
    )
    parser.set_defaults(command=run)
    add_run_arguments(parser)
    parser.add_argument("names", nargs="+", metavar="NAME", help="names to score")
    return parser


def run(args) -> int:
    from villanueva.inference import score_names
    from villanueva.runs import load_run
    from villanueva.training import resolve_device

    trained = load_run(args.run, resolve_device(args.device))
    for name, loss in score_names(trained.model, trained.vocab, args.names, trained.keep_accents):
        print(f"{loss:.4f}  {name}")
    return 0
