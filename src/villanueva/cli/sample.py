"""`villanueva sample [RUN]`: invent names (default: with the bundled model)."""

from villanueva.cli.options import add_label_option, add_run_arguments


def add(commands):
    parser = commands.add_parser("sample", help="invent names (no RUN: the bundled model)")
    parser.set_defaults(command=run)
    add_run_arguments(parser, bundled=True)
    parser.add_argument("-n", "--count", type=int, default=20, help="how many names (default 20)")
    add_label_option(parser, "names")
    parser.add_argument("--seed", type=int, help="seed for repeatable samples (default: random)")
    parser.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        help="below 1: safer, more typical names; above 1: wilder (default 1.0)",
    )
    parser.add_argument("--top-k", type=int, help="draw only from the k likeliest characters")
    parser.add_argument("--prefix", default="", help="start every name with this text")
    parser.add_argument(
        "--new-only", action="store_true", help="only names that are not in the training data (distinct)"
    )
    return parser


def run(args) -> int:
    from villanueva.data import clean_prefix
    from villanueva.inference import sample_names, sample_new_names
    from villanueva.runs import load_run
    from villanueva.training import resolve_device

    trained = load_run(args.run, resolve_device(args.device))
    options = dict(
        seed=args.seed,
        temperature=args.temperature,
        top_k=args.top_k,
        prefix=clean_prefix(args.prefix, trained.keep_accents),
        label_weights=trained.label_weights(args.label),
    )
    if args.new_only:
        print("\n".join(sample_new_names(trained.model, trained.vocab, args.count, trained.names, **options)))
        return 0
    known = trained.names
    for name in sample_names(trained.model, trained.vocab, args.count, **options):
        print(f"{name}  (in training data)" if name in known else name)
    return 0
