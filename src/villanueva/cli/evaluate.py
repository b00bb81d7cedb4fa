"""`villanueva eval RUN`: the train / val / test loss of a run's saved model."""

from villanueva.cli.options import add_run_arguments, run_path
from villanueva.inference.score import MARGINAL_SKIPPED


def add(commands):
    parser = commands.add_parser("eval", help="print the train / val / test loss of a run")
    parser.set_defaults(command=run)
    add_run_arguments(parser)
    return parser


def run(args) -> int:
    from villanueva.inference import evaluate_run
    from villanueva.runs import open_run

    run = open_run(run_path(args), args.device)
    losses = evaluate_run(run)
    for part, loss in losses.items():
        print(f"{part} loss {loss:.4f}")
    if run.labels is not None and "val marginal" not in losses:
        print(f"marginal loss (the label summed out): {MARGINAL_SKIPPED}")
    return 0
