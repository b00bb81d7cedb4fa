"""Which label does a name sound like: P(label | name) by Bayes' rule over a conditioned model,

    P(label | name) = P(label) P(name | label) / sum over labels of the same,

with the run's prior P(label) and the model's likelihood of the whole name given each label. A
label that groups others (a community, for a province run) gets the sum of its members'.
"""

from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from villanueva.data import LabelSet, Vocab
from villanueva.errors import UserError, parameter
from villanueva.inference.graphs import run_steps
from villanueva.inference.score import cleaned_names, label_log_likelihoods
from villanueva.inference.steps import Steps, logsumexp
from villanueva.runs import Run
from villanueva.schema import check, setting

if TYPE_CHECKING:
    from villanueva.models.base import NameModel  # or its export's Steps: no torch needed


@dataclass(frozen=True, kw_only=True)
class Guessing:
    """Which labels to give for each name."""

    by: str | None = setting(
        None,
        "sum the guesses of each group of labels: community, for a province run, or a CSV's "
        "`group_column` (default: the run's own labels)",
        metavar="KIND",
    )
    top: int = setting(5, "how many labels per name", metavar="N", ge=1)

    def __post_init__(self):
        check(self)


@dataclass(frozen=True)
class Guess:
    name: str  # as cleaned for the model
    labels: list[tuple[str, float]]  # the likeliest labels, most probable first, with P(label | name)
    real: tuple[str, ...] = ()  # a real name's own labels (or their groups) in the run's data

    def __str__(self) -> str:
        guessed = ", ".join(f"{label} {probability:.1%}" for label, probability in self.labels)
        return f"{self.name}: {guessed}" + (f" ({self.real_note})" if self.real else "")

    @property
    def real_note(self) -> str:
        return real_name_note(self.real)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "labels": [{"label": label, "probability": p} for label, p in self.labels],
            "real": list(self.real),
        }

    def rows(self) -> list["GuessedLabel"]:
        """One record per label, for a table (CSV)."""
        real = "; ".join(self.real)
        return [GuessedLabel(self.name, rank, *pair, real) for rank, pair in enumerate(self.labels, 1)]


def real_name_note(labels: tuple[str, ...]) -> str:
    """ "a real name of Bizkaia", for a name the run learned from (its labels); else nothing."""
    return f"a real name of {' and '.join(labels)}" if labels else ""


@dataclass(frozen=True)
class GuessedLabel:
    name: str
    rank: int
    label: str
    probability: float
    real: str  # the name's own labels in the run's data, "; "-separated (empty: not a real name)

    def to_json(self) -> dict:
        return asdict(self)


def label_posteriors(
    model: "NameModel | Steps", vocab: Vocab, labels: LabelSet, names: list[str]
) -> np.ndarray:
    """P(label | name) for each (already cleaned) name and each label: float64 `(N, labels)`."""
    joint = label_log_likelihoods(model, vocab, names, list(range(len(labels)))) + np.log(labels.prior())
    return np.exp(joint - logsumexp(joint, axis=1)[:, None])


def guess_labels(
    model: "NameModel | Steps",
    vocab: Vocab,
    labels: LabelSet | None,
    names: list[str],
    guessing: Guessing = Guessing(),
    *,
    keep_accents: bool = False,
) -> list[Guess]:
    """The `guessing.top` likeliest labels of each name, or of the groups of labels `guessing.by`
    names (community, for a province run), summed."""
    if labels is None:
        raise UserError(
            f"this run is not conditioned on labels; train one with {parameter('condition')} "
            f"or {parameter('label_column')}"
        )
    by, top = guessing.by, guessing.top
    cleaned = cleaned_names(names, vocab, keep_accents)
    posteriors = label_posteriors(model, vocab, labels, cleaned)
    names_of, posteriors = _grouped(labels, posteriors, by)
    # Most probable first; a stable sort keeps ties in the labels' order.
    best = np.argsort(-posteriors, axis=1, kind="stable")[:, :top]
    return [
        Guess(name, [(names_of[i], float(row[i])) for i in ids])
        for name, ids, row in zip(cleaned, best.tolist(), posteriors)
    ]


def guess_run(
    run: Run, names: list[str], guessing: Guessing = Guessing(), *, steps: Steps | None = None
) -> list[Guess]:
    """`guess_labels` with a run's model (its export, where it has one, or `steps`), vocabulary and
    labels; a name the run learned from also gets its own labels (or their groups, guessing `by` a
    group)."""
    guesses = guess_labels(
        steps or run_steps(run), run.vocab, run.labels, names, guessing, keep_accents=run.keep_accents
    )
    return [replace(guess, real=_real_labels(run, guess.name, guessing.by)) for guess in guesses]


def _real_labels(run: Run, name: str, by: str | None) -> tuple[str, ...]:
    labels = run.labels_of(name)
    if by is None or by == run.labels.kind:
        return tuple(labels)
    group_of = {member: group for group, members in run.labels.groups.items() for member in members}
    return tuple(sorted({group_of[label] for label in labels}))


def _grouped(labels: LabelSet, posteriors: np.ndarray, by: str | None) -> tuple[list[str], np.ndarray]:
    if by is None or by == labels.kind:
        return labels.names, posteriors
    if by != labels.group_kind:
        raise UserError(
            f"a {labels.kind} run can only guess by {labels.kind}"
            + (f" or {labels.group_kind}" if labels.group_kind else "")
        )
    groups = list(labels.groups)
    member_of = np.zeros((len(labels), len(groups)), dtype=posteriors.dtype)
    for column, members in enumerate(labels.groups.values()):
        member_of[labels.ids(members), column] = 1
    return groups, posteriors @ member_of
