"""`villanueva labels [RUN]`: the labels a conditioned run knows, with their training names."""

from villanueva.cli.options import add_run_arguments, run_path


def add(commands):
    parser = commands.add_parser(
        "labels", help="the labels (provinces, communities) a run can sample and guess, with counts"
    )
    parser.set_defaults(command=run)
    add_run_arguments(parser, bundled=True)
    return parser


def run(args) -> int:
    from villanueva.errors import UserError
    from villanueva.runs import read_run

    path = run_path(args)
    labels = read_run(path).labels
    if labels is None:
        raise UserError(
            f"{path or 'the bundled model'} is not conditioned on labels; "
            "train with --condition or --label-column"
        )
    count = dict(zip(labels.names, labels.counts))
    width = max(map(len, [*labels.names, *labels.groups]))
    print(f"{len(labels)} {labels.kind} labels (training names each):")
    for name in labels.names:
        print(f"  {name:{width}}  {count[name]:5,}")
    if labels.groups:
        print(
            f"{len(labels.groups)} {labels.group_kind} groups, each a --label too "
            f"(training names, its {labels.kind} labels):"
        )
        for group, members in labels.groups.items():
            print(f"  {group:{width}}  {sum(count[m] for m in members):5,}  {', '.join(members)}")
    return 0
