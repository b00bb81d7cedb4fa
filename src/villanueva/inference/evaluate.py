"""The loss of a saved run on each part of its split."""

from villanueva.inference.graphs import run_steps
from villanueva.inference.score import marginal_losses, per_character_loss
from villanueva.runs import Run


def evaluate_run(run: Run) -> dict[str, float]:
    """{"train": loss, "val": loss, "test": loss} of the run's saved (best) model; a conditioned
    run's are given each name's label, and "val marginal" and "test marginal" sum the label out (where
    there are not too many labels to do so: `marginal_losses`)."""
    steps, labels = run_steps(run), run.labels
    losses = {
        part: per_character_loss(
            steps, run.vocab, names, None if labels is None else labels.ids(run.split.labels[part])
        )
        for part, names in run.split.parts().items()
    }
    marginal = marginal_losses(steps, run.vocab, run.split, labels) if labels is not None else None
    losses.update({f"{part} marginal": loss for part, loss in (marginal or {}).items()})
    return losses
