"""One training run from start to finish, as the CLI's `train` does it:

names -> corpus -> split + vocab -> model -> trainer -> run directory -> final losses and samples.
"""

import time
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

import torch

from villanueva.data import DataOptions, LabelSet, Split, Vocab, split_names
from villanueva.errors import UserError
from villanueva.inference import marginal_losses, sample_names
from villanueva.inference.export import export_model
from villanueva.machine import require_fits, resolve_device
from villanueva.models import build_model
from villanueva.models.base import NameModel
from villanueva.models.weights import model_device
from villanueva.runs import (
    DataRecord,
    Machine,
    RunRecord,
    RunResult,
    RunWriter,
    read_metrics,
)
from villanueva.runs.model import read_checkpoint, read_run_setup
from villanueva.runs.run import CHECKPOINT, EXPORT
from villanueva.training import (
    Callbacks,
    Checkpoint,
    Settings,
    TrainingInterrupted,
    calibrate_batchnorm,
    check_trainable,
    split_losses,
    train,
)
from villanueva.training.distributed import Ranks
from villanueva.training.loss import part_label_ids
from villanueva.training.memory import planned, training_bytes
from villanueva.training.trainer import OnProgress

SAMPLES_SAVED = 20


@dataclass
class TrainedRun:
    """What `train` prints: the run's record and result, its samples and, if asked for, its diagnosis."""

    path: Path
    record: RunRecord
    result: RunResult
    samples: list[str]
    diagnosis: object = None  # diagnostics.Diagnosis, with train --diagnose


def train_run(
    out: Path,
    settings: Settings,
    data: DataOptions,
    device: str = "cpu",
    on_progress: OnProgress | None = None,
    command: str = "",
    tensorboard: Path | None = None,
) -> TrainedRun | None:
    """Train a new model into the new run directory `out`; `command` is the command line that
    asked for it, recorded in config.json; with `tensorboard`, event files go there too. Under
    torchrun, every process calls this and rank 0 alone writes and gets the run (the others None)."""
    ranks = Ranks.from_environment(resolve_device(device))
    outputs = _Outputs(on_progress=on_progress)
    try:
        with ranks.together():
            corpus, split, vocab, labels, model, settings = _start(settings, data, device, ranks)
            record = RunRecord(
                settings,
                DataRecord(data, corpus.source, len(corpus), len(vocab)),
                Machine.current(device, ranks.world),
                time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                command,
            )
            outputs.log = _tensorboard_log(tensorboard, ranks)
            if ranks.writes:
                outputs.writer = RunWriter.create(out, record, vocab, split, labels)
        return _train_and_finish(outputs, record, model, _Data(vocab, split, labels), ranks=ranks)
    finally:
        outputs.close()


def _start(settings: Settings, data: DataOptions, device: str, ranks: Ranks = Ranks()):
    """Corpus, split, vocab, the untrained model (seeded, on its device) and the settings sized for
    the training set (--epochs), checked against each other: how every run, and every lr sweep,
    starts."""
    corpus = data.load()
    corpus_labels = corpus.labels if data.conditioned else None
    split = split_names(corpus.names, data.split_seed, corpus_labels)
    vocab = Vocab.from_names(corpus.names)
    labels = corpus.label_set(data.label, split.labels["train"]) if data.conditioned else None
    torch_device = ranks.device(resolve_device(device))
    build = partial(build_model, settings.model, settings.model_config, len(vocab), len(labels or ()))
    plan = planned(build)
    settings = replace(settings, train=settings.train.sized_for(plan.example_shape(split.train)[0]))
    require_fits(training_bytes(plan, split.train, settings.train.batch_size), f"this {settings.model}")
    torch.manual_seed(settings.train.seed)
    model = build().to(torch_device)
    check_trainable(model, settings.train, sum(len(name) + 1 for name in split.train))
    model.check_lengths(corpus.names)  # val and test are scored too
    if settings.train.diagnose:
        from villanueva.diagnostics import check_diagnosable  # matplotlib loads only when asked for

        check_diagnosable(model, settings.model)
    return corpus, split, vocab, labels, model, settings


def lr_find_run(
    out: Path, settings: Settings, data: DataOptions, sweep=None, device: str = "cpu", force: bool = False
):
    """Sweep the learning rate over a short run of a new model (nothing is kept but the plot of loss
    vs learning rate, written to `out`, a new .png file, or an existing one with `force`); returns
    the diagnostics' LRSweep."""
    from villanueva.diagnostics.lr_find import SweepRange, check_plot_path, lr_sweep, write_lr_plot

    check_plot_path(out, force)
    _, split, vocab, labels, model, settings = _start(settings, data, device)
    examples = model.examples(split.train, vocab, part_label_ids(split, labels, "train"))
    train_set = tuple(t.to(model_device(model)) for t in examples)
    result = lr_sweep(model, train_set, settings.train, sweep or SweepRange())
    write_lr_plot(out, result)
    return result


def resume_run(
    path: Path, device: str = "cpu", on_progress: OnProgress | None = None, tensorboard: Path | None = None
) -> TrainedRun | None:
    """Continue an interrupted run from its last checkpoint, exactly as if it had never stopped
    (bit for bit on the device it was interrupted on, in one process). Under torchrun, every
    process reads the checkpoint and rank 0 alone rewrites the run (the others get None)."""
    torch_device = resolve_device(device)
    ranks = Ranks.from_environment(torch_device)
    outputs = _Outputs(on_progress=on_progress)
    try:
        with ranks.together():
            outputs.writer = RunWriter.reopen(path) if ranks.writes else None
            run = read_run_setup(path)
            if any(record.get("final") for record in read_metrics(path)):
                raise UserError(f"{path} has finished training; nothing to resume")
            # No checkpoint yet: the run stopped before its first one was written, so it starts
            # again from step 0, with the model a new run would have built (seeded as train_run).
            checkpoint = read_checkpoint(path) if (path / CHECKPOINT).is_file() else None
            settings = run.record.settings
            torch.manual_seed(settings.train.seed)
            model = build_model(settings.model, settings.model_config, len(run.vocab), len(run.labels or ()))
            model = model.to(ranks.device(torch_device))
            if checkpoint is not None:
                examples = model.example_shape(run.split.train)[0]
                checkpoint.check(model, settings.train.steps, examples)
            outputs.log = _tensorboard_log(tensorboard, ranks)
        if outputs.writer is not None:
            # Drop what was written after the checkpoint: the resumed run writes it again.
            kept = []
            if checkpoint is not None:
                meta = checkpoint.meta
                kept = [{"step": 0, "initial_loss": meta["initial_loss"]}, *meta["history"]]
            outputs.writer.rewrite_metrics(kept)
        data = _Data(run.vocab, run.split, run.labels)
        return _train_and_finish(outputs, run.record, model, data, checkpoint, ranks)
    finally:
        outputs.close()


@dataclass
class _Data:
    """What a run learns from, once read: its characters, its split and its labels (if conditioned)."""

    vocab: Vocab
    split: Split
    labels: LabelSet | None

    def examples(self, model: NameModel, part: str):
        names = self.split.parts()[part]
        examples = model.examples(names, self.vocab, part_label_ids(self.split, self.labels, part))
        return tuple(t.to(model_device(model)) for t in examples)


def _tensorboard_log(directory: Path | None, ranks: Ranks):
    if directory is None or not ranks.writes:
        return None
    from villanueva.runs.tensorboard import TensorBoardLog  # an optional extra, loaded when asked for

    return TensorBoardLog(directory)


@dataclass
class _Outputs:
    """Where a training's records go: the run directory (None on torchrun ranks other than 0),
    TensorBoard's event files and the progress bar, each if there is one."""

    writer: RunWriter | None = None
    log: object = None  # runs.tensorboard.TensorBoardLog
    on_progress: OnProgress | None = None

    def callbacks(self) -> Callbacks:
        if self.writer is None:
            return Callbacks()
        callbacks = Callbacks(self._validated, self.writer.save_weights, self.writer.save_checkpoint)
        if self.on_progress is not None:
            callbacks.on_progress = self.on_progress
        return callbacks

    def _validated(self, record: dict) -> None:
        self.writer.append_metrics(record)
        if self.log is not None:
            self.log.record(record)

    def close(self) -> None:
        for output in (self.writer, self.log):
            if output is not None:
                output.close()


def _train_and_finish(
    outputs: _Outputs,
    record: RunRecord,
    model: NameModel,
    data: _Data,
    resume: Checkpoint | None = None,
    ranks: Ranks = Ranks(),
) -> TrainedRun | None:
    """Train, then (where there is a writer: rank 0) evaluate, sample and write the final record."""
    config = record.settings.train
    train_set, val_set = data.examples(model, "train"), data.examples(model, "val")
    try:
        trained = train(model, train_set, val_set, config, outputs.callbacks(), resume, ranks)
    except TrainingInterrupted:  # every rank stops at the same step
        ranks.leave()
        raise
    ranks.leave()  # the rest is rank 0's alone: evaluation, samples, the final record
    writer = outputs.writer
    if writer is None:  # another rank's: rank 0 finishes the run
        return None

    last = _final_losses(model, config.calibrate_batchnorm, train_set[0], data)
    model.load_state_dict(trained.best_state)
    best = _final_losses(model, config.calibrate_batchnorm, train_set[0], data)
    writer.save_weights(model.state_dict())
    export_model(model, writer.path / EXPORT)  # names without PyTorch, from ONNX Runtime
    weights = data.labels.prior() if data.labels is not None else None
    samples = sample_names(model, data.vocab, SAMPLES_SAVED, seed=config.seed, label_weights=weights)
    writer.save_samples(samples)
    result = RunResult(
        trained.steps_done,
        trained.best_step,
        round(trained.seconds, 3),
        model.parameter_count(),
        best,
        last,
        trained.stopped_early,
        trained.initial_loss,
        marginal_losses(model, data.vocab, data.split, data.labels) if data.labels is not None else None,
    )
    writer.finish(result)
    diagnosis = None
    if config.diagnose:
        from villanueva.diagnostics import diagnose_run

        diagnosis = diagnose_run(writer.path, model_device(model).type)
    return TrainedRun(writer.path, record, result, samples, diagnosis)


def _final_losses(model, calibrate: bool, train_contexts, data: _Data) -> dict[str, float]:
    if calibrate:
        calibrate_batchnorm(model, train_contexts)
    return split_losses(model, data.vocab, data.split, data.labels)
