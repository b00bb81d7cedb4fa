"""Names on demand from a run: what `sample` and `score` answer (on the command line and the web
page alike), with what a person asks of each name: its loss, its label, whether it is a real one
the run learned from, and, explained, how surprising each of its characters is.

Everything a user types (constraints, a label, names to score) is cleaned with the run's own rules
here, so that the callers pass it through as typed.
"""

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass

from villanueva.data import END
from villanueva.inference.constraints import Constraints
from villanueva.inference.graphs import run_steps
from villanueva.inference.guess import real_name_note
from villanueva.inference.guidance import guided
from villanueva.inference.sample import (
    BUDGET_PER_NAME,
    MIN_BUDGET,
    Drawing,
    Sampled,
    Sampler,
    SampleReport,
    sample_rounds,
)
from villanueva.inference.score import (
    character_log_likelihoods,
    character_surprisals,
    cleaned_names,
    mixture_log_likelihoods,
)
from villanueva.inference.steps import Steps
from villanueva.runs import Run
from villanueva.schema import check, setting

SURPRISING = 5.0  # nats: a character this surprising or more is shown as "fully surprising"


@dataclass(frozen=True, kw_only=True)
class Style:
    """In whose style: a label of a conditioned run, or a group of its labels."""

    label: str | None = setting(
        None,
        "in the style of one label of a conditioned run: a province (Girona) or a community "
        "(Galicia); accents and case do not matter (default: any, as often as in the data)",
        metavar="NAME",
    )

    def __post_init__(self):
        check(self)


@dataclass(frozen=True, kw_only=True)
class Sampling:
    """How many names to invent, from which seed, drawing how many candidates at most."""

    count: int = setting(20, "how many names", metavar="N", ge=1, aliases=("-n",))
    seed: int | None = setting(
        None, "seed for repeatable names (default: random)", metavar="N", ge=0, lt=2**63
    )
    budget: int | None = setting(
        None,
        f"candidates to draw at most (default: {BUDGET_PER_NAME} per name, at least {MIN_BUDGET:,})",
        metavar="N",
        ge=1,
    )

    def __post_init__(self):
        check(self)


@dataclass(frozen=True, kw_only=True)
class Scoring:
    explain: bool = setting(
        False, "the surprisal (-ln P, in nats) of each character given the ones before it"
    )

    def __post_init__(self):
        check(self)


@dataclass(frozen=True)
class SampledName:
    name: str
    loss: float | None  # per character, given its label; None when not asked for
    label: str | None  # the label it was drawn with, for a conditioned run
    known: bool  # one of the names the run learned from

    def __str__(self) -> str:
        return self.name

    def to_json(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ScoredName:
    name: str  # as cleaned for the model
    loss: float  # per character (with the label summed out, for a conditioned run without one)
    known: bool
    surprisals: list[float] | None = None  # in nats, of each character of the name, then of END
    real: tuple[str, ...] = ()  # a real name's own labels in the run's data (a labelled run)

    @property
    def real_note(self) -> str:
        return real_name_note(self.real)

    def __str__(self) -> str:
        return self.name

    @property
    def explained(self) -> list[tuple[str, float]] | None:
        """Each character (then END, the end of the name) with its surprisal; None unexplained."""
        return None if self.surprisals is None else list(zip([*self.name, END], self.surprisals))

    def to_json(self) -> dict:
        data = asdict(self)
        if self.surprisals is None:
            del data["surprisals"]
        return data


def sample_run(
    run: Run,
    sampling: Sampling = Sampling(),
    style: Style = Style(),
    constraints: Constraints = Constraints(),
    drawing: Drawing = Drawing(),
    *,
    report: SampleReport | None = None,
    losses: bool = False,
) -> Iterator[list[SampledName]]:
    """Batches of up to `sampling.count` names of the run's model meeting `constraints`, in the
    style of `style.label` (a label or group of a conditioned run; None: any, by the prior);
    `losses` adds each name's loss per character, from the logits it was drawn from."""
    steps = run_steps(run)  # one decoding graph for the sampling and the losses
    sampler = run_sampler(run, steps, sampling, style, constraints, drawing, report=report)
    known = run.names
    # Guided, a name's loss is the guided model's (the logits it was drawn from); a given start's
    # is the model's own, given the label.
    batches = sample_rounds(guided(steps, drawing.style_strength), sampler)
    return (described(run, steps, batch, known=known, losses=losses) for batch in batches)


def run_sampler(
    run: Run,
    steps: Steps,
    sampling: Sampling = Sampling(),
    style: Style = Style(),
    constraints: Constraints = Constraints(),
    drawing: Drawing = Drawing(),
    *,
    report: SampleReport | None = None,
) -> Sampler:
    """The Sampler of `sample_run`'s names, for a caller that runs the model (`steps`, the run's:
    run_steps) itself, as the server's scheduler does (inference/batching.py); every option is
    checked here."""
    return Sampler(
        steps.max_length,
        run.vocab,
        sampling.count,
        constraints.cleaned(run.vocab, run.keep_accents),
        drawing,
        seed=sampling.seed,
        label_weights=run.label_weights(style.label),
        known=run.names,
        budget=sampling.budget,
        report=report,
    )


def described(
    run: Run, steps: Steps, batch: list[Sampled], *, known: set[str], losses: bool
) -> list[SampledName]:
    """A batch of sampled names with their labels' names, whether the run knows them (`known`: its
    names) and, with `losses`, their losses per character."""
    totals = _log_likelihoods(run, steps, batch) if losses else None
    return [
        SampledName(
            sampled.name,
            None if totals is None else -totals[i] / (len(sampled.name) + 1),
            None if sampled.label_id is None else run.labels.names[sampled.label_id],
            sampled.name in known,
        )
        for i, sampled in enumerate(batch)
    ]


def _log_likelihoods(run: Run, steps: Steps, batch: list[Sampled]) -> list[float]:
    """ln P(name | label) of each sampled name: what the sampler drew it with, and for a name that
    was given its start, the start's, scored once for each (start, label) of the batch."""
    given = sorted(
        {(sampled.name[: sampled.prefix], sampled.label_id) for sampled in batch if sampled.prefix}
    )
    starts = {}
    if given:
        label_ids = None if run.labels is None else [label_id for _, label_id in given]
        scored = character_log_likelihoods(steps, run.vocab, [start for start, _ in given], label_ids)
        # The start's characters, without the end that scoring it alone adds.
        starts = {pair: float(values[:-1].sum()) for pair, values in zip(given, scored)}
    return [
        sampled.drawn_log_probability + starts.get((sampled.name[: sampled.prefix], sampled.label_id), 0.0)
        for sampled in batch
    ]


def score_run(
    run: Run,
    names: Iterable[str],
    style: Style = Style(),
    scoring: Scoring = Scoring(),
    *,
    steps: Steps | None = None,
) -> list[ScoredName]:
    """Each name's loss per character under the run's model (for a conditioned run: in the style of
    `style.label`, or with the label summed out), and, explained, the surprisal of each character.
    `steps` read the names (default: the run's; a server's reads those of other requests beside)."""
    weights = run.label_weights(style.label)
    cleaned = cleaned_names(list(names), run.vocab, run.keep_accents)
    known = run.names
    steps = steps or run_steps(run)
    if scoring.explain:
        surprisals = character_surprisals(steps, run.vocab, cleaned, weights)
        totals = [-sum(values) for values in surprisals]
    else:
        totals = mixture_log_likelihoods(steps, run.vocab, cleaned, weights).tolist()
        surprisals = None
    return [
        ScoredName(
            name,
            -totals[i] / (len(name) + 1),
            name in known,
            None if surprisals is None else surprisals[i],
            tuple(run.labels_of(name)),
        )
        for i, name in enumerate(cleaned)
    ]
