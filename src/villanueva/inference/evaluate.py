"""The loss of a saved run on each part of its split."""

from villanueva.inference.score import marginal_losses
from villanueva.runs import Run
from villanueva.training import split_losses


def evaluate_run(run: Run) -> dict[str, float]:
    """{"train": loss, "val": loss, "test": loss} of the run's saved (best) model; a conditioned
    run's are given each name's label, and "val marginal" and "test marginal" sum the label out."""
    losses = split_losses(run.model, run.vocab, run.split, run.labels)
    if run.labels is not None:
        marginal = marginal_losses(run.model, run.vocab, run.split, run.labels)
        losses.update({f"{part} marginal": loss for part, loss in marginal.items()})
    return losses
