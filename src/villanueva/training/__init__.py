"""The training stage: settings, recipes, the loss definition and the training loop."""

from villanueva.training.config import TrainConfig
from villanueva.training.device import resolve_device
from villanueva.training.loss import names_loss, split_loss, split_losses
from villanueva.training.recipes import RECIPES, recipe
from villanueva.training.trainer import TrainResult, train

__all__ = ["RECIPES", "TrainConfig", "TrainResult", "recipe", "resolve_device", "names_loss", "split_loss", "split_losses", "train"]
