"""What each API call accepts, and its limits, generated from the option groups' declarations
(villanueva.schema): a field per option, with its type, default, range and help. A request outside
them is refused with a 422 and one line naming the field, before any work is done. The server adds
its own caps (`CAPS`) so that a request within them is bounded in time and memory: at most 1,000
names of at most 100 characters, a budget of candidates, a time limit for sampling.
"""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, create_model

from villanueva.data.spelling import Writing
from villanueva.errors import worded
from villanueva.inference.constraints import MAX_LENGTH, Constraints
from villanueva.inference.guess import Guessing
from villanueva.inference.on_demand import Sampling, Scoring, Style
from villanueva.inference.sample import Drawing
from villanueva.schema import ValueType, options

MAX_NAMES = 1_000  # names asked for, or sent to score, in one request
MAX_GUESSED = 100  # names placed in one request (each costs one pass per label)
DEFAULT_BUDGET = 20_000  # about 2 s of the best GRU on 2 CPU cores, at worst
# Seconds a sampling request may take, beside the others (inference/batching.py): after them it
# answers with the names found so far and a shortfall.
DEFAULT_TIME_LIMIT, MAX_TIME_LIMIT = 5.0, 30.0
# The server's caps on top of the options' own ranges: field -> (most, default when not given).
CAPS = {
    "count": (MAX_NAMES, None),
    "budget": (100_000, DEFAULT_BUDGET),
    "temperature": (10, None),
    "top_k": (1_000, None),
    "top": (100, None),
    "contains": (5, None),  # texts
    "exclude": (MAX_NAMES, None),  # names
}

Text = Annotated[str, StringConstraints(max_length=MAX_LENGTH)]

# Each field as the page labels it (its JSON schema's "title"): the page reads its labels here, and
# the page's messages name a field the same way (`spoken`), not as a flag or a request field.
LABELS = {
    "run": "Model",
    "count": "Names",
    "seed": "Seed",
    "budget": "Candidates to try",
    "label": "Style of",
    "style_strength": "Style strength",
    "temperature": "Temperature",
    "top_k": "Top-k",
    "top_p": "Top-p",
    "starts_with": "Starts with",
    "ends_with": "Ends with",
    "contains": "Contains",
    "min_length": "Shortest",
    "max_length": "Longest",
    "new_only": "New names only",
    "min_distance": "Edits from any real name",
    "exclude": "Names to leave out",
    "explain": "Explain",
    "by": "By",
    "top": "Labels shown",
    "names": "Names",
    "raw": "As the model writes them",
    "time_limit": "Time limit (s)",
}


def spoken(name: str) -> str:
    """The parameter `name` as the page's messages say it: its label, in quotes ("“Shortest”")."""
    return f"“{LABELS.get(name, name.replace('_', ' '))}”"


class Strict(BaseModel):
    # A misspelt field is an error, not ignored; "3" is not taken for 3, nor "yes" for true.
    model_config = ConfigDict(extra="forbid", strict=True)

    run: int = Field(default=0, ge=0, title=LABELS["run"], description="which run: its index in /api/runs")


def _fields(*groups) -> dict:
    declared = {}
    for group in groups:
        for f in options(group):
            expected = ValueType.of(f.type)
            kind = Text if expected.kind is str else expected.kind
            annotation = list[kind] if expected.sequence else kind
            limits = dict(f.metadata["bounds"])
            most, server_default = CAPS.get(f.name, (None, None))
            if most is not None:
                limits["max_length" if expected.sequence else "le"] = most
            default = f.default if server_default is None else server_default
            declared[f.name] = (
                annotation | None if expected.optional else annotation,
                Field(
                    title=LABELS.get(f.name),
                    default=list(default) if expected.sequence else default,
                    description=worded(f.metadata["help"], str),  # the field's own name, as errors say it
                    **limits,
                ),
            )
    return declared


def _request(name: str, *groups, **extra) -> type[BaseModel]:
    return create_model(name, __base__=Strict, **_fields(*groups), **extra)


SampleRequest = _request(
    "SampleRequest",
    Sampling,
    Style,
    Drawing,
    Constraints,
    Writing,
    time_limit=(
        float,
        Field(
            default=DEFAULT_TIME_LIMIT,
            gt=0,
            le=MAX_TIME_LIMIT,
            title=LABELS["time_limit"],
            description="seconds at most; after them, the names found so far and why there are not more",
        ),
    ),
)
ScoreRequest = _request(
    "ScoreRequest", Style, Scoring, Writing, names=(list[Text], Field(min_length=1, max_length=MAX_NAMES))
)
GuessRequest = _request(
    "GuessRequest", Guessing, Writing, names=(list[Text], Field(min_length=1, max_length=MAX_GUESSED))
)


def built(cls, request: BaseModel):
    """The option group `cls` from the fields of `request` that it declares."""
    return cls(**{f.name: getattr(request, f.name) for f in options(cls)})


def limits() -> dict:
    """Each request's fields with their defaults, ranges and help, for the page to read."""
    return {
        name: model.model_json_schema()["properties"]
        for name, model in (("sample", SampleRequest), ("score", ScoreRequest), ("guess", GuessRequest))
    }
