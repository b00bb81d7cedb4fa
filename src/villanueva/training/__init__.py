"""The training stage: settings and how they are resolved, recipes, the loss definition, the
optimisation step and the training loop."""

from villanueva.training.batchnorm import calibrate_batchnorm
from villanueva.training.checkpoint import Checkpoint
from villanueva.training.config import TrainConfig
from villanueva.training.device import resolve_device, use_threads
from villanueva.training.loss import batch_loss, initial_loss, names_loss, split_loss, split_losses
from villanueva.training.presets import PRESETS, Preset, preset
from villanueva.training.recipes import RECIPES, recipe
from villanueva.training.settings import DEFAULT_MODEL, Settings, changes, resolve
from villanueva.training.step import optimisation_step
from villanueva.training.trainer import Callbacks, TrainingInterrupted, TrainResult, check_trainable, train

__all__ = [
    "Callbacks",
    "Checkpoint",
    "DEFAULT_MODEL",
    "PRESETS",
    "Preset",
    "RECIPES",
    "Settings",
    "TrainConfig",
    "TrainResult",
    "TrainingInterrupted",
    "batch_loss",
    "calibrate_batchnorm",
    "changes",
    "check_trainable",
    "initial_loss",
    "names_loss",
    "optimisation_step",
    "preset",
    "recipe",
    "resolve",
    "resolve_device",
    "split_loss",
    "split_losses",
    "train",
    "use_threads",
]
