"""Names on demand from a run: what `sample` and `score` answer (on the command line and the web
page alike), with what a person asks of each name: its loss, its label, whether it is a real one
the run learned from, and, explained, how surprising each of its characters is.

Everything a user types (constraints, a label, names to score) is cleaned with the run's own rules
here, so that the callers pass it through as typed.
"""

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

from villanueva.inference.constraints import Constraints
from villanueva.inference.sample import Drawing, SampleReport, sample
from villanueva.inference.score import (
    character_surprisals,
    cleaned_names,
    log_likelihoods,
    mixture_log_likelihoods,
)
from villanueva.runs import Run


@dataclass(frozen=True)
class SampledName:
    name: str
    loss: float | None  # per character, given its label; None when not asked for
    label: str | None  # the label it was drawn with, for a conditioned run
    known: bool  # one of the names the run learned from

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ScoredName:
    name: str  # as cleaned for the model
    loss: float  # per character (with the label summed out, for a conditioned run without one)
    known: bool
    surprisals: list[float] | None = None  # in nats, of each character of the name, then of END

    def to_json(self) -> dict:
        data = asdict(self)
        if self.surprisals is None:
            del data["surprisals"]
        return data


def sample_run(
    run: Run,
    count: int,
    constraints: Constraints = Constraints(),
    drawing: Drawing = Drawing(),
    *,
    seed: int | None = None,
    label: str | None = None,
    budget: int | None = None,
    report: SampleReport | None = None,
    losses: bool = False,
) -> Iterator[list[SampledName]]:
    """Batches of up to `count` names of the run's model meeting `constraints`, in the style of
    `label` (a label or group of a conditioned run; None: any, by the prior); `losses` adds each
    name's loss per character (one scoring pass per batch)."""
    weights = run.label_weights(label)
    known = run.names
    batches = sample(
        run.model,
        run.vocab,
        count,
        constraints.cleaned(run.vocab, run.keep_accents),
        drawing,
        seed=seed,
        label_weights=weights,
        known=known,
        budget=budget,
        report=report,
    )
    return _described(run, batches, known, losses)


def _described(run: Run, batches, known: set[str], losses: bool) -> Iterator[list[SampledName]]:
    for batch in batches:
        names = [sampled.name for sampled in batch]
        label_ids = None if run.labels is None else [sampled.label_id for sampled in batch]
        totals = log_likelihoods(run.model, run.vocab, names, label_ids).tolist() if losses else None
        yield [
            SampledName(
                sampled.name,
                None if totals is None else -totals[i] / (len(sampled.name) + 1),
                None if sampled.label_id is None else run.labels.names[sampled.label_id],
                sampled.name in known,
            )
            for i, sampled in enumerate(batch)
        ]


def score_run(
    run: Run, names: Iterable[str], *, label: str | None = None, explain: bool = False
) -> list[ScoredName]:
    """Each name's loss per character under the run's model (for a conditioned run: in the style of
    `label`, or with the label summed out), and with `explain` the surprisal of each character."""
    weights = run.label_weights(label)
    cleaned = cleaned_names(list(names), run.vocab, run.keep_accents)
    known = run.names
    if explain:
        surprisals = character_surprisals(run.model, run.vocab, cleaned, weights)
        totals = [-sum(values) for values in surprisals]
    else:
        surprisals, totals = None, mixture_log_likelihoods(run.model, run.vocab, cleaned, weights).tolist()
    return [
        ScoredName(
            name,
            -totals[i] / (len(name) + 1),
            name in known,
            None if surprisals is None else surprisals[i],
        )
        for i, name in enumerate(cleaned)
    ]
