"""The training stage: settings, recipes, the loss definition and the training loop."""

from villanueva.training.batchnorm import calibrate_batchnorm
from villanueva.training.config import TrainConfig
from villanueva.training.device import resolve_device
from villanueva.training.loss import initial_loss, names_loss, split_loss, split_losses
from villanueva.training.recipes import RECIPES, recipe
from villanueva.training.trainer import TrainResult, train

__all__ = ["RECIPES", "TrainConfig", "TrainResult", "calibrate_batchnorm", "initial_loss", "names_loss",
           "recipe", "resolve_device", "split_loss", "split_losses", "train"]
