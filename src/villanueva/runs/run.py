"""The run directory: the single artefact that training writes and everything downstream reads.

    config.json        what was trained and how: a RunRecord (model, settings, data, machine)
    vocab.json         the characters, id 0 = '.'
    labels.json        a conditioned run's labels, with their training counts (the prior)
    split.json         the train / val / test names (and labels), so a run is self-contained
    model.safetensors  the best weights by validation loss (safetensors: loading runs no code)
    metrics.jsonl      the initial loss, one JSON record per validation, then the RunResult
    samples.txt        names sampled from the final model
    checkpoint.safetensors  while training: everything needed to resume (removed when done)
    model.onnx         the decoding graph, exported for ONNX Runtime (inference/export.py)

Every file is written atomically (runs.files), so a reader never sees a partial file.

Reading a run needs no torch: its model runs from model.onnx (inference/graphs.py). The torch
model, for training, the diagnostics and the GPU, is built and loaded by runs/model.py.
"""

import json
import os
import time
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from villanueva.bundled import BUNDLED_RUN
from villanueva.data import LabelSet, Split, Vocab
from villanueva.errors import UserError, parameter
from villanueva.machine import check_device, require_torch
from villanueva.runs import files
from villanueva.runs.lock import LOCK, RunLock
from villanueva.runs.record import RunRecord, RunResult
from villanueva.training import TrainConfig

if TYPE_CHECKING:
    import torch

    from villanueva.models.base import NameModel
    from villanueva.training.checkpoint import Checkpoint

CONFIG, VOCAB, LABELS, SPLIT, WEIGHTS, METRICS, SAMPLES, CHECKPOINT, EXPORT = (
    "config.json",
    "vocab.json",
    "labels.json",
    "split.json",
    "model.safetensors",
    "metrics.jsonl",
    "samples.txt",
    "checkpoint.safetensors",
    "model.onnx",
)
REQUIRED = (CONFIG, VOCAB, SPLIT, WEIGHTS)


class RunWriter:
    """Writes a run directory while holding its lock: create a new one, or reopen one to resume."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.lock = RunLock(self.path)

    @classmethod
    def create(
        cls, path: Path, record: RunRecord, vocab: Vocab, split: Split, labels: LabelSet | None = None
    ) -> "RunWriter":
        path = files.make_folder(path, "out")
        _refuse_if_used(path)  # before locking, so a refused directory gets no lock file
        writer = cls(path)
        try:
            _refuse_if_used(path)  # again, now that no other process can be filling it
            files.write_json(path / CONFIG, record.to_json())
            files.write_text(path / VOCAB, vocab.to_json() + "\n")
            if labels is not None:
                files.write_json(path / LABELS, labels.to_json())
            files.write_json(path / SPLIT, split.to_json())
        except BaseException:
            writer.close()
            raise
        return writer

    @classmethod
    def reopen(cls, path: Path) -> "RunWriter":
        path = Path(path)
        if not (path / CONFIG).is_file():
            raise UserError(f"no run to resume at {path} (no {CONFIG})")
        return cls(path)

    def __enter__(self) -> "RunWriter":
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self.lock.release()

    def append_metrics(self, record: dict) -> None:
        files.append_json_line(self.path / METRICS, record)

    def finish(self, result: RunResult) -> None:
        """Write the final record and drop the checkpoint: the run is complete."""
        self.append_metrics(result.to_json())
        (self.path / CHECKPOINT).unlink(missing_ok=True)

    def rewrite_metrics(self, records: list[dict]) -> None:
        files.write_text(self.path / METRICS, "".join(files.json_text(r) + "\n" for r in records))

    # Only training writes weights, and it has torch: safetensors' torch half is imported here.
    def save_weights(self, state: "dict[str, torch.Tensor]") -> None:
        import safetensors.torch

        tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in state.items()}
        files.write_bytes(self.path / WEIGHTS, safetensors.torch.save(tensors))

    def save_checkpoint(self, checkpoint: "Checkpoint") -> None:
        import safetensors.torch

        files.write_bytes(
            self.path / CHECKPOINT,
            safetensors.torch.save(checkpoint.tensors, metadata=checkpoint.to_safetensors_metadata()),
        )

    def save_samples(self, names: list[str]) -> None:
        files.write_text(self.path / SAMPLES, "".join(f"{name}\n" for name in names))


def check_new_file(path: Path, option: str = "out", force: bool = False) -> None:
    """Refuse a file that a command is to write where the user named it (`option`): never in a run
    directory or one of its folders (its records and plots are the run's own), never a directory,
    and never over an existing file or link, even a dangling one, unless `force`."""
    path = Path(path)
    named = f"{parameter(option)} {path}"
    run = next((folder for folder in path.absolute().parents[:2] if _is_run(folder)), None)
    if run is not None:
        raise UserError(f"{named} is inside the run directory {run}; write it elsewhere")
    if path.is_dir():
        raise UserError(f"{named} is a directory; name a file")
    if os.path.lexists(path) and not force:
        raise UserError(f"{named} exists; choose a new file, or replace it with {parameter('force')}")


def _is_run(folder: Path) -> bool:
    return (folder / CONFIG).is_file() and (folder / SPLIT).is_file()


def _refuse_if_used(path: Path) -> None:
    if not path.is_dir():
        raise UserError(f"{path} exists and is not a directory; choose a new `out`")
    if any(entry.name != LOCK for entry in path.iterdir()):
        raise UserError(
            f"run directory {path} already exists; choose a new `out` (or continue it with `resume` {path})"
        )


@dataclass
class Run:
    path: Path
    record: RunRecord
    vocab: Vocab
    split: Split
    labels: LabelSet | None = None  # what a conditioned run's model is conditioned on
    # The torch model: None from read_run and open_run on the CPU, where model.onnx serves; untrained
    # from read_run_setup; the best weights, in eval mode, from load_run.
    model: "NameModel | None" = None

    @property
    def keep_accents(self) -> bool:
        """Whether the run's names kept their accents (else they were transliterated to ASCII)."""
        return self.record.data.options.keep_accents

    @property
    def train_config(self) -> TrainConfig:
        return self.record.settings.train

    def label_weights(self, label: str | None = None) -> np.ndarray | None:
        """How a conditioned run's model should draw each name's label: from the prior, or from the
        label or group `label` only; None for an unconditioned run (which refuses a label)."""
        if self.labels is None:
            if label is not None:
                raise UserError(
                    f"{self.path} is not conditioned on labels, so {parameter('label')} has nothing to "
                    f"choose; train with {parameter('condition')} or {parameter('label_column')}"
                )
            return None
        return self.labels.weights(label)

    @cached_property
    def names(self) -> set[str]:
        """Every name of the corpus the run learned from (all three parts of the split); made once,
        since every sample and score asks for it."""
        return {*self.split.train, *self.split.val, *self.split.test}

    def labels_of(self, name: str) -> list[str]:
        """The labels a (cleaned) name has in the data the run learned from: several for a name that
        places in several provinces share, none for a name it does not know or a run without labels."""
        return self._labels_by_name.get(name, [])

    @cached_property
    def _labels_by_name(self) -> dict[str, list[str]]:
        by_name: dict[str, set[str]] = {}
        for part, names in self.split.parts().items():
            for name, label in zip(names, (self.split.labels or {}).get(part, ())):
                by_name.setdefault(name, set()).add(label)
        return {name: sorted(labels) for name, labels in by_name.items()}


def read_run(path: str | Path | None = None) -> Run:
    """A finished run directory (None: the bundled model), without its torch model; any problem is
    a UserError that says which file is wrong."""
    path = BUNDLED_RUN if path is None else Path(path)
    if not path.is_dir():
        raise UserError(f"run directory not found: {path}")
    missing = [name for name in REQUIRED if not (path / name).is_file()]
    if missing:
        hint = (
            f"; it was interrupted: villanueva train --resume {path}" if (path / CHECKPOINT).is_file() else ""
        )
        raise UserError(f"{path} is not a complete run directory (missing {', '.join(missing)}){hint}")
    return read_names(path)


def open_run(path: str | Path | None = None, device: str = "cpu") -> Run:
    """A finished run, ready to sample, score and guess: on the CPU its export (model.onnx) serves,
    and torch is not imported; on another device, or for a run without an export, its torch model
    is loaded (which needs PyTorch)."""
    run = read_run(path)
    if check_device(device) == "cpu" and (run.path / EXPORT).is_file():
        return run
    return _with_model(run, device)


def load_run(path: str | Path | None = None, device: "str | torch.device" = "cpu") -> Run:
    """A finished run with its torch model, best weights loaded, in eval mode on `device`."""
    return _with_model(read_run(path), device)


def _with_model(run: Run, device) -> Run:
    if device == "cpu":
        require_torch(f"{run.path} has no {EXPORT}, so reading it")
    else:
        require_torch(f"{parameter('device')} {device}")
    from villanueva.runs.model import load_model  # torch: imported only when a model is loaded

    run.model = load_model(run, device)
    return run


def read_record(path: Path) -> RunRecord:
    """What a run is (its config.json), without building its model or reading its names."""
    path = Path(path)
    if not (path / CONFIG).is_file():
        raise UserError(
            f"{path} is not a run directory (it has no {CONFIG})"
            if path.is_dir()
            else f"run directory not found: {path}"
        )
    try:
        return RunRecord.from_json(_read_json(path / CONFIG))
    except UserError as error:
        raise UserError(f"{path / CONFIG} cannot be read: {error}") from None


def read_names(path: Path) -> Run:
    """The record, vocab, split and labels of a run: everything but its weights."""
    path = Path(path)
    record = read_record(path)
    try:
        vocab = Vocab.from_json((path / VOCAB).read_text(encoding="utf-8"))
        split = Split.from_json(_read_json(path / SPLIT))
        labels = LabelSet.from_json(_read_json(path / LABELS)) if (path / LABELS).is_file() else None
    except (KeyError, TypeError, ValueError, AttributeError, OSError) as error:
        raise UserError(f"{path} is damaged: its vocab, labels or split cannot be read ({error})") from None
    return Run(path, record, vocab, split, labels)


def read_result(path: Path) -> RunResult | None:
    """The final record of a run, or None while it has not finished training."""
    final = next((record for record in reversed(read_metrics(path)) if record.get("final")), None)
    if final is None:
        return None
    try:
        return RunResult.from_json(final)
    except UserError as error:
        raise UserError(f"{Path(path) / METRICS} is damaged: {error}") from None


def default_path(name: str, suffix: str = "") -> Path:
    """Where a command writes when given no --out: runs/<name>-<local time><suffix>."""
    return Path("runs") / f"{name}-{time.strftime('%Y%m%d-%H%M%S')}{suffix}"


def read_metrics(path: Path) -> list[dict]:
    """The records of metrics.jsonl; a torn last line (a crash mid-write) is dropped, any other line
    that is not a JSON object is a UserError."""
    try:
        lines = (Path(path) / METRICS).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    except UnicodeDecodeError:
        raise UserError(f"{Path(path) / METRICS} is damaged: it is not UTF-8 text") from None
    records = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            if number == len(lines):
                break  # torn by a crash mid-write: the run goes on from the line before
            record = None
        if not isinstance(record, dict):
            raise UserError(f"{Path(path) / METRICS} is damaged: line {number:,} is not a JSON object")
        records.append(record)
    return records


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise UserError(f"{path} is not valid JSON ({error}); the run directory is damaged") from None
