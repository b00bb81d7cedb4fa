"""A trial: an ordinary run directory (`<out>/trial-0007`), trained by `train_run` as `villanueva
train` trains one. Its validation losses go to Optuna as they arrive, numbered by validation (1 to
20), not by step, so that trials of different lengths are compared at the same point of their
schedules; the median pruner stops one worse than the median of the earlier trials there."""

import os
import socket
import time
from dataclasses import asdict, fields

import optuna

from villanueva.errors import UserError
from villanueva.training import Preset, Settings, TrainConfig, resolve
from villanueva.tune.space import draw
from villanueva.tune.study import TuneRequest

TRAINING = {f.name for f in fields(TrainConfig)}


class OutOfTime(Exception):
    """The tune's --timeout came while a trial was training: the trial is failed, the search ends."""


def objective(request: TuneRequest, trial, deadline: float | None) -> float:
    from villanueva.experiment import train_run  # torch: loaded by what trains, not by `--help`

    model = trial.suggest_categorical("model", list(request.models))
    settings = _settings(model, draw(trial, model), request.data.conditioned)
    run = request.out / f"trial-{trial.number:04d}"
    trial.set_user_attr("run", str(run))
    trial.set_user_attr("host", socket.gethostname())  # where it ran, in a study shared by machines
    trial.set_user_attr("pid", os.getpid())
    trial.set_user_attr("conditioned", request.data.conditioned)
    command = f"villanueva tune: trial {trial.number} of the study {request.study!r}"
    try:
        trained = train_run(run, settings, request.data, request.device, _Reporter(trial, deadline), command)
    except UserError as error:  # these settings cannot train (they diverged, or do not fit): a failed trial
        trial.set_user_attr("ended", str(error))
        raise
    result = trained.result
    for name, value in (("steps", result.steps), ("seconds", result.seconds), ("test", result.best["test"])):
        trial.set_user_attr(name, value)
    trial.set_user_attr("train", result.best["train"])
    return result.best["val"]


class _Reporter:
    """The trainer's on_progress: each validation's loss to Optuna, and the pruner's verdict."""

    def __init__(self, trial, deadline: float | None):
        self.trial, self.deadline, self.validations = trial, deadline, 0

    def __call__(self, step: int, steps: int, record: dict | None) -> None:
        if self.deadline is not None and time.time() > self.deadline:
            self.trial.set_user_attr("ended", "out of time (--timeout)")
            raise OutOfTime()
        if record is None:
            return
        self.validations += 1
        self.trial.report(record["val_loss"], self.validations)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"val {record['val_loss']:.4f} at validation {self.validations}")


def best_settings(study) -> Settings:
    """The settings of the study's best trial."""
    if not any(t.state.name == "COMPLETE" for t in study.trials):
        raise UserError(f"the study {study.study_name!r} has no complete trial yet")
    return trial_settings(study.best_trial)


def trial_settings(trial) -> Settings:
    """The settings a trial trained with, from its drawn values (named `<model>.<setting>`)."""
    values = {name.split(".", 1)[1]: value for name, value in trial.params.items() if "." in name}
    return _settings(trial.params["model"], values, trial.user_attrs.get("conditioned", False))


def _settings(model: str, values: dict, conditioned: bool) -> Settings:
    # Three significant digits: a command to read and type (lr 0.00654, not 0.006541432).
    values = {
        name: float(f"{value:.3g}") if isinstance(value, float) else value for name, value in values.items()
    }
    training = {name: value for name, value in values.items() if name in TRAINING}
    model_options = {name: value for name, value in values.items() if name not in TRAINING}
    return resolve(model, None, None, training, model_options, conditioned)


def as_preset(settings: Settings, summary: str) -> Preset:
    """The settings as a preset that `train --preset FILE` reads (changes to the fast recipe)."""
    defaults = resolve(settings.model)
    training = {
        name: value
        for name, value in asdict(settings.train).items()
        if value != getattr(defaults.train, name) and name != "steps"
    }
    return Preset(settings.model, asdict(settings.model_config), training, summary)
