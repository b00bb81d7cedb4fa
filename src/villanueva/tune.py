"""The search for the settings that give one list its lowest validation loss, on Optuna.

Each trial is an ordinary run directory (`<out>/trial-0007`), trained by `train_run` as `villanueva
train` trains one, with settings drawn from its model's search space below (TPE). Its validation
losses go to Optuna as they arrive, numbered by validation (1 to 20), not by step, so that trials
of different lengths are compared at the same point of their schedules; the median pruner stops a
trial whose loss is worse than the median of the earlier trials at that point.

The study lives in a database: SQLite in `<out>` by default (embedded, nothing to start), or any
URL Optuna takes, so that processes on several machines join one study through a shared
PostgreSQL or MySQL. Running tune again continues the study. A trial whose process died (kill -9)
is marked failed when the next tune on that machine starts, and by Optuna's heartbeat on any
other; one stopped by Ctrl-C, SIGTERM or the timeout is marked failed at once, its run directory
resumable like any interrupted run.
"""

import hashlib
import math
import multiprocessing
import os
import socket
import time
import urllib.parse
import warnings
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from villanueva.data import DataOptions
from villanueva.errors import UserError, quoted, unknown
from villanueva.machine import use_threads
from villanueva.runs import files
from villanueva.training import Preset, Settings, TrainConfig, resolve

# name -> (kind, low, high) for numbers (log-uniform when the range spans a factor of 4 or more),
# or a list to choose from. Training settings and model options side by side; lengths in epochs,
# so that a space fits a list of any size.
WINDOW_TRAINING = {  # after lr and batch_size (in characters), in the order they are drawn
    "weight_decay": [0.0, 1e-3, 1e-2, 1e-1],
    "epochs": ("float", 5.0, 40.0),
}
WHOLE_NAME_TRAINING = {  # batches of names, about 13 characters each here
    "batch_size": [16, 32, 64],
    "weight_decay": [0.0, 1e-3, 1e-2, 1e-1],
    "epochs": ("float", 15.0, 45.0),
}
SPACES = {
    "mlp": {
        "block_size": ("int", 3, 8),
        "emb_dim": [8, 16, 24, 32],
        "hidden": ("int", 100, 800),
        "lr": ("float", 2e-3, 3e-2),
        "batch_size": [128, 256, 512],
        **WINDOW_TRAINING,
    },
    "wavenet": {
        "block_size": [8, 16],
        "emb_dim": [10, 16, 24],
        "hidden": ("int", 64, 256),
        "lr": ("float", 2e-3, 3e-2),
        "batch_size": [64, 128, 256],
        **WINDOW_TRAINING,
    },
    "gru": {
        "emb_dim": [16, 32, 64],
        "hidden": ("int", 128, 512),
        "layers": ("int", 1, 2),
        "dropout": ("float", 0.1, 0.5),
        "lr": ("float", 1e-3, 1e-2),
        **WHOLE_NAME_TRAINING,
    },
    "transformer": {
        "emb_dim": [32, 64, 96, 128],
        "heads": [2, 4],
        "blocks": ("int", 1, 4),
        "dropout": ("float", 0.0, 0.3),
        "lr": ("float", 1e-3, 6e-3),
        **WHOLE_NAME_TRAINING,
    },
}
TRAINING = {f.name for f in fields(TrainConfig)}
PRUNE_FROM = 5  # validations (of 20) before a trial can be pruned: early losses rank runs poorly
FIRST_TRIALS = 3  # trials that are never pruned: the median needs something to stand on
OPEN_ATTEMPTS = 5
OWNER = "study.txt"  # in --out: the name of the study whose trials it holds
MAX_STUDY_NAME = 512  # Optuna's own limit on a study name
HEARTBEAT, GRACE = 60, 180  # seconds: a trial silent for GRACE on another machine is failed


@dataclass(frozen=True)
class TuneRequest:
    data: DataOptions
    models: tuple[str, ...]  # the families searched (a trial's first choice)
    out: Path  # the trials' run directories, and the default SQLite database
    storage: str | None = None  # a database URL; None: sqlite in `out`
    study: str = "villanueva"
    trials: int | None = None  # trials to add to the study (all processes together); None: no limit
    seconds: float | None = None  # stop after this long, the running trials too
    jobs: int = 1  # processes on this machine, one thread each when more than one
    seed: int = 0  # of the search (process i draws with seed + i); each run trains with seed 42
    device: str = "cpu"

    def __post_init__(self):
        if not (0 < len(self.study) <= MAX_STUDY_NAME and self.study.isprintable()):
            raise UserError(
                f"--study must be 1 to {MAX_STUDY_NAME} printable characters, got {quoted(self.study)}"
            )
        for model in self.models:
            if model not in SPACES:
                raise unknown("model to tune", model, SPACES)
        for name, flag in (("trials", "--trials"), ("seconds", "--timeout"), ("jobs", "--jobs")):
            value = getattr(self, name)
            if value is not None and not 0 < value < math.inf:
                raise UserError(f"{flag} must be positive, got {value}")

    @property
    def storage_url(self) -> str:
        return self.storage or f"sqlite:///{(self.out / 'study.db').resolve()}"


def tune(request: TuneRequest, on_trial=None):
    """Run the search: `request.jobs` processes draw and train trials until the trial count or the
    time is reached (or, with neither, until interrupted). `on_trial(trial)` is called for each
    finished trial, in the process that ran it (a module's function: the others import it).
    Returns the study."""
    files.make_folder(request.out, "out")
    _check_owner(request)
    study = open_study(request)
    files.write_text(request.out / OWNER, request.study + "\n")
    _fail_dead_trials(study)
    limit = None if request.trials is None else _taken(study) + request.trials
    deadline = None if request.seconds is None else time.time() + request.seconds
    jobs = request.jobs if request.trials is None else min(request.jobs, request.trials)
    others = [
        multiprocessing.get_context("spawn").Process(
            target=_work, args=(request, i, limit, deadline, on_trial)
        )
        for i in range(1, jobs)
    ]
    for process in others:
        process.start()
    try:
        _search(request, study, 0, limit, deadline, on_trial)
    except BaseException:
        for process in others:
            process.terminate()  # SIGTERM: a training saves its checkpoint, its trial is failed
        raise
    finally:
        for process in others:  # they end at the trial count or the timeout as this one does
            process.join()
        _fail_dead_trials(study)  # a process ended before it could mark its trial
    return study


def open_study(request: TuneRequest):
    """The study of `request` in its database; one made for another list is a UserError."""
    optuna = _optuna()

    data = _fingerprint(request.data)
    storage = _storage(request.storage_url)
    try:
        study = optuna.create_study(
            storage=storage,
            study_name=request.study,
            direction="minimize",
            load_if_exists=True,
            pruner=optuna.pruners.MedianPruner(n_startup_trials=FIRST_TRIALS, n_warmup_steps=PRUNE_FROM),
        )
    except Exception as error:  # SQLAlchemy's and Optuna's own, for a database that cannot be used
        url = request.storage_url
        raise UserError(f"cannot use the study database {masked(url)}: {_first_line(error, url)}") from None
    if "data" not in study.user_attrs:
        study.set_user_attr("data", data)
    elif study.user_attrs["data"] != data:
        raise UserError(
            f"the study {request.study!r} in {masked(request.storage_url)} tunes another list (its names, "
            "labels or split differ from these); "
            "choose another --study or --storage"
        )
    models = list(request.models)
    if "models" not in study.user_attrs:
        study.set_user_attr("models", models)
    elif study.user_attrs["models"] != models:
        # Optuna cannot change a choice's options within a study: the first trial's choice fixed them.
        raise UserError(
            f"the study {request.study!r} searches --model {', '.join(study.user_attrs['models'])}, "
            f"not {', '.join(models)}; give the same --model or choose another --study"
        )
    return study


def _check_owner(request: TuneRequest) -> None:
    """Refuse a --out that holds another study's trials: trial numbers count per study, so two
    studies would both want trial-0000."""
    owner_file = request.out / OWNER
    if not owner_file.is_file():
        return
    with open(owner_file, encoding="utf-8", errors="replace") as file:
        owner = file.read(MAX_STUDY_NAME + 1).removesuffix("\n")
    if owner != request.study:
        raise UserError(
            f"{request.out} holds the trials of the study {quoted(owner)}; "
            f"give the study {quoted(request.study)} its own --out"
        )


def _fingerprint(data: DataOptions) -> dict:
    """What makes two tunes search the same problem: the cleaned names, their labels and how they
    are split; not the file's path, which differs from machine to machine."""
    corpus = data.load()
    labels = corpus.labels if data.conditioned else []
    content = "\n".join(corpus.names) + "\0" + "\n".join(labels)
    return {
        "names": len(corpus),
        "sha256": hashlib.sha256(content.encode()).hexdigest(),
        "split_seed": data.split_seed,
        "label": data.label,
    }


def load_study(url: str, name: str | None = None):
    """A study read from its database (for `report`): the only one there, or the one called `name`."""
    optuna = _optuna()

    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise UserError(f"no study database at {url.removeprefix('sqlite:///')}")  # SQLite would make one
    storage = _storage(url)
    try:
        names = [summary.study_name for summary in optuna.get_all_study_summaries(storage)]
    except Exception as error:
        raise UserError(f"cannot read the study database {masked(url)}: {_first_line(error, url)}") from None
    if name is None and len(names) != 1:
        raise UserError(
            f"{masked(url)} holds {len(names)} studies ({', '.join(names)}); choose one with --study"
        )
    if name is not None and name not in names:
        raise unknown("study", name, names)
    return optuna.load_study(study_name=name or names[0], storage=storage)


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


def _optuna():
    """Optuna, an optional dependency: installed with villanueva[tune]."""
    try:
        import optuna
    except ImportError:
        raise UserError("villanueva tune needs Optuna: pip install 'villanueva[tune]'") from None
    return optuna


def _storage(url: str):
    optuna = _optuna()

    # Optuna logs every trial (a failed one with its traceback) and warns that heartbeats are
    # experimental; tune prints its own line per trial.
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    engine = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}  # waits for a lock
    for attempt in range(OPEN_ATTEMPTS):
        try:
            return optuna.storages.RDBStorage(
                url, engine_kwargs=engine, heartbeat_interval=HEARTBEAT, grace_period=GRACE
            )
        except Exception as error:
            # Two tunes opening a new database at once race to create its tables ("table ...
            # already exists", or a UNIQUE constraint of Alembic's version table): the second
            # one's next try finds them made.
            racing = "already exists" in str(error) or "UNIQUE constraint failed" in str(error)
            if attempt + 1 == OPEN_ATTEMPTS or not racing:
                raise UserError(
                    f"cannot open the study database {masked(url)}: {_first_line(error, url)}"
                ) from None
            time.sleep(0.5 * (attempt + 1))


def _first_line(error: Exception, url: str = "") -> str:
    """The first line of the error that started it all: Optuna wraps the database's own error
    ("attempt to write a readonly database") in a guess ("e.g. exceeding max length")."""
    while (error.__cause__ or error.__context__) is not None:
        error = error.__cause__ or error.__context__
    text = str(error).strip() or type(error).__name__
    password = urllib.parse.urlsplit(url).password
    return (text.replace(password, "***") if password else text).splitlines()[0][:300]


def masked(url: str) -> str:
    """A database URL as a message shows it: without its password (it would end up in logs)."""
    parts = urllib.parse.urlsplit(url)
    if not parts.password:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@", 1)).geturl()


def _work(request: TuneRequest, worker: int, limit: int | None, deadline: float | None, on_trial) -> None:
    """One more process of the search (spawned: a fresh interpreter, one thread). SIGTERM from
    the first process, or Ctrl-C, stops its trial as it stops any training: after a checkpoint."""
    from villanueva.training import TrainingInterrupted  # torch: loaded by what trains, not by `--help`

    try:
        _search(request, open_study(request), worker, limit, deadline, on_trial)
    except (TrainingInterrupted, KeyboardInterrupt):
        pass


def _search(request: TuneRequest, study, worker: int, limit, deadline, on_trial) -> None:
    optuna = _optuna()

    if request.jobs > 1:
        use_threads(1)  # two trainings on two cores: one thread each
    # Each process and each continuation of the study draws its own sequence, reproducibly.
    study.sampler = optuna.samplers.TPESampler(seed=request.seed + 1000 * len(study.trials) + worker)

    def finished(study, trial):
        if on_trial is not None:
            on_trial(trial)
        if limit is not None and _taken(study) >= limit:
            study.stop()

    if limit is not None and _taken(study) >= limit:
        return
    try:
        study.optimize(
            lambda trial: _objective(request, trial, deadline), callbacks=[finished], catch=(UserError,)
        )
    except _OutOfTime:
        pass


def _taken(study) -> int:
    """Trials finished or running: counted from their start, so that no process starts one too many."""
    return len([t for t in study.get_trials(deepcopy=False) if t.state.name != "WAITING"])


class _OutOfTime(Exception):
    """The tune's --timeout came while a trial was training: the trial is failed, the search ends."""


def _objective(request: TuneRequest, trial, deadline: float | None) -> float:
    from villanueva.experiment import train_run  # torch: loaded by what trains, not by `--help`

    model = trial.suggest_categorical("model", list(request.models))
    values = {name: _suggest(trial, f"{model}.{name}", space) for name, space in SPACES[model].items()}
    settings = _settings(model, values, request.data.conditioned)
    run = request.out / f"trial-{trial.number:04d}"
    trial.set_user_attr("run", str(run))
    trial.set_user_attr("host", socket.gethostname())
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


def _suggest(trial, name: str, space):
    if isinstance(space, list):
        return trial.suggest_categorical(name, space)
    kind, low, high = space
    suggest = trial.suggest_int if kind == "int" else trial.suggest_float
    return suggest(name, low, high, log=low > 0 and high / low >= 4)


class _Reporter:
    """The trainer's on_progress: each validation's loss to Optuna, and the pruner's verdict."""

    def __init__(self, trial, deadline: float | None):
        self.trial, self.deadline, self.validations = trial, deadline, 0

    def __call__(self, step: int, steps: int, record: dict | None) -> None:
        optuna = _optuna()

        if self.deadline is not None and time.time() > self.deadline:
            self.trial.set_user_attr("ended", "out of time (--timeout)")
            raise _OutOfTime()
        if record is None:
            return
        self.validations += 1
        self.trial.report(record["val_loss"], self.validations)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"val {record['val_loss']:.4f} at validation {self.validations}")


def _fail_dead_trials(study) -> None:
    """Mark failed the running trials of this machine whose process is gone (killed with -9)."""
    TrialState = _optuna().trial.TrialState

    host = socket.gethostname()
    # Optuna's public API cannot change another process's trial; its storage, reached through the
    # study, can (as optuna.storages.fail_stale_trials does for trials whose heartbeat stopped).
    for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        pid = trial.user_attrs.get("pid")
        if trial.user_attrs.get("host") == host and isinstance(pid, int) and not _alive(pid):
            study._storage.set_trial_user_attr(trial._trial_id, "ended", "its process died")
            study._storage.set_trial_state_values(trial._trial_id, TrialState.FAIL)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def parse_duration(text: str) -> float:
    """Seconds in "90", "90s", "30m", "2h", "1h30m" or "1.5h"; anything else is a UserError."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    rest, seconds = text.strip().lower(), 0.0
    try:
        if rest and rest[-1].isdigit():
            rest += "s"
        while rest:
            number = len(rest) - len(rest.lstrip("0123456789."))
            value, unit, rest = float(rest[:number]), units[rest[number]], rest[number + 1 :]
            seconds += value * unit
    except (ValueError, KeyError, IndexError):
        raise UserError(f"--timeout {text!r} is not a duration (e.g. 90s, 30m, 2h, 1h30m)") from None
    if not 0 < seconds < math.inf:
        raise UserError(f"--timeout must be positive, got {text!r}")
    return seconds


def is_study(path: str) -> bool:
    """Whether `report` was given a study (a database URL or an SQLite file) rather than runs."""
    return "://" in path or path.endswith(".db")


def study_url(path: str) -> str:
    return path if "://" in path else f"sqlite:///{Path(path).resolve()}"


def trials_table(study) -> str:
    """The study's trials as a markdown table, finished ones best validation loss first."""
    from villanueva.training import changes

    def order(trial):
        values = trial.intermediate_values
        last = trial.value if trial.state.name == "COMPLETE" else values[max(values)] if values else math.inf
        return (trial.state.name != "COMPLETE", last)

    lines = [
        "| trial | state | val | test | model | settings | steps | time |",
        "|---:|---|---:|---:|---|---|---:|---:|",
    ]
    for trial in sorted(study.trials, key=order):
        if "model" not in trial.params:
            continue  # a trial that failed before it drew anything
        settings = trial_settings(trial)
        values, val = trial.intermediate_values, ""
        if trial.state.name == "COMPLETE":
            val = f"**{trial.value:.4f}**"
        elif values:  # where it stood when it was stopped
            val = f"({values[max(values)]:.4f} at {max(values)}/20)"
        test, steps = trial.user_attrs.get("test"), trial.user_attrs.get("steps")
        took = f"{trial.duration.total_seconds():.0f} s" if trial.duration else ""
        lines.append(
            f"| {trial.number} | {trial.state.name.lower()} | {val} | "
            f"{'' if test is None else f'{test:.4f}'} | `{settings.model}` | {changes(settings) or '—'} | "
            f"{'' if steps is None else f'{steps:,}'} | {took} |"
        )
    return "\n".join(lines) + "\n"
