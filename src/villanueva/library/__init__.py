"""The Python library: load or train a model, then sample, score, guess, evaluate and diagnose."""

from villanueva.library.trained import Names, ShortfallWarning, TrainedModel, diagnose, load, resume, train

__all__ = ["Names", "ShortfallWarning", "TrainedModel", "diagnose", "load", "resume", "train"]
