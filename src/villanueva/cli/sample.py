"""`villanueva sample [RUN]`: invent names (default: with the bundled model), under constraints."""

import sys

from villanueva.cli.formats import RecordWriter, add_format_option
from villanueva.cli.options import add_options, add_run_arguments, build, run_path
from villanueva.data.spelling import Writing
from villanueva.errors import flag, worded
from villanueva.inference.constraints import Constraints
from villanueva.inference.on_demand import Sampling, Style
from villanueva.inference.sample import Drawing

SHORTFALL = 3  # the exit status when the budget ran out before enough names were found
GROUPS = {
    "names": (Sampling, Style, Writing),
    "drawing each character": (Drawing,),
    "constraints": (Constraints,),
}


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
    for title, classes in GROUPS.items():
        group = parser.add_argument_group(title)
        for cls in classes:
            add_options(group, cls)
    add_format_option(parser, "one name per line, known ones marked")
    return parser


def run(args) -> int:
    from villanueva.inference import SampleReport
    from villanueva.inference.on_demand import sample_run
    from villanueva.runs import open_run

    trained = open_run(run_path(args), args.device)
    options = [build(cls, args) for cls in (Sampling, Style, Constraints, Drawing)]
    report = SampleReport()
    columns = ["name", "loss", *(["label"] if trained.labels is not None else []), "known"]
    writer = RecordWriter(
        args.format, columns, lambda n: f"{n.name}  (in training data)" if n.known else n.name
    )
    writing = build(Writing, args)
    for batch in sample_run(trained, *options, report=report, losses=args.format != "txt"):
        writer.write(writing.applied(batch))
    writer.close()
    if not report.complete:
        print(f"villanueva: {worded(report.shortfall(), flag)}", file=sys.stderr)
        return SHORTFALL
    return 0
