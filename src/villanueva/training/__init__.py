"""The training stage: settings, recipes, the loss definition and the training loop."""

from villanueva.training.batchnorm import calibrate_batchnorm
from villanueva.training.checkpoint import Checkpoint
from villanueva.training.config import TrainConfig
from villanueva.training.device import resolve_device, use_threads
from villanueva.training.examples import check_name_lengths, model_examples
from villanueva.training.loss import batch_loss, initial_loss, names_loss, split_loss, split_losses
from villanueva.training.presets import PRESETS, Preset, preset
from villanueva.training.recipes import RECIPES, recipe
from villanueva.training.trainer import Callbacks, TrainingInterrupted, TrainResult, check_trainable, train

__all__ = ["Callbacks", "Checkpoint", "PRESETS", "Preset", "RECIPES", "TrainConfig", "TrainResult",
           "TrainingInterrupted", "batch_loss", "calibrate_batchnorm", "check_name_lengths",
           "check_trainable", "initial_loss", "model_examples", "names_loss", "preset", "recipe",
           "resolve_device", "split_loss", "split_losses", "train", "use_threads"]
