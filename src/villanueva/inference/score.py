"""How "in style" is a name: its mean negative log-likelihood per character under a run's model,
on the same scale as the training loss (lower = more typical). The model's pass goes through its
decoding graph (inference/steps.py), run by torch or, exported, by ONNX Runtime.

A conditioned model gives the likelihood of a name given a label; the likelihood of the name
itself sums the label out: P(name) = sum over labels of P(label) P(name | label), with the run's
prior or any other weights (those of one community's provinces, say).
"""

from typing import TYPE_CHECKING

import numpy as np

from villanueva.data import LabelSet, Split, Vocab, clean_name
from villanueva.data.corpus import MAX_NAME_LENGTH
from villanueva.errors import UserError, quoted
from villanueva.inference.graphs import as_steps
from villanueva.inference.steps import NON_FINITE, Steps, logsumexp

if TYPE_CHECKING:
    from villanueva.models.base import NameModel  # or its export's Steps: no torch needed

PADDED_CHARACTERS_PER_PASS = 32_768  # bounds the memory of one forward pass, however many names


def cleaned_names(names: list[str], vocab: Vocab, keep_accents: bool) -> list[str]:
    """`names` cleaned with a run's rules; an empty or unencodable one is a UserError naming it."""
    cleaned = [clean_name(name, keep_accents) for name in names]
    for raw, name in zip(names, cleaned):
        if not name:
            raise UserError(f"{quoted(raw)} is empty after cleaning; nothing to score")
        if len(name) > MAX_NAME_LENGTH:
            raise UserError(
                f"a name of {len(name):,} characters is longer than a name can be ({MAX_NAME_LENGTH})"
            )
    # One check of every character at once; the first name that fails is encoded alone, for its error.
    unknown = set("".join(cleaned)) - vocab.index.keys()
    if unknown:
        vocab.encode(next(name for name in cleaned if not unknown.isdisjoint(name)))
    return cleaned


def log_likelihoods(model: "NameModel | Steps", vocab: Vocab, names: list[str], label_ids=None) -> np.ndarray:
    """log P(name), or log P(name | label) for a conditioned model, of each name: float64 `(N,)`."""
    totals = np.empty(len(names), dtype=np.float64)
    for rows, lengths, scored in _scored(model, vocab, names, label_ids):
        starts = np.cumsum([0, *lengths[:-1]])
        totals[rows] = np.add.reduceat(scored.astype(np.float64), starts)
    return totals


def character_log_likelihoods(
    model: "NameModel | Steps", vocab: Vocab, names: list[str], label_ids=None
) -> list[np.ndarray]:
    """log P(character | the name before it) of each character and the end token of each name."""
    characters: list[np.ndarray] = [np.empty(0)] * len(names)
    for rows, lengths, scored in _scored(model, vocab, names, label_ids):
        for row, values in zip(rows, np.split(scored.astype(np.float64), np.cumsum(lengths)[:-1])):
            characters[row] = values
    return characters


def _scored(model, vocab: Vocab, names: list[str], label_ids):
    """For each group of names scored in one pass: their positions in `names`, their lengths with
    the end token, and the log-probability of each of their characters, name after name."""
    groups = list(_passes(names))
    rows = ([vocab.encode(names[i]) for i in group] for group in groups)
    labels = (None if label_ids is None else np.array([label_ids[i] for i in group]) for group in groups)
    for group, scored in zip(groups, as_steps(model).read_passes(zip(rows, labels))):
        if not np.isfinite(scored).all():  # a softmax's logarithm is finite unless the logits are not
            raise UserError(NON_FINITE)
        yield group, [len(names[i]) + 1 for i in group], scored


def fits_one_pass(rows: int, narrowest: int, widest: int) -> bool:
    """Whether `rows` names, the shortest `narrowest` characters and the longest `widest` (with the
    start or end token), are read in one pass: a whole-name model's rows are padded to the longest,
    so the longest is at most half as long again as the shortest (at most a third of the pass is
    padding), and the pass holds at most PADDED_CHARACTERS_PER_PASS characters, padding included."""
    return rows * widest <= PADDED_CHARACTERS_PER_PASS and widest <= 1.5 * narrowest


def _passes(names: list[str]):
    """The positions of `names` in groups to score in one pass each (`fits_one_pass`), by length."""
    group: list[int] = []
    for i in sorted(range(len(names)), key=lambda i: len(names[i])):
        if group and not fits_one_pass(len(group) + 1, len(names[group[0]]) + 1, len(names[i]) + 1):
            yield group
            group = []
        group.append(i)
    if group:
        yield group


def label_log_likelihoods(
    model: "NameModel | Steps", vocab: Vocab, names: list[str], label_ids: list[int]
) -> np.ndarray:
    """log P(name | label) of every name under every one of `label_ids`: `(N, len(label_ids))`,
    all (name, label) pairs scored together, so that a few names fill a pass too."""
    pairs = [name for name in names for _ in label_ids]
    totals = log_likelihoods(model, vocab, pairs, label_ids * len(names))
    return totals.reshape(len(names), len(label_ids))


def mixture_log_likelihoods(
    model: "NameModel | Steps", vocab: Vocab, names: list[str], label_weights: np.ndarray | None
) -> np.ndarray:
    """log P(name): of an unconditioned model (`label_weights` None), or of a conditioned one with
    its label drawn from `label_weights` (non-negative, summing to 1)."""
    if label_weights is None:
        return log_likelihoods(model, vocab, names)
    chosen = np.flatnonzero(label_weights)
    joint = label_log_likelihoods(model, vocab, names, chosen.tolist()) + np.log(label_weights[chosen])
    return logsumexp(joint, axis=1)


def character_surprisals(
    model: "NameModel | Steps", vocab: Vocab, names: list[str], label_weights: np.ndarray | None = None
) -> list[list[float]]:
    """-ln P(character | the characters before it) of each character and end token of each name:
    how surprising the model finds it. With `label_weights`, a conditioned model's label is summed
    out as the name is read: P(first t characters) = sum over labels of P(label) P(them | label),
    so the surprisals of a name add up to its mixture loss, -ln P(name)."""
    if label_weights is None:
        return [(-values).tolist() for values in character_log_likelihoods(model, vocab, names)]
    chosen = np.flatnonzero(label_weights).tolist()
    log_weights = np.log(label_weights[chosen])[:, None]
    pairs = [name for name in names for _ in chosen]
    per_pair = character_log_likelihoods(model, vocab, pairs, chosen * len(names))
    surprisals = []
    for i in range(len(names)):
        per_label = np.stack(per_pair[i * len(chosen) : (i + 1) * len(chosen)])  # (labels, characters)
        read_so_far = logsumexp(per_label.cumsum(axis=1) + log_weights, axis=0)  # ln P(first t characters)
        surprisals.append((-np.diff(read_so_far, prepend=0.0)).tolist())
    return surprisals


def score_names(
    model: "NameModel | Steps",
    vocab: Vocab,
    names: list[str],
    keep_accents: bool = False,
    label_weights: np.ndarray | None = None,
) -> list[tuple[str, float]]:
    """Return (cleaned name, loss per character) for each name, cleaned with the rules the run was
    trained with; a conditioned model's label is drawn from `label_weights`."""
    cleaned = cleaned_names(names, vocab, keep_accents)
    totals = mixture_log_likelihoods(model, vocab, cleaned, label_weights)
    return [(name, -total / (len(name) + 1)) for name, total in zip(cleaned, totals.tolist())]


def per_character_loss(
    model: "NameModel | Steps", vocab: Vocab, names: list[str], label_ids: list[int] | None = None
) -> float:
    """The loss of docs/design.md over `names` (one part of a split), each with its label id for a
    conditioned model: the mean negative log-likelihood per character, end token included."""
    return _per_character(log_likelihoods(model, vocab, names, label_ids), names)


# A GRU scores about 12,000 pairs a second on 2 cores: at most about 40 s a part. The notebooks'
# provinces: 813 names x 52 labels = 42,276 pairs.
MARGINAL_PAIRS = 500_000
MARGINAL_SKIPPED = f"not computed (more than {MARGINAL_PAIRS:,} name-label pairs to score)"


def marginal_loss(model: "NameModel | Steps", vocab: Vocab, names: list[str], labels: LabelSet) -> float:
    """A conditioned model's loss with each name's label summed out with the prior: the loss per
    character of P(name), comparable with an unconditioned model's."""
    return _per_character(mixture_log_likelihoods(model, vocab, names, labels.prior()), names)


def _per_character(totals: np.ndarray, names: list[str]) -> float:
    """The mean negative log-likelihood per character (end tokens included) of names' `totals`."""
    return float(-totals.sum()) / sum(len(name) + 1 for name in names)


def marginal_losses(
    model: "NameModel | Steps", vocab: Vocab, split: Split, labels: LabelSet
) -> dict[str, float] | None:
    """The marginal loss on val and test (not on train: that would score 80% of the names once per
    label, for a number nothing compares); None where a part has more than MARGINAL_PAIRS
    name-label pairs to score (thousands of labels would take hours)."""
    parts = {part: split.parts()[part] for part in ("val", "test")}
    if max(map(len, parts.values())) * len(labels) > MARGINAL_PAIRS:
        return None
    return {part: marginal_loss(model, vocab, names, labels) for part, names in parts.items()}
