"""The loss of a saved run on each part of its split."""

from villanueva.runs import Run
from villanueva.training import split_losses


def evaluate_run(run: Run) -> dict[str, float]:
    """{"train": loss, "val": loss, "test": loss} of the run's saved (best) model."""
    return split_losses(run.model, run.vocab, run.split)
