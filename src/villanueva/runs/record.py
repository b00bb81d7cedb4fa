"""The typed contents of a run directory's two records: `RunRecord` (config.json: what was trained,
on what, how) and `RunResult` (the final line of metrics.jsonl: how it came out). Each has one
`to_json` and one `from_json`, and every reader goes through them, so a damaged file is found in
one place and reported in one line.
"""

from dataclasses import asdict, dataclass, fields

from villanueva.data import DataOptions
from villanueva.errors import UserError
from villanueva.models import make_config
from villanueva.training import Settings, TrainConfig

FORMAT_VERSION = 2
DAMAGED = (KeyError, TypeError, ValueError, AttributeError, RecursionError)  # what bad JSON raises here


@dataclass(frozen=True)
class DataRecord:
    options: DataOptions
    source: str  # where the names came from: a path, or embedded:municipios
    names: int  # names in the corpus, after cleaning
    vocab_size: int


@dataclass(frozen=True)
class Machine:
    """Where the run started: the device and threads are chosen per process, not recorded as settings."""

    device: str
    threads: int
    torch: str
    processes: int = 1  # trained together under torchrun

    @classmethod
    def current(cls, device: str, processes: int = 1) -> "Machine":
        import torch  # called by training only, which has it

        return cls(device, torch.get_num_threads(), torch.__version__, processes)


@dataclass(frozen=True)
class RunRecord:
    settings: Settings
    data: DataRecord
    machine: Machine
    created: str  # local time, ISO 8601
    command: str = ""  # the command line that made it, when it came from the CLI

    @property
    def model(self) -> str:
        return self.settings.model

    def to_json(self) -> dict:
        settings = self.settings
        return {
            "format": FORMAT_VERSION,
            "model": settings.model,
            "model_config": asdict(settings.model_config),
            "recipe": settings.recipe,
            "train": asdict(settings.train),
            "data": {
                **asdict(self.data.options),
                "source": self.data.source,
                "names": self.data.names,
                "vocab_size": self.data.vocab_size,
            },
            "created": self.created,
            "machine": asdict(self.machine),
            "command": self.command,
        }

    @classmethod
    def from_json(cls, data: dict) -> "RunRecord":
        """Raises UserError if `data` is not a record this version can read."""
        found = data.get("format") if isinstance(data, dict) else None
        if found != FORMAT_VERSION:
            raise UserError(
                f"it has run format {found}; this version of villanueva reads format {FORMAT_VERSION}"
            )
        try:
            train, machine = dict(data["train"]), dict(data.get("machine", {}))
            model = data["model"]
            settings = Settings(
                model,
                data.get("recipe", "fast"),
                TrainConfig(**train),
                make_config(model, **data["model_config"]),
            )
            record = DataRecord(
                _data_options(data["data"]),
                str(data["data"]["source"]),
                int(data["data"]["names"]),
                int(data["data"]["vocab_size"]),
            )
            return cls(
                settings,
                record,
                Machine(
                    str(machine.get("device", "cpu")),
                    int(machine.get("threads", 0)),
                    str(machine.get("torch", "")),
                    int(machine.get("processes", 1)),
                ),
                str(data.get("created", "")),
                str(data.get("command", "")),
            )
        except UserError as error:
            raise UserError(f"its settings are invalid ({error})") from None
        except DAMAGED as error:
            raise UserError(f"its settings are unreadable ({type(error).__name__}: {error})") from None


def _data_options(data: dict) -> DataOptions:
    """DataOptions as config.json holds them, beside the record's own facts (source, names...)."""
    return DataOptions(**{f.name: data[f.name] for f in fields(DataOptions) if f.name in data})


@dataclass(frozen=True)
class RunResult:
    """How a finished run came out; written as the last line of metrics.jsonl."""

    steps: int  # 0 for a model fitted by counting
    best_step: int
    seconds: float
    parameters: int
    best: dict[str, float]  # train / val / test loss of the saved (best by val) model
    last: dict[str, float]  # the same for the model after the last step
    stopped_early: bool = False  # training stopped before its steps: val loss stopped improving
    initial_loss: float | None = None  # the untrained model's; ln(vocab size) is a uniform guess
    marginal: dict[str, float] | None = None  # a conditioned model's val / test loss, label summed out

    def to_json(self) -> dict:
        return {"final": True, **asdict(self)}

    @classmethod
    def from_json(cls, data: dict) -> "RunResult":
        try:
            losses = [_losses(data[key], ("train", "val", "test")) for key in ("best", "last")]
            return cls(
                int(data["steps"]),
                int(data["best_step"]),
                float(data["seconds"]),
                int(data["parameters"]),
                *losses,
                bool(data.get("stopped_early", False)),
                data.get("initial_loss"),
                _losses(data["marginal"], ("val", "test")) if data.get("marginal") is not None else None,
            )
        except DAMAGED as error:
            raise UserError(f"its final record is unreadable ({type(error).__name__}: {error})") from None


def _losses(losses: dict, parts: tuple[str, ...]) -> dict[str, float]:
    return {part: float(losses[part]) for part in parts}
