"""Invent names: sample many at once, one character per step for the whole batch, under constraints.

All names of a round grow together, one character per model call for the whole batch; a name that
has produced the end token leaves the batch, and the round ends when none is left. The cost is
(longest name) model calls over (total characters) rows, not (number of names x name length)
model calls of one row as in the notebooks' one-name-at-a-time loop.

Constraints (inference/constraints.py) are met exactly: the start by conditioning, the length
limit by dropping a name as soon as it grows past it, the rest by rejection. Rounds are drawn until
enough names pass or a budget of candidate names is spent; `SampleReport` says how it went, and
which constraint rejected the most. What the model reads to predict the next character is its
kind's business (models/base.py, inference/steps.py): the loop only starts a decoding state, asks
for the next logits and extends the state, in numpy, whether torch or ONNX Runtime runs the model.
"""

import math
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from villanueva.data import Vocab
from villanueva.errors import UserError, parameter
from villanueva.inference.constraints import MAX_LENGTH, Constraints, Novelty
from villanueva.inference.graphs import as_steps
from villanueva.inference.guidance import guided
from villanueva.inference.steps import NON_FINITE, Steps, logsumexp
from villanueva.schema import check, setting

if TYPE_CHECKING:
    from villanueva.models.base import NameModel

CHUNK = 16_384  # names generated together: bounds the memory of a round
MIN_BUDGET, BUDGET_PER_NAME = 100_000, 100  # candidate names drawn at most, by default


@dataclass(frozen=True, kw_only=True)
class Drawing:
    """How each next character is drawn from the model's probabilities."""

    temperature: float = setting(
        1.0, "below 1: safer, more typical names; above 1: wilder", metavar="T", gt=0, le=100
    )
    top_k: int | None = setting(None, "draw only from the k likeliest characters", metavar="K", ge=1)
    top_p: float | None = setting(
        None, "draw only from the likeliest characters that make up P together", metavar="P", gt=0, le=1
    )
    style_strength: float = setting(
        1.0,
        "how strongly the label shapes the names: 1 as the model learned it, 0 ignores it, above 1 "
        "exaggerates the region (a conditioned model trained with `label_dropout`)",
        metavar="S",
        ge=0,
        le=10,
    )

    def __post_init__(self):
        check(self)


@dataclass(frozen=True)
class Sampled:
    name: str
    label_id: int | None  # the label it was drawn with, for a conditioned model
    # ln P of the characters drawn after the prefix and of the end, given the prefix and the label:
    # summed from the logits they were drawn from, so that a name's loss needs no second pass
    drawn_log_probability: float = 0.0
    prefix: int = 0  # the first characters of `name`, given (starts_with) and not drawn


@dataclass
class SampleReport:
    """How a constrained sample went: names found of those asked for, candidates drawn, and for
    each constraint how many candidates it tested and how many passed."""

    asked: int = 0
    budget: int = 0
    found: int = 0
    candidates: int = 0
    tested: Counter = field(default_factory=Counter)
    passed: Counter = field(default_factory=Counter)
    time_limit: float | None = None  # seconds, when the sample was stopped by one (on the server)

    @property
    def complete(self) -> bool:
        return self.found >= self.asked

    def hardest(self) -> tuple[str, float] | None:
        """The constraint that passed the smallest share of the candidates it tested."""
        rates = {rule: self.passed[rule] / count for rule, count in self.tested.items() if count}
        return min(rates.items(), key=lambda item: item[1]) if rates else None

    def shortfall(self) -> str:
        """One line on why fewer names than asked were found."""
        limit = (
            f"the budget; raise it with {parameter('budget')}"
            if self.time_limit is None
            else f"the time limit of {self.time_limit:g} s; raise it with {parameter('time_limit')}"
        )
        line = f"found {self.found:,} of {self.asked:,} names in {self.candidates:,} candidates ({limit})"
        hardest = self.hardest()
        if hardest is not None:
            line += f"; the hardest constraint is {hardest[0]}, met by {hardest[1]:.2%} of the candidates"
        return line


def sample(
    model: "Steps | NameModel",
    vocab: Vocab,
    count: int,
    constraints: Constraints = Constraints(),
    drawing: Drawing = Drawing(),
    **options,
) -> Iterator[list[Sampled]]:
    """Yield up to `count` names meeting `constraints` (already cleaned for `vocab`), batch by
    batch as they are found, in bounded memory. Same seed, same names. `model` is the Steps of a
    decoding graph (inference/steps.py) or a torch NameModel, which is run through its own.

    The `options` are the Sampler's keywords: `seed`; `label_weights`, which a conditioned model
    needs: how likely each label is to be drawn for a name (LabelSet.weights: the prior, or the
    labels of one province or community); `known`, the names novelty is measured against; `budget`,
    the candidates drawn at most (default: 100 per name asked for, at least 100,000); `report` (a
    SampleReport), filled in as names are found."""
    steps = guided(as_steps(model), drawing.style_strength)
    sampler = Sampler(steps.max_length, vocab, count, constraints, drawing, **options)
    # Everything is checked now, before the caller writes anything; the rounds run as it reads.
    return sample_rounds(steps, sampler)


def sample_rounds(steps: Steps, sampler: "Sampler") -> Iterator[list[Sampled]]:
    """A sampler's names, batch by batch, with `steps` run for it alone: each position's rows in one
    model call."""
    while not sampler.finished:
        state = steps.start(*sampler.begin())
        while True:
            next_ids, keep = sampler.draw(steps.logits(state))
            if not sampler.in_round:
                break
            state = steps.extend(state, next_ids, keep)
        found = sampler.end()
        if found:
            yield found


class Sampler:
    """One sample's rounds, cut at the model's calls, so that its caller runs the model: for this
    sample alone (`sample_rounds`), or the server's scheduler (inference/batching.py) for many requests'
    rows in one call. The caller starts each round's rows (`begin`: their count, prefix and labels),
    hands over the logits of the next rows of the current position (`draw`: all of them at once or
    a slice at a time, in order), extends the state of the rows kept, and collects the names when
    the round is over (`end`). The generator is this sample's own and its numbers are drawn in one
    order however the rows are sliced (a round's labels, then each position's rows in order), so a
    seed gives the same names alone or beside others."""

    def __init__(
        self,
        max_length: int | None,
        vocab: Vocab,
        count: int,
        constraints: Constraints = Constraints(),
        drawing: Drawing = Drawing(),
        *,
        seed: int | None = None,
        label_weights: np.ndarray | None = None,
        known: frozenset[str] | set[str] = frozenset(),
        budget: int | None = None,
        report: SampleReport | None = None,
    ):
        constraints.check_fits(max_length)
        self.vocab, self.constraints, self.drawing = vocab, constraints, drawing
        self.prefix_ids = vocab.encode(constraints.starts_with)
        self.report = report if report is not None else SampleReport()
        self.report.asked, self.report.budget = count, budget or max(MIN_BUDGET, BUDGET_PER_NAME * count)
        self.novelty = Novelty(known, constraints.min_distance) if constraints.novel else None
        self.generator = np.random.default_rng(seed if seed is not None else secrets.randbits(63))
        self.label_weights = None if label_weights is None else np.asarray(label_weights, dtype=np.float64)
        longest = constraints.max_length if max_length is None else min(constraints.max_length, max_length)
        self.length_rule = (
            f"{parameter('max_length')} {longest}"  # a name longer is dropped as soon as it grows past it
        )
        self.most = longest - len(self.prefix_ids)  # characters drawn after the prefix, at most
        self.rules = constraints.rules()
        self.returned: set[str] = set()  # with novelty, so that every name is returned once
        self.in_round = False

    @property
    def finished(self) -> bool:
        """Enough names found, or the budget spent (no round is begun after either)."""
        return self.report.complete or self.report.candidates >= self.report.budget

    @property
    def rows_left(self) -> int:
        """Rows of the current position whose next character is not drawn yet."""
        return len(self._growing) - self._drawn if self.in_round else 0

    def begin(self) -> tuple[int, list[int], np.ndarray | None]:
        """Begin a round: how many rows, their prefix ids and their label ids (Steps.start's arguments)."""
        size = _round_size(self.report)
        weights = self.label_weights
        self._label_ids = None if weights is None else _draw_labels(weights, size, self.generator)
        self._generated = np.zeros((size, self.most + 1), dtype=np.int64)
        self._log_probabilities = np.zeros(size)  # of each row's characters drawn so far
        self._lengths = np.full(size, -1)  # -1 until a row ends; one that never ends within `most` is dropped
        self._growing = np.arange(size)  # the rows of `_generated` that have not ended
        self._going_on = np.zeros(size, dtype=bool)  # of the growing rows, those drawn at this position
        self.position, self._drawn = 0, 0
        self.in_round = True
        return size, self.prefix_ids, self._label_ids

    def draw(self, logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The next character of the next `len(logits)` rows of the current position, and which of
        those rows go on (their state is to be extended with those characters). A finished row,
        and every row after the last position, goes on no longer."""
        return draw_together([self], logits, [len(logits)])

    def _advance(self, next_ids: np.ndarray, log_probabilities: np.ndarray) -> bool:
        """`draw`, given the ids drawn and their log-probabilities: whether this position is not the
        last (after it, no row goes on)."""
        rows = self._growing[self._drawn : self._drawn + len(next_ids)]
        self._generated[rows, self.position] = next_ids
        self._log_probabilities[rows] += log_probabilities
        self._going_on[self._drawn : self._drawn + len(next_ids)] = next_ids != 0
        self._drawn += len(next_ids)
        last = self.position == self.most
        if self._drawn == len(self._growing):
            self._next_position()
        return not last

    def _next_position(self) -> None:
        going_on = self._going_on[: len(self._growing)]
        self._lengths[self._growing[~going_on]] = self.position
        if not going_on.any() or self.position == self.most:
            self.in_round = False
            return
        # Drop the rows that just ended, so that every model call works for live names only: a
        # batch's longest name is several times its average, and computing finished rows until
        # then would cost several times the work.
        self._growing = self._growing[going_on]
        self.position, self._drawn = self.position + 1, 0

    def end(self) -> list[Sampled]:
        """The names of the round just over that meet the constraints, as many as are still missing."""
        report, size = self.report, len(self._lengths)
        ended = np.flatnonzero(self._lengths >= 0)
        report.candidates += size
        report.tested[self.length_rule] += size
        report.passed[self.length_rule] += len(ended)
        labels = [None] * len(ended) if self._label_ids is None else self._label_ids[ended].tolist()
        texts = _decoded(self._generated[ended], self._lengths[ended], self.vocab)
        prefix = self.constraints.starts_with
        candidates = [
            Sampled(prefix + name, label, log_probability, len(prefix))
            for name, label, log_probability in zip(texts, labels, self._log_probabilities[ended].tolist())
        ]
        found = _passing(candidates, self.rules, self.novelty, self.returned, report)
        found = found[: report.asked - report.found]
        report.found += len(found)
        return found


def _passing(candidates, rules, novelty, returned: set[str], report: SampleReport) -> list[Sampled]:
    """The candidates that meet every rule, counting for each rule the ones it tested and passed."""
    for option, test in rules:
        report.tested[option] += len(candidates)
        candidates = [c for c in candidates if test(c.name)]
        report.passed[option] += len(candidates)
    if novelty is not None:
        report.tested[novelty.rule] += len(candidates)
        is_new = novelty.new([c.name for c in candidates])
        fresh = []
        for candidate, new in zip(candidates, is_new):
            if new and candidate.name not in returned:
                returned.add(candidate.name)
                fresh.append(candidate)
        candidates = fresh
        report.passed[novelty.rule] += len(candidates)
    return candidates


def _round_size(report: SampleReport) -> int:
    """Candidates to draw next: as many as should give the names still missing at the pass rate
    seen so far (exactly them while nothing has been rejected), within CHUNK and the budget."""
    missing = report.asked - report.found
    if report.candidates and report.found < report.candidates:
        rate = (report.found + 1) / (report.candidates + 1)
        missing = math.ceil(missing / rate * 1.2)
    return max(1, min(missing, CHUNK, report.budget - report.candidates))


def draw_together(
    samplers: list[Sampler], logits: np.ndarray, counts: list[int]
) -> tuple[np.ndarray, np.ndarray]:
    """`Sampler.draw` for several samplers at once, `logits` holding `counts` rows of each in turn:
    the ids drawn and which rows go on, for all rows in order. The rows are computed together (those
    drawn alike, with the same Drawing, in one pass), each as it would be alone; each sampler draws
    its rows' numbers from its own generator. Only the bookkeeping of each sampler's own rows is a
    loop over the samplers: a step of the server's has a share of every request in flight."""
    logits = logits.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):  # non-finite logits: refused below (NON_FINITE)
        normaliser = logsumexp(logits, axis=1)
    alike = defaultdict(list)
    for i, sampler in enumerate(samplers):
        alike[sampler.drawing].append(i)
    owner = np.repeat(np.arange(len(samplers)), counts) if len(alike) > 1 else None
    next_ids = np.empty(len(logits), dtype=np.int64)
    for drawing, members in alike.items():
        # The members' rows, in order (a sampler's rows are consecutive, and members ascend).
        chosen = slice(None) if owner is None else np.flatnonzero(np.isin(owner, members))
        tempered = logits[chosen] if drawing.temperature == 1 else logits[chosen] / drawing.temperature
        uniform = np.concatenate([samplers[i].generator.random((counts[i], 1)) for i in members])
        next_ids[chosen] = _inverse_cdf(_cumulative_probabilities(tempered, drawing), uniform)
    # The model's own probability (before temperature, top-k, top-p) of each character drawn.
    drawn = logits[np.arange(len(logits)), next_ids] - normaliser
    keep = next_ids != 0
    ends = np.cumsum(counts).tolist()
    for sampler, count, end in zip(samplers, counts, ends):
        if not sampler._advance(next_ids[end - count : end], drawn[end - count : end]):
            keep[end - count : end] = False
    return next_ids, keep


def sample_names(
    model: "Steps | NameModel",
    vocab: Vocab,
    count: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    seed: int | None = None,
    prefix: str = "",
    max_length: int = MAX_LENGTH,
    label_weights: np.ndarray | None = None,
) -> list[str]:
    """`count` names (up to `max_length` characters each), each starting with `prefix` (already
    cleaned); fewer only if the budget of candidates is spent first. Same seed, same names."""
    batches = sample(
        model,
        vocab,
        count,
        Constraints(starts_with=prefix, max_length=max_length).cleaned(vocab, keep_accents=True),
        Drawing(temperature=temperature, top_k=top_k, top_p=top_p),
        seed=seed,
        label_weights=label_weights,
    )
    return [sampled.name for batch in batches for sampled in batch]


def _decoded(ids: np.ndarray, lengths: np.ndarray, vocab: Vocab) -> list[str]:
    """The text of each row of `ids`, `lengths` characters long."""
    width = int(lengths.max(initial=0))  # no wider than the longest name
    if len(vocab) > 256:
        return [vocab.decode(row[:length]) for row, length in zip(ids[:, :width].tolist(), lengths.tolist())]
    # One byte per id, decoded and mapped to the characters at once, then cut into names: a list of
    # ints per name cost more than the model itself.
    text = np.ascontiguousarray(ids[:, :width], dtype=np.uint8).tobytes().decode("latin-1")
    text = text.translate(dict(enumerate(vocab.chars)))
    return [text[i * width : i * width + length] for i, length in enumerate(lengths.tolist())]


def _draw_labels(weights: np.ndarray, count: int, generator: np.random.Generator) -> np.ndarray:
    return _draw(np.broadcast_to(weights.cumsum(), (count, len(weights))), generator)


def _cumulative_probabilities(logits: np.ndarray, drawing: Drawing) -> np.ndarray:
    """Cumulative probabilities of each row's characters, with the ones top-k and top-p leave out
    at probability 0 (their cumulative value repeats the previous one, so they are never drawn)."""
    if drawing.top_k is not None and drawing.top_k < logits.shape[1]:
        # a partition, not a threshold: exactly k candidates even when logits tie
        left_out = np.argpartition(-logits, drawing.top_k - 1, axis=1)[:, drawing.top_k :]
        logits = logits.copy()
        np.put_along_axis(logits, left_out, -np.inf, axis=1)
    largest = logits.max(axis=1, keepdims=True)  # NaN or infinite when any logit of the row is
    if not np.isfinite(largest).all():
        raise UserError(NON_FINITE)
    # Unnormalised: _draw scales its uniform number by each row's total instead (one pass less).
    probabilities = np.exp(logits - largest)
    if drawing.top_p is not None and drawing.top_p < 1:
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        # The nucleus: the likeliest characters up to and including the one that reaches top_p.
        order = np.argsort(-probabilities, axis=1, kind="stable")
        ordered = np.take_along_axis(probabilities, order, axis=1)
        before = ordered.cumsum(axis=1) - ordered  # probability of the likelier characters
        np.put_along_axis(probabilities, order, np.where(before >= drawing.top_p, 0.0, ordered), axis=1)
    return probabilities.cumsum(axis=1)


def _draw(cumulative: np.ndarray, generator: np.random.Generator) -> np.ndarray:
    """One id per row of `cumulative` probabilities, with a uniform number of `generator` each."""
    return _inverse_cdf(cumulative, generator.random((len(cumulative), 1)))


def _inverse_cdf(cumulative: np.ndarray, uniform: np.ndarray) -> np.ndarray:
    """One id per row by inverse-CDF sampling: the row's `uniform` number `(rows, 1)` found in its
    cumulative probabilities (a drawn id is the number of cumulative values at or below it)."""
    total = cumulative[:, -1:]
    wanted = uniform * total
    drawn = (cumulative <= wanted).sum(axis=1)
    # u * total can round up to total: then the draw is the last id of positive probability, the
    # first whose cumulative probability reaches the total. Below the total, it never passes that id.
    # (Non-finite logits were refused before: NON_FINITE; the clamp keeps ids in range anyway.)
    rounded = np.flatnonzero(~(wanted[:, 0] < total[:, 0]))
    drawn[rounded] = (cumulative[rounded] < total[rounded]).sum(axis=1)
    return np.minimum(drawn, cumulative.shape[1] - 1)
