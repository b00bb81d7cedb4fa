"""`villanueva diagnose RUN`: plots and verdicts on how healthy a run's training was."""

import textwrap

from villanueva.cli.options import add_run_arguments, run_path


def add(commands):
    parser = commands.add_parser(
        "diagnose",
        help="plots and verdicts on how healthy a run's training was",
        description="Look inside a run's model at init and at the end of training (loss at init, "
        "activations, saturation, gradients, update:data ratios, loss curve, "
        "embeddings): write RUN/plots/*.png and RUN/diagnostics.json and say in words "
        "what looks unhealthy. See docs/diagnostics.md.",
    )
    parser.set_defaults(command=run)
    add_run_arguments(parser)
    return parser


def run(args) -> int:
    from villanueva.diagnostics import diagnose_run

    print_diagnosis(diagnose_run(run_path(args), args.device))
    return 0


def print_diagnosis(diagnosis) -> None:
    from villanueva.diagnostics.diagnose import HEALTH
    from villanueva.errors import flag, worded

    print(f"diagnosis of {diagnosis.path}:")
    for verdict in diagnosis.verdicts:
        head = f"  {verdict.topic:14} {HEALTH[verdict.healthy]:10} "
        text = worded(verdict.text, flag)
        print(textwrap.fill(text, width=100, initial_indent=head, subsequent_indent=" " * len(head)))
    print(
        f"plots and numbers written to {diagnosis.path / 'plots'} and {diagnosis.path / 'diagnostics.json'}"
    )
