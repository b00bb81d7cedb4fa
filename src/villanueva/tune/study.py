"""The study and its database: SQLite in --out by default (embedded, nothing to start), or any URL
Optuna takes, which every process of the search opens, on this machine or on others. A study
searches one list with one set of models, and an --out holds the trials of one study."""

import hashlib
import math
import time
import urllib.parse
import warnings
from dataclasses import dataclass
from pathlib import Path

import optuna

from villanueva.data import DataOptions
from villanueva.errors import UserError, quoted, unknown
from villanueva.runs import files
from villanueva.tune.space import spaces

PRUNE_FROM = 5  # validations (of 20) before a trial can be pruned: early losses rank runs poorly
FIRST_TRIALS = 3  # trials that are never pruned: the median needs something to stand on
OWNER = "study.txt"  # in --out: the name of the study whose trials it holds
MAX_STUDY_NAME = 512  # Optuna's own limit on a study name
# Seconds: each trial's process writes a heartbeat; one silent for GRACE (its process or machine
# died) is failed by the next trial that starts, in any process of the study.
HEARTBEAT, GRACE = 60, 180
OPEN_ATTEMPTS = 5
# Processes opening a new database at once race to create its tables; the loser's next try finds them.
RACE_SIGNS = ("already exists", "UNIQUE constraint failed", "duplicate key value")


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
            if model not in spaces():
                raise unknown("model to tune", model, spaces())
        for name, flag in (("trials", "--trials"), ("seconds", "--timeout"), ("jobs", "--jobs")):
            value = getattr(self, name)
            if value is not None and not 0 < value < math.inf:
                raise UserError(f"{flag} must be positive, got {value}")

    @property
    def storage_url(self) -> str:
        return self.storage or f"sqlite:///{(self.out / 'study.db').resolve()}"


def open_study(request: TuneRequest):
    """The study of `request`, made if new; one made for another list or other models, or an --out
    that holds another study's trials, is a UserError."""
    files.make_folder(request.out, "out")
    _check_owner(request)
    url = request.storage_url
    opened = storage(url)
    try:
        study = optuna.create_study(
            storage=opened,
            study_name=request.study,
            direction="minimize",
            load_if_exists=True,
            pruner=optuna.pruners.MedianPruner(n_startup_trials=FIRST_TRIALS, n_warmup_steps=PRUNE_FROM),
        )
    except Exception as error:  # SQLAlchemy's and Optuna's own, for a database that cannot be used
        raise UserError(f"cannot use the study database {masked(url)}: {_first_line(error, url)}") from None
    data = _fingerprint(request.data)
    if _recorded(study, "data", data) != data:
        raise UserError(
            f"the study {request.study!r} in {masked(url)} tunes another list (its names, labels or split "
            "differ from these); choose another --study or --storage"
        )
    models = list(request.models)
    if (searched := _recorded(study, "models", models)) != models:
        # Optuna cannot change a choice's options within a study: the first trial's choice fixed them.
        raise UserError(
            f"the study {request.study!r} searches --model {', '.join(searched)}, "
            f"not {', '.join(models)}; give the same --model or choose another --study"
        )
    files.write_text(request.out / OWNER, request.study + "\n")
    return study


def _recorded(study, name: str, value):
    """The study's attribute `name`, set to `value` by the first tune."""
    if name not in study.user_attrs:
        study.set_user_attr(name, value)
    return study.user_attrs[name]


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
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        raise UserError(f"no study database at {url.removeprefix('sqlite:///')}")  # SQLite would make one
    opened = storage(url)
    try:
        names = [summary.study_name for summary in optuna.get_all_study_summaries(opened)]
    except Exception as error:
        raise UserError(f"cannot read the study database {masked(url)}: {_first_line(error, url)}") from None
    if name is None and len(names) != 1:
        raise UserError(
            f"{masked(url)} holds {len(names)} studies ({', '.join(names)}); choose one with --study"
        )
    if name is not None and name not in names:
        raise unknown("study", name, names)
    return optuna.load_study(study_name=name or names[0], storage=opened)


def storage(url: str):
    """The database at `url`, its tables made if new, with Optuna's heartbeat on."""
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
            if attempt + 1 == OPEN_ATTEMPTS or not any(sign in str(error) for sign in RACE_SIGNS):
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
