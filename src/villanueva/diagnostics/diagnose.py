"""`villanueva diagnose RUN`: look inside a run's model at init and at the end of training, write
the plots into RUN/plots/ and every number into RUN/diagnostics.json, and judge what looks
unhealthy.

"At init" is the run's model rebuilt untrained from its config and seed, exactly as training
built it; "at the end" is the saved model. Both are probed on the same batch drawn from the
training split, of the run's training batch size.
"""

import base64
import html
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import torch
from matplotlib.figure import Figure

from villanueva.diagnostics import history, plots
from villanueva.diagnostics.embeddings import Embedding2D, embedding_2d
from villanueva.diagnostics.snapshot import Snapshot, take_snapshot
from villanueva.diagnostics.verdicts import UPDATE_RATIO_BAND, Verdict, judge
from villanueva.errors import UserError, worded
from villanueva.machine import resolve_device
from villanueva.models.base import NameModel
from villanueva.models.weights import model_device
from villanueva.runs import Run, files, load_run, read_metrics
from villanueva.runs.model import read_run_setup
from villanueva.training import initial_loss
from villanueva.training.loss import part_label_ids

DIAGNOSTICS = "diagnostics.json"
PLOTS = "plots"


@dataclass(repr=False)
class Diagnosis:
    """What `diagnose` found: the verdicts in words, every number (as diagnostics.json holds them)
    and the plots, as matplotlib figures by file name. In Jupyter it shows itself, plots inline;
    `save` writes the plots and diagnostics.json."""

    path: Path  # the run
    verdicts: list[Verdict]
    numbers: dict
    figures: dict[str, Figure]

    def save(self, directory: Path | None = None) -> list[Path]:
        """Write plots/*.png and diagnostics.json into `directory` (default: the run's own), each
        atomically; returns the files written."""
        return _write(Path(directory) if directory is not None else self.path, self.numbers, self.figures)

    def __repr__(self) -> str:
        unhealthy = sum(verdict.healthy is False for verdict in self.verdicts)
        return (
            f"<Diagnosis of {self.path}: {len(self.verdicts)} verdicts, {unhealthy} unhealthy; "
            f"plots {', '.join(self.figures)}>"
        )

    def __str__(self) -> str:
        return "\n".join(
            f"{verdict.topic}: {HEALTH[verdict.healthy]}. {verdict.text}" for verdict in self.verdicts
        )

    def _repr_html_(self) -> str:
        rows = "".join(
            f"<tr><td>{html.escape(v.topic)}</td><td><b>{HEALTH[v.healthy]}</b></td>"
            f"<td>{html.escape(worded(v.text, str))}</td></tr>"
            for v in self.verdicts
        )
        images = "".join(
            f'<figure><img src="data:image/png;base64,{base64.b64encode(plots.png_bytes(figure)).decode()}" '
            f'alt="{name}" style="max-width:100%"><figcaption>{name}</figcaption></figure>'
            for name, figure in self.figures.items()
        )
        return f"<p>Diagnosis of {html.escape(str(self.path))}</p><table>{rows}</table>{images}"


HEALTH = {True: "ok", False: "UNHEALTHY", None: "note"}


@dataclass
class Probe:
    initial_loss: float  # of the untrained model, measured as the trainer measures it
    batch_examples: int
    at_init: Snapshot
    at_end: Snapshot


def diagnose_run(path: Path, device: str = "cpu") -> Diagnosis:
    """Diagnose the finished run at `path` and write its plots and diagnostics.json into it."""
    diagnosis = diagnose(load_run(path, resolve_device(device)))
    diagnosis.save()
    return diagnosis


def diagnose(run: Run) -> Diagnosis:
    """Look inside a finished run's model and judge it: verdicts, numbers and plots, in memory."""
    check_diagnosable(run.model, run.record.model)
    probe = probe_run(run)
    records = read_metrics(run.path)
    curve, ratios = history.loss_curve(records), history.update_ratios(records)
    embedding = embedding_2d(run.model, run.vocab)
    verdicts = judge(probe.initial_loss, len(run.vocab), probe.at_init, probe.at_end, ratios)
    numbers = {
        "run": str(run.path),
        "model": run.record.model,
        "batch_examples": probe.batch_examples,
        "initial_loss": {"loss": probe.initial_loss, "uniform": math.log(len(run.vocab))},
        "at_init": probe.at_init.to_json(),
        "at_end": probe.at_end.to_json(),
        "update_ratios": ratios,
        "loss_curve": curve,
        "embeddings": asdict(embedding) if embedding else None,
        "verdicts": [asdict(verdict) for verdict in verdicts],
    }
    figures = _figures(probe, curve, ratios, embedding, len(run.vocab))
    return Diagnosis(run.path, verdicts, numbers, figures)


def _figures(
    probe: Probe, curve: dict, ratios: dict | None, embedding: Embedding2D | None, vocab_size: int
) -> dict[str, Figure]:
    """The plots that apply to this run, by file name."""
    snapshots = (probe.at_init, probe.at_end)
    figures = {"weight_gradients.png": plots.weight_gradients(snapshots)}
    if curve["val"]:
        figures["loss.png"] = plots.loss_curve(curve, probe.initial_loss, vocab_size)
    if ratios:
        figures["update_ratios.png"] = plots.update_ratios(ratios, UPDATE_RATIO_BAND)
    if probe.at_init.layers:
        figures["activations.png"] = plots.activations(snapshots)
        figures["activation_gradients.png"] = plots.activation_gradients(snapshots)
    if any(layer.saturation_map is not None for layer in probe.at_init.layers):
        figures["saturation.png"] = plots.saturation_maps(snapshots)
    if embedding:
        figures["embeddings.png"] = plots.embeddings(embedding)
    return figures


def check_diagnosable(model: NameModel, model_name: str) -> None:
    if not model.learns_by_gradient():
        raise UserError(
            f"{model_name} is fitted by counting, not by gradient descent: it has no "
            "layers, gradients or training curve to diagnose"
        )


def probe_run(run: Run) -> Probe:
    """Snapshots of the untrained and the trained model on one training batch."""
    seed, batch_size = run.train_config.seed, run.train_config.batch_size
    device = model_device(run.model)
    with torch.random.fork_rng(devices=[]):  # leave the caller's random state alone
        torch.manual_seed(seed)  # as training did just before building the model
        untrained = read_run_setup(run.path).model.to(device)
        label_ids = part_label_ids(run.split, run.labels, "train")  # a conditioned model reads them too
        examples = untrained.examples(run.split.train, run.vocab, label_ids)
        inputs, targets = (t.to(device) for t in examples)
        first_loss = initial_loss(untrained, inputs, targets)
        batch = torch.randperm(len(targets), generator=torch.Generator().manual_seed(seed))[:batch_size]
        inputs, targets = inputs[batch.to(device)], targets[batch.to(device)]
        snapshots = []
        for model in (untrained, run.model):
            torch.manual_seed(seed)  # dropout, if any, draws the same masks in both
            snapshots.append(take_snapshot(model, inputs, targets))
    return Probe(first_loss, len(batch), *snapshots)


def _write(run: Path, report: dict, figures: dict[str, Figure]) -> list[Path]:
    """Write the plots and diagnostics.json naming them, each atomically."""
    directory = run / PLOTS
    try:
        directory.mkdir(parents=True, exist_ok=True)
        written = []
        for name, figure in figures.items():
            files.write_bytes(directory / name, plots.png_bytes(figure))
            written.append(directory / name)
        files.write_json(run / DIAGNOSTICS, {**report, "plots": [f"{PLOTS}/{p.name}" for p in written]})
    except OSError as error:
        raise UserError(f"cannot write the diagnostics into {run}: {error.strerror or error}") from None
    return [run / DIAGNOSTICS, *written]
