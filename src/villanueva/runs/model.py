"""A run's torch model: built from its config.json, loaded with its weights, or its checkpoint
read to resume. What trains and what diagnoses a run needs this; sampling, scoring and guessing do
not (runs/run.py reads the rest of a run without torch)."""

from functools import partial
from pathlib import Path

import safetensors.torch
import torch
from safetensors import SafetensorError, safe_open

from villanueva.errors import UserError
from villanueva.machine import require_fits, resolve_device
from villanueva.models import build_model
from villanueva.models.base import NameModel
from villanueva.models.weights import load_weights
from villanueva.runs.run import CHECKPOINT, WEIGHTS, Run, read_names
from villanueva.training import Checkpoint
from villanueva.training.memory import planned, weight_bytes


def read_run_setup(path: Path) -> Run:
    """The record, vocab and split of a run, and its model built untrained from them."""
    run = read_names(Path(path))
    run.model = build_untrained(run)
    return run


def build_untrained(run: Run) -> NameModel:
    settings = run.record.settings
    build = partial(build_model, settings.model, settings.model_config, len(run.vocab), len(run.labels or ()))
    require_fits(2 * weight_bytes(planned(build)), f"the model of {run.path}")  # a damaged config.json
    return build()


def load_model(run: Run, device: str | torch.device = "cpu") -> NameModel:
    """The run's model with its best weights, in eval mode, on `device`."""
    device = resolve_device(device) if isinstance(device, str) else device
    model = build_untrained(run)
    _load_weights(model, run.path / WEIGHTS)
    return model.to(device).eval()


def read_checkpoint(path: Path) -> Checkpoint:
    file = Path(path) / CHECKPOINT
    if not file.is_file():
        raise UserError(f"{path} has no {CHECKPOINT} to resume from")
    try:
        with safe_open(str(file), "pt") as reader:
            tensors = {name: reader.get_tensor(name) for name in reader.keys()}
            metadata = reader.metadata()
    except (SafetensorError, OSError, ValueError) as error:
        raise UserError(f"{file} is not a readable checkpoint ({error})") from None
    return Checkpoint.from_safetensors(tensors, metadata)


def _load_weights(model: torch.nn.Module, path: Path) -> None:
    try:
        state = safetensors.torch.load_file(str(path))
    except (SafetensorError, OSError, ValueError) as error:
        raise UserError(f"{path} is not a readable safetensors file ({error})") from None
    load_weights(model, state, str(path))
