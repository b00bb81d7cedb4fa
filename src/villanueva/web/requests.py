"""What each API call accepts, and its limits. A request outside them is refused with a 422 and one
line naming the field, before any work is done; a request within them is bounded in time and
memory (at most 1,000 names of at most 100 characters, a budget of candidates)."""

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from villanueva.inference.constraints import MAX_LENGTH

MAX_NAMES = 1_000  # names asked for, or sent to score, in one request
MAX_GUESSED = 100  # names placed in one request (each costs one pass per label)
MAX_BUDGET = 100_000  # candidates one sampling request may draw
DEFAULT_BUDGET = 20_000  # about 2 s of the best GRU on 2 CPU cores, at worst

Text = Annotated[str, StringConstraints(max_length=MAX_LENGTH)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not ignored

    run: int = Field(default=0, ge=0, description="which run: its index in /api/runs")


class SampleRequest(Strict):
    count: int = Field(default=20, ge=1, le=MAX_NAMES)
    label: Text | None = Field(default=None, description="a label or group (None: any, by the prior)")
    seed: int | None = Field(default=None, ge=0, lt=2**63)
    temperature: float = Field(default=1.0, gt=0, le=10)
    top_k: int | None = Field(default=None, ge=1, le=1_000)
    top_p: float | None = Field(default=None, gt=0, le=1)
    starts_with: Text = ""
    ends_with: Text = ""
    contains: list[Text] = Field(default_factory=list, max_length=5)
    min_length: int = Field(default=1, ge=1, le=MAX_LENGTH)
    max_length: int = Field(default=MAX_LENGTH, ge=1, le=MAX_LENGTH)
    new_only: bool = False
    min_distance: int = Field(default=0, ge=0, le=MAX_LENGTH)
    exclude: list[Text] = Field(default_factory=list, max_length=MAX_NAMES)
    budget: int = Field(default=DEFAULT_BUDGET, ge=1, le=MAX_BUDGET)


class ScoreRequest(Strict):
    names: list[Text] = Field(min_length=1, max_length=MAX_NAMES)
    label: Text | None = None
    explain: bool = False


class GuessRequest(Strict):
    names: list[Text] = Field(min_length=1, max_length=MAX_GUESSED)
    by: Text | None = Field(default=None, description="community, for a province run")
    top: int = Field(default=5, ge=1, le=100)
