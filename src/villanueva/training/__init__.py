"""The training stage: settings and how they are resolved, recipes, the loss definition, the
optimizer and its schedule, the gradient of a batch, the training loop and its state.

The settings (config, presets, recipes, settings) need no torch and load with the package, since
every run's config.json holds them; what trains is imported on first use, so that reading a run
on an install without PyTorch works."""

from importlib import import_module

from villanueva.training.config import TrainConfig
from villanueva.training.presets import PRESETS, Preset, preset
from villanueva.training.recipes import RECIPES, recipe
from villanueva.training.settings import DEFAULT_MODEL, Settings, changes, resolve

_NEEDS_TORCH = {
    "calibrate_batchnorm": "batchnorm",
    "Checkpoint": "checkpoint",
    "initial_loss": "loss",
    "names_loss": "loss",
    "split_loss": "loss",
    "split_losses": "loss",
    "backward": "step",
    "Callbacks": "trainer",
    "TrainingInterrupted": "trainer",
    "TrainResult": "trainer",
    "check_trainable": "trainer",
    "train": "trainer",
}


def __getattr__(name: str):
    if name in _NEEDS_TORCH:
        return getattr(import_module(f"villanueva.training.{_NEEDS_TORCH[name]}"), name)
    raise AttributeError(f"module 'villanueva.training' has no attribute {name!r}")


__all__ = [
    "DEFAULT_MODEL",
    "PRESETS",
    "RECIPES",
    "Preset",
    "Settings",
    "TrainConfig",
    "changes",
    "preset",
    "recipe",
    "resolve",
    *_NEEDS_TORCH,
]
