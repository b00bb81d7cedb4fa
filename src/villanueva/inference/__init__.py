"""Consumers of a trained model or run: sample new names, score names, evaluate a run."""

from villanueva.inference.evaluate import evaluate_run
from villanueva.inference.sample import sample_names, sample_new_names
from villanueva.inference.score import score_names

__all__ = ["evaluate_run", "sample_names", "sample_new_names", "score_names"]
