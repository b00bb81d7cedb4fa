"""`villanueva score NAME...`: how typical names are, as loss per character."""

from villanueva.cli.options import add_label_option, add_run_option


def add(commands):
    parser = commands.add_parser(
        "score", help="how typical names are: loss per character (lower = more in style)"
    )
    parser.set_defaults(command=run)
    parser.add_argument("names", nargs="+", metavar="NAME", help="names to score")
    add_run_option(parser)
    add_label_option(parser, "score")
    return parser


def run(args) -> int:
    from villanueva.inference import score_names
    from villanueva.runs import load_run
    from villanueva.training import resolve_device

    trained = load_run(args.run, resolve_device(args.device))
    weights = trained.label_weights(args.label)
    for name, loss in score_names(trained.model, trained.vocab, args.names, trained.keep_accents, weights):
        print(f"{loss:.4f}  {name}")
    return 0
