"""Consumers of a trained model or run: sample new names, score names, guess labels, evaluate a run."""

from villanueva.inference.constraints import Constraints
from villanueva.inference.evaluate import evaluate_run
from villanueva.inference.guess import Guess, guess_labels, guess_run
from villanueva.inference.sample import Drawing, Sampled, SampleReport, sample, sample_names
from villanueva.inference.score import marginal_loss, marginal_losses, score_names

__all__ = [
    "Constraints",
    "Drawing",
    "Guess",
    "SampleReport",
    "Sampled",
    "evaluate_run",
    "guess_labels",
    "guess_run",
    "marginal_loss",
    "marginal_losses",
    "sample",
    "sample_names",
    "score_names",
]
