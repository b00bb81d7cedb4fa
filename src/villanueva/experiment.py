"""One training run from start to finish, as the CLI's `train` does it:

names -> corpus -> split + vocab -> model -> trainer -> run directory -> final losses and samples.

A run begins new (`train_run`: from the data and the settings) or again (`resume_run`: from its
directory and checkpoint); from there on it goes one way (`_run`). So does every process of a
torchrun: each calls the same function with the same arguments, builds the same model and trains
its share. What differs is held by one object, `_Outputs`: rank 0's writes the run directory and
reports progress, the others' have nowhere to write. Rank 0 then finishes the run, and every
process returns it as written, so no caller asks which rank it is on.
"""

import time
from collections.abc import Callable
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
from villanueva.runs import DataRecord, Machine, RunRecord, RunResult, RunWriter, read_metrics, read_result
from villanueva.runs.model import read_checkpoint
from villanueva.runs.run import CHECKPOINT, EXPORT, SAMPLES, read_names
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
from villanueva.training.trainer import OnProgress, TrainResult

SAMPLES_SAVED = 20


@dataclass
class TrainedRun:
    """What `train` prints: the run's record and result, its samples and, if asked for, its diagnosis
    (made by the process that finished the run: under torchrun, rank 0)."""

    path: Path
    record: RunRecord
    result: RunResult
    samples: list[str]
    diagnosis: object = None  # diagnostics.Diagnosis, with train --diagnose

    @classmethod
    def read(cls, path: Path, record: RunRecord) -> "TrainedRun":
        """The finished run at `path`, as the process that finished it wrote it."""
        return cls(path, record, read_result(path), (path / SAMPLES).read_text(encoding="utf-8").splitlines())


def train_run(
    out: Path,
    settings: Settings,
    data: DataOptions,
    device: str = "cpu",
    on_progress: OnProgress | None = None,
    command: str = "",
    tensorboard: Path | None = None,
) -> TrainedRun:
    """Train a new model into the new run directory `out`; `command` is the command line that
    asked for it, recorded in config.json; with `tensorboard`, event files go there too."""
    return _run(partial(_new_run, Path(out), settings, data, command), device, on_progress, tensorboard)


def resume_run(
    path: Path, device: str = "cpu", on_progress: OnProgress | None = None, tensorboard: Path | None = None
) -> TrainedRun:
    """Continue an interrupted run from its last checkpoint, exactly as if it had never stopped
    (bit for bit on the device it was interrupted on, in one process)."""
    return _run(partial(_resumed_run, Path(path)), device, on_progress, tensorboard)


def lr_find_run(
    out: Path, settings: Settings, data: DataOptions, sweep=None, device: str = "cpu", force: bool = False
):
    """Sweep the learning rate over a short run of a new model (nothing is kept but the plot of loss
    vs learning rate, written to `out`, a new .png file, or an existing one with `force`); returns
    the diagnostics' LRSweep."""
    from villanueva.diagnostics.lr_find import SweepRange, check_plot_path, lr_sweep, write_lr_plot

    check_plot_path(out, force)
    _, run_data = _read_data(data)
    model = _model(settings, run_data, resolve_device(device))
    result = lr_sweep(model, run_data.examples(model, "train"), settings.train, sweep or SweepRange())
    write_lr_plot(out, result)
    return result


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


@dataclass
class _Start:
    """A run ready to train: its directory, record and data, its untrained model and, resumed, the
    checkpoint it continues from (None: it starts at step 0)."""

    path: Path
    record: RunRecord
    data: _Data
    model: NameModel
    checkpoint: Checkpoint | None = None


def _run(
    begin: "Callable[[Ranks, _Outputs], _Start]",
    device: str,
    on_progress: OnProgress | None,
    tensorboard: Path | None,
) -> TrainedRun:
    """Every run's way, on every process: begin it (a new run or a resumed one), train, finish."""
    ranks = Ranks.from_environment(resolve_device(device))
    with _Outputs(ranks, on_progress, tensorboard) as outputs:
        with ranks.together():  # a process that cannot begin stops the others
            start = begin(ranks, outputs)
        model, config = start.model, start.record.settings.train
        train_set, val_set = start.data.examples(model, "train"), start.data.examples(model, "val")
        try:
            trained = train(model, train_set, val_set, config, outputs.callbacks(), start.checkpoint, ranks)
        except TrainingInterrupted:  # every rank stops at the same step
            ranks.leave()
            raise
        with ranks.together():  # rank 0 finishes the run for all; if it fails, all stop
            finished = _finish(outputs.writer, start, train_set[0], trained) if outputs.writer else None
        ranks.leave()
    return finished if finished is not None else TrainedRun.read(start.path, start.record)


def _new_run(
    out: Path, settings: Settings, data: DataOptions, command: str, ranks: Ranks, outputs: "_Outputs"
) -> _Start:
    """A new run: its data read and split, its model built, its directory created (by rank 0)."""
    corpus, run_data = _read_data(data)
    model = _model(settings, run_data, ranks.device)
    settings = replace(settings, train=settings.train.sized_for(model.example_shape(run_data.split.train)[0]))
    record = RunRecord(
        settings,
        DataRecord(data, corpus.source, len(corpus), len(run_data.vocab)),
        Machine.current(ranks.device.type, ranks.world),
        time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        command,
    )
    outputs.open(lambda: RunWriter.create(out, record, run_data.vocab, run_data.split, run_data.labels))
    return _Start(out, record, run_data, model)


def _resumed_run(path: Path, ranks: Ranks, outputs: "_Outputs") -> _Start:
    """An interrupted run, locked (by rank 0) before anything is read, its checkpoint checked
    against its model before anything is changed."""
    outputs.open(lambda: RunWriter.reopen(path))
    run = read_names(path)
    if any(record.get("final") for record in read_metrics(path)):
        raise UserError(f"{path} has finished training; nothing to resume")
    data = _Data(run.vocab, run.split, run.labels)
    settings = run.record.settings
    model = _model(settings, data, ranks.device)
    # No checkpoint yet: the run stopped before its first one was written, so it starts again from
    # step 0, with the model a new run would have built (seeded alike).
    checkpoint = read_checkpoint(path) if (path / CHECKPOINT).is_file() else None
    if checkpoint is not None:
        checkpoint.check(model, settings.train.steps, model.example_shape(run.split.train)[0])
    outputs.rewind(checkpoint)
    return _Start(path, run.record, data, model, checkpoint)


def _read_data(data: DataOptions):
    """The corpus, and what a run learns from it: its vocab, its split and its labels."""
    corpus = data.load()
    corpus_labels = corpus.labels if data.conditioned else None
    split = split_names(corpus.names, data.split_seed, corpus_labels)
    labels = corpus.label_set(data.label, split.labels["train"]) if data.conditioned else None
    return corpus, _Data(Vocab.from_names(corpus.names), split, labels)


def _model(settings: Settings, data: _Data, device: torch.device) -> NameModel:
    """The run's untrained model on `device`, seeded as every run of these settings is, once it is
    known to fit in memory and to be trainable on this data: how every run, and every lr sweep,
    starts."""
    vocab_size, label_count = len(data.vocab), len(data.labels or ())
    build = partial(build_model, settings.model, settings.model_config, vocab_size, label_count)
    needed = training_bytes(planned(build), data.split.train, settings.train.batch_size)
    require_fits(needed, f"this {settings.model}")
    torch.manual_seed(settings.train.seed)
    model = build().to(device)
    check_trainable(model, settings.train, sum(len(name) + 1 for name in data.split.train))
    model.check_lengths([name for names in data.split.parts().values() for name in names])  # all are scored
    if settings.train.diagnose:
        from villanueva.diagnostics import check_diagnosable  # matplotlib loads only when asked for

        check_diagnosable(model, settings.model)
    return model


class _Outputs:
    """Where this process reports a run: the run directory, TensorBoard's event files and the
    progress bar. Rank 0 of a torchrun (or the only process) has them; the other ranks report
    nowhere, since rank 0 reports for all."""

    def __init__(self, ranks: Ranks, on_progress: OnProgress | None, tensorboard: Path | None):
        self.reports, self.on_progress, self.tensorboard = ranks.writes, on_progress, tensorboard
        self.writer: RunWriter | None = None
        self.log = None  # runs.tensorboard.TensorBoardLog

    def open(self, writer: Callable[[], RunWriter]) -> None:
        """Create or reopen the run directory (`writer()`) where this process reports, after the
        TensorBoard folder: a mistake there stops before the run directory is made or locked."""
        if not self.reports:
            return
        if self.tensorboard is not None:
            from villanueva.runs.tensorboard import TensorBoardLog  # an optional extra, loaded when asked for

            self.log = TensorBoardLog(self.tensorboard)
        self.writer = writer()

    def rewind(self, checkpoint: Checkpoint | None) -> None:
        """Drop the records written after `checkpoint` (all, without one): the resumed run writes
        them again."""
        if self.writer is not None:
            meta = checkpoint.meta if checkpoint is not None else None
            kept = [{"step": 0, "initial_loss": meta["initial_loss"]}, *meta["history"]] if meta else []
            self.writer.rewrite_metrics(kept)

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

    def __enter__(self) -> "_Outputs":
        return self

    def __exit__(self, *exc_info) -> None:
        for output in (self.writer, self.log):
            if output is not None:
                output.close()


def _finish(writer: RunWriter, start: _Start, train_contexts, trained: TrainResult) -> TrainedRun:
    """Evaluate the last and the best model, export and sample the best, write the final record."""
    model, data, config = start.model, start.data, start.record.settings.train
    last = _final_losses(model, config.calibrate_batchnorm, train_contexts, data)
    model.load_state_dict(trained.best_state)
    best = _final_losses(model, config.calibrate_batchnorm, train_contexts, data)
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
    return TrainedRun(writer.path, start.record, result, samples, diagnosis)


def _final_losses(model, calibrate: bool, train_contexts, data: _Data) -> dict[str, float]:
    if calibrate:
        calibrate_batchnorm(model, train_contexts)
    return split_losses(model, data.vocab, data.split, data.labels)
