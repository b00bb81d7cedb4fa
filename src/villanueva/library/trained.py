"""The Python library's front door: `load` a trained run (the bundled model when no path), or
`train` one, and ask it for names.

    import villanueva as vn
    model = vn.load()                                  # the bundled model
    model.sample(5, label="Girona", seed=1)            # invented names in the style of Girona
    model.score(["Villanueva de la Serena", "Xyzzq"])  # how typical names are
    model.guess("Zugarramurdi")                         # where a name sounds from

Every option is a keyword argument with the name its declaration gives it (villanueva.schema), the
same as the command line's flag without its dashes; every mistake is a `UserError` naming the
parameter. The command line and the web page call the same functions underneath.
"""

import html
import shutil
import tempfile
import warnings
import weakref
from collections.abc import Iterable
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING

from villanueva.data import DataOptions
from villanueva.data.spelling import Writing
from villanueva.errors import UserError, parameter
from villanueva.inference import Constraints, Drawing, SampleReport, evaluate_run, guess_run
from villanueva.inference.guess import Guessing
from villanueva.inference.on_demand import (
    Sampling,
    Scoring,
    Style,
    sample_run,
    score_run,
)
from villanueva.library.progress import ProgressBar
from villanueva.machine import require_torch
from villanueva.models import MODELS
from villanueva.runs import Run, RunResult, load_run, open_run, read_result
from villanueva.schema import options, split_keywords, takes, unknown_keyword
from villanueva.training import Settings, TrainConfig, resolve

if TYPE_CHECKING:
    from villanueva.diagnostics import Diagnosis


class ShortfallWarning(UserWarning):
    """`sample` found fewer names than asked for within its budget of candidates."""


class Names(list):
    """A list of records (sampled, scored or guessed names) that Jupyter shows as a table."""

    @property
    def names(self) -> list[str]:
        return [record.name for record in self]

    def _repr_html_(self) -> str:
        if not self:
            return "<p>(no names)</p>"
        columns = list(self[0].to_json())
        head = "".join(f"<th>{html.escape(column)}</th>" for column in columns)
        body = "".join(
            "<tr>"
            + "".join(f"<td>{html.escape(_cell(value))}</td>" for value in record.to_json().values())
            + "</tr>"
            for record in self
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4f}"
    if isinstance(value, list):
        return ", ".join(_cell(item) if not isinstance(item, dict) else _guessed(item) for item in value)
    return "" if value is None else str(value)


def _guessed(item: dict) -> str:
    return f"{item['label']} {item['probability']:.1%}"


class TrainedModel:
    """A trained run, ready to invent, score and place names. Made by `load` or `train`."""

    def __init__(
        self,
        run: Run,
        device: str = "cpu",
        temporary: Path | None = None,
        diagnosis: "Diagnosis | None" = None,
    ):
        self.run = run
        self.device = device  # where its model runs: "cpu" runs its export, with no torch
        self._diagnosis = diagnosis  # made at the end of training, with diagnose=True
        self._temporary = temporary  # where an unsaved run lives, removed with this object
        if temporary is not None:
            self._cleanup = weakref.finalize(self, shutil.rmtree, temporary, ignore_errors=True)

    @property
    def path(self) -> Path:
        """The run directory (a temporary one for a run trained with out=None, until `save`)."""
        return self.run.path

    @property
    def settings(self) -> Settings:
        """What the run learned with: its model and config, recipe and training settings."""
        return self.run.record.settings

    @property
    def result(self) -> RunResult | None:
        """How training came out: steps, losses of the best and the last model, parameters."""
        return read_result(self.run.path)

    @property
    def vocabulary(self) -> list[str]:
        """The characters the model writes; the first, '.', starts and ends every name. A uniform
        guess among them scores ln(len(vocabulary)), the loss every model starts near."""
        return list(self.run.vocab.chars)

    @property
    def labels(self) -> list[str] | None:
        """The labels a conditioned run knows (None for an unconditioned one)."""
        return None if self.run.labels is None else list(self.run.labels.names)

    @property
    def label_groups(self) -> dict[str, list[str]]:
        """Groups of labels that can be asked for by name too (the communities of a province run)."""
        return {} if self.run.labels is None else dict(self.run.labels.groups)

    @takes(Sampling, Style, Drawing, Constraints, Writing)
    def sample(self, count: int = 20, *, losses: bool = True, **options) -> Names:
        """`count` invented names, written as places are (`raw=True`: as the model writes them),
        each with its loss per character (`losses`), the label it was drawn with and whether it is
        a real name of the data. Options: `label` (a style), `seed`,
        `budget`, how each character is drawn (`temperature`, `top_k`, `top_p`) and what a name
        must be (`starts_with`, `ends_with`, `contains`, `min_length`, `max_length`, `new_only`,
        `min_distance`, `exclude`). Fewer names come back, with a ShortfallWarning, when the
        budget of candidates runs out first."""
        *groups, writing = split_keywords(
            {"count": count, **options}, Sampling, Style, Constraints, Drawing, Writing
        )
        report = SampleReport()
        names = Names(
            name
            for batch in sample_run(self.run, *groups, report=report, losses=losses)
            for name in writing.applied(batch)
        )
        if not report.complete:
            warnings.warn(report.shortfall(), ShortfallWarning, stacklevel=2)
        return names

    @takes(Style, Scoring, Writing)
    def score(self, names: str | Iterable[str], **options) -> Names:
        """Each name's loss per character (lower: more typical), whether it is a real name of the
        data and, with `explain`, the surprisal of each character; `label` scores in one style
        (default: the label summed out). Names come back written as places are (`raw`: cleaned)."""
        style, scoring, writing = split_keywords(options, Style, Scoring, Writing)
        return Names(writing.applied(score_run(self.run, _listed(names), style, scoring)))

    @takes(Guessing, Writing)
    def guess(self, names: str | Iterable[str], **options) -> Names:
        """The likeliest labels of each name (a conditioned run), with their probabilities, and a
        real name's own labels; `by` sums them into groups (community), `top` says how many."""
        guessing, writing = split_keywords(options, Guessing, Writing)
        return Names(writing.applied(guess_run(self.run, _listed(names), guessing)))

    def evaluate(self) -> dict[str, float]:
        """The loss per character on train, val and test (and, for a conditioned run, val and test
        with the label summed out)."""
        return evaluate_run(self.run)

    def diagnose(self) -> "Diagnosis":
        """Verdicts and plots on how healthy training was (see `villanueva.diagnose`); the one made
        at the end of training, for a run trained with diagnose=True."""
        if self._diagnosis is None:
            self._diagnosis = _diagnosed(self.run.path, self.device)
        return self._diagnosis

    def save(self, path: str | Path) -> Path:
        """Copy the run directory to `path`, a new directory, and use it from now on."""
        path = Path(path)
        if path.exists():
            raise UserError(f"{parameter('path')} {path} exists; choose a new directory")
        try:
            shutil.copytree(self.run.path, path)
        except OSError as error:
            shutil.rmtree(path, ignore_errors=True)
            raise UserError(f"cannot save the run to {path}: {error.strerror or error}") from None
        self.run = open_run(path, self.device)
        if self._temporary is not None:
            self._cleanup()  # the unsaved copy is not needed any more
            self._temporary = None
        return path

    def __repr__(self) -> str:
        record, result = self.run.record, self.result
        conditioned = f" conditioned on {self.run.labels.kind}" if self.run.labels is not None else ""
        loss = f", val loss {result.best['val']:.4f}" if result is not None else ""
        where = "unsaved (save it with .save(path))" if self._temporary is not None else str(self.path)
        return f"<TrainedModel {record.model}{conditioned}{loss}, {where}>"


def _listed(names: str | Iterable[str]) -> list[str]:
    return [names] if isinstance(names, str) else list(names)


def load(path: str | Path | None = None, *, device: str = "cpu") -> TrainedModel:
    """The trained run at `path` (a run directory), or the bundled model (a GRU conditioned on the
    province of Spain's municipalities) when no path is given."""
    return TrainedModel(open_run(path, device), device)


@takes(DataOptions, TrainConfig, unset=(TrainConfig,))  # the recipe or preset decides what is not given
def train(
    data: str | Path | None = None,
    *,
    model: str | None = None,
    preset: str | None = None,
    recipe: str | None = None,
    out: str | Path | None = None,
    progress: bool = True,
    device: str = "cpu",
    **settings,
) -> TrainedModel:
    """Train a model on `data` (a names file, one per line, or a CSV with `column`; default: the
    embedded municipalities) and return it. `out` is the run directory to create; without it the
    run stays in a temporary directory until `.save(path)`. The other keywords are the settings'
    own names: data options (`column`, `keep_accents`, `split_seed`, `condition`, `label_column`),
    training settings (`steps`, `epochs`, `lr`, `batch_size`, `seed`, ...) and the model's own
    options (`hidden`, `emb_dim`, `block_size`, ...; see `villanueva train --help`)."""
    require_torch("villanueva.train")
    from villanueva.experiment import train_run

    data = None if data is None else str(data)
    data_given, train_given, model_given = _sorted_settings(settings)
    source = DataOptions(data=data, **data_given)
    resolved = resolve(model, recipe, preset, train_given, model_given, source.conditioned)
    temporary = Path(tempfile.mkdtemp(prefix="villanueva-")) if out is None else None
    run_path = temporary / resolved.model if temporary is not None else Path(out)
    given = {"data": data, "model": model, "preset": preset, "recipe": recipe}
    arguments = [f"{key}={value!r}" for key, value in {**given, **settings}.items() if value is not None]
    command = f"villanueva.train({', '.join(arguments)})"  # recorded in config.json
    try:
        with ProgressBar(enabled=progress) as bar:
            trained = train_run(run_path, resolved, source, device, on_progress=bar, command=command)
    except BaseException:
        if temporary is not None:
            shutil.rmtree(temporary, ignore_errors=True)
        raise
    return TrainedModel(open_run(trained.path, device), device, temporary, trained.diagnosis)


def resume(path: str | Path, *, progress: bool = True, device: str = "cpu") -> TrainedModel:
    """Continue the interrupted run at `path` from its last checkpoint, and return it trained."""
    require_torch("villanueva.resume")
    from villanueva.experiment import resume_run

    with ProgressBar(enabled=progress) as bar:
        trained = resume_run(Path(path), device, on_progress=bar)
    return TrainedModel(open_run(trained.path, device), device)


def diagnose(model: TrainedModel | str | Path) -> "Diagnosis":
    """How healthy a run's training was: verdicts in words, every number and the diagnostic plots
    (shown inline in Jupyter; `.save(directory)` writes them). A run or its directory."""
    return model.diagnose() if isinstance(model, TrainedModel) else _diagnosed(Path(model), "cpu")


def _diagnosed(path: Path, device: str) -> "Diagnosis":
    require_torch("villanueva.diagnose")
    from villanueva.diagnostics import diagnose as diagnose_loaded

    return diagnose_loaded(load_run(path, device))


def _sorted_settings(settings: dict) -> tuple[dict, dict, dict]:
    """Keyword settings split into data options, training settings and model options."""
    data_names = {f.name for f in fields(DataOptions)} - {"data"}
    train_names = {f.name for f in options(TrainConfig)}
    model_names = {f.name for spec in MODELS.values() for f in fields(spec.config)}
    strange = sorted(set(settings) - data_names - train_names - model_names)
    if strange:
        raise unknown_keyword(strange[0], data_names | train_names | model_names)
    return tuple(
        {k: v for k, v in settings.items() if k in names} for names in (data_names, train_names, model_names)
    )
