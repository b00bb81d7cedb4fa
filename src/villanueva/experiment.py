"""One training run from start to finish, as the CLI's `train` does it:

names -> corpus -> split + vocab -> model -> trainer -> run directory -> final losses and samples.
"""

import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from villanueva.data import Corpus, Split, Vocab, load_corpus, split_names
from villanueva.errors import UserError
from villanueva.inference import sample_names
from villanueva.models import build_model, make_config
from villanueva.models.base import count_parameters, model_device
from villanueva.runs import RunWriter, read_checkpoint, read_metrics, read_run_setup
from villanueva.training import (Callbacks, Checkpoint, TrainConfig, calibrate_batchnorm, check_name_lengths,
                                 check_trainable, model_examples, resolve_device, split_losses, train)

SAMPLES_SAVED = 20


@dataclass
class DataOptions:
    path: str | None = None        # None = the embedded municipalities
    column: str | None = None      # a CSV column; None = one name per line
    keep_accents: bool = False
    split_seed: int = 42

    def load(self) -> Corpus:
        return load_corpus(self.path, self.column, self.keep_accents)


@dataclass
class RunSummary:
    path: Path
    model: str
    parameters: int
    steps: int               # 0 for a model fitted by counting
    best_step: int
    seconds: float
    initial_loss: float | None  # the untrained model's; ln(vocab size) is a uniform guess
    vocab_size: int
    best: dict[str, float]   # train / val / test loss of the saved (best by val) model
    last: dict[str, float]   # the same for the model after the last step
    samples: list[str]
    stopped_early: bool = False  # training stopped before --steps: val loss stopped improving
    diagnosis: object = None  # diagnostics.Diagnosis, with train --diagnose


def train_run(out: Path, model_name: str, model_options: dict, train_config: TrainConfig,
              data: DataOptions, recipe_name: str = "fast", progress: bool = False) -> RunSummary:
    """Train a new model into the new run directory `out`."""
    corpus, split, vocab, model_config, model = _start(model_name, model_options, train_config, data)
    config = {
        "model": model_name, "model_config": asdict(model_config), "recipe": recipe_name,
        "train": asdict(train_config),
        "data": {**asdict(data), "source": corpus.source, "names": len(corpus), "vocab_size": len(vocab)},
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": {"threads": torch.get_num_threads(), "torch": torch.__version__},
    }
    with RunWriter.create(out, config, vocab, split) as writer:
        return _train_and_finish(writer, model_name, model, vocab, split, train_config, progress)


def _start(model_name: str, model_options: dict, train_config: TrainConfig, data: DataOptions):
    """Corpus, split, vocab, model config and the untrained model (seeded, on its device), checked
    against the training settings: how every run, and every lr sweep, starts."""
    corpus = data.load()
    split = split_names(corpus.names, data.split_seed)
    vocab = Vocab.from_names(corpus.names)
    model_config = make_config(model_name, **model_options)
    device = resolve_device(train_config.device)
    torch.manual_seed(train_config.seed)
    model = build_model(model_name, model_config, len(vocab)).to(device)
    check_trainable(model, train_config, sum(len(name) + 1 for name in split.train))
    check_name_lengths(model, corpus.names)  # val and test are scored too
    if train_config.diagnose:
        from villanueva.diagnostics import check_diagnosable  # matplotlib loads only when asked for
        check_diagnosable(model, model_name)
    return corpus, split, vocab, model_config, model


def lr_find_run(out: Path, model_name: str, model_options: dict, train_config: TrainConfig,
                data: DataOptions, sweep=None):
    """Sweep the learning rate over a short run of a new model (nothing is kept but the plot of loss
    vs learning rate, written to `out`, a .png file); returns the diagnostics' LRSweep."""
    from villanueva.diagnostics.lr_find import SweepRange, check_plot_path, lr_sweep, write_lr_plot

    check_plot_path(out)
    _, split, vocab, _, model = _start(model_name, model_options, train_config, data)
    train_set = tuple(t.to(model_device(model)) for t in model_examples(model, split.train, vocab))
    result = lr_sweep(model, train_set, train_config, sweep or SweepRange())
    write_lr_plot(out, result)
    return result


def resume_run(path: Path, progress: bool = False) -> RunSummary:
    """Continue an interrupted run from its last checkpoint, exactly as if it had never stopped."""
    with RunWriter.reopen(path) as writer:
        setup = read_run_setup(writer.path)
        records = read_metrics(writer.path)
        if any(record.get("final") for record in records):
            raise UserError(f"{path} has finished training; nothing to resume")
        checkpoint = read_checkpoint(writer.path)
        train_config = setup.train_config
        model = setup.model.to(resolve_device(train_config.device))
        # Drop what was written after the checkpoint: the resumed run writes it again.
        writer.rewrite_metrics([{"step": 0, "initial_loss": checkpoint.meta["initial_loss"]},
                                *checkpoint.meta["history"]])
        return _train_and_finish(writer, setup.config["model"], model, setup.vocab, setup.split,
                                 train_config, progress, checkpoint)


def _train_and_finish(writer: RunWriter, model_name: str, model, vocab: Vocab, split: Split,
                      train_config: TrainConfig, progress: bool,
                      resume: Checkpoint | None = None) -> RunSummary:
    device = model_device(model)
    train_set, val_set = (tuple(t.to(device) for t in model_examples(model, names, vocab))
                          for names in (split.train, split.val))
    callbacks = Callbacks(on_validation=writer.append_metrics, on_best=writer.save_weights,
                          on_checkpoint=writer.save_checkpoint)
    result = train(model, train_set, val_set, train_config, callbacks, progress, resume)

    last = _final_losses(model, train_config, train_set[0], vocab, split)
    model.load_state_dict(result.best_state)
    best = _final_losses(model, train_config, train_set[0], vocab, split)
    writer.save_weights(model.state_dict())
    samples = sample_names(model, vocab, SAMPLES_SAVED, seed=train_config.seed)
    writer.save_samples(samples)
    parameters = count_parameters(model)
    writer.append_metrics({"final": True, "best_step": result.best_step, "steps": result.steps_done,
                           "seconds": round(result.seconds, 3), "parameters": parameters,
                           "best": best, "last": last, "stopped_early": result.stopped_early})
    writer.remove_checkpoint()
    diagnosis = None
    if train_config.diagnose:
        from villanueva.diagnostics import diagnose_run
        diagnosis = diagnose_run(writer.path, train_config.device)
    return RunSummary(writer.path, model_name, parameters, result.steps_done, result.best_step,
                      result.seconds, result.initial_loss, len(vocab), best, last, samples,
                      result.stopped_early, diagnosis)


def _final_losses(model, train_config: TrainConfig, train_contexts, vocab, split) -> dict[str, float]:
    if train_config.calibrate_batchnorm:
        calibrate_batchnorm(model, train_contexts)
    return split_losses(model, vocab, split)
