"""Consumers of a trained model or run: sample new names, score names, evaluate a run."""

from villanueva.inference.evaluate import evaluate_run
from villanueva.inference.guess import Guess, guess_labels
from villanueva.inference.sample import sample_names, sample_new_names
from villanueva.inference.score import marginal_loss, marginal_losses, score_names

__all__ = [
    "Guess",
    "guess_labels",
    "evaluate_run",
    "marginal_loss",
    "marginal_losses",
    "sample_names",
    "sample_new_names",
    "score_names",
]
