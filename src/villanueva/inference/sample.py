"""Invent names: sample many at once, one character per step for the whole batch.

All names grow together, one character per model call for the whole batch; a name that has
produced the end token leaves the batch, and the loop stops when none is left. The cost is
(longest name) model calls over (total characters) rows, not (number of names x name length)
model calls of one row as in the notebooks' one-name-at-a-time loop.

What the model reads to predict the next character is its kind's business (models/base.py): the
loop only starts a decoding state, asks for the next logits and extends the state.
"""

import secrets

import torch

from villanueva.data import END, Vocab
from villanueva.errors import UserError
from villanueva.models.base import NameModel, model_device

MAX_LENGTH = 100
CHUNK = 16_384  # names generated together
NEW_NAME_ROUNDS = 50


@torch.no_grad()
def sample_names(
    model: NameModel,
    vocab: Vocab,
    count: int,
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int | None = None,
    prefix: str = "",
    max_length: int = MAX_LENGTH,
    label_weights: torch.Tensor | None = None,
) -> list[str]:
    """Return `count` names, each starting with `prefix`. Same seed, same names.

    A conditioned model needs `label_weights`, how likely each label is to be drawn for a name
    (LabelSet.weights: the prior, or the labels of one province or community)."""
    _check(count, temperature, top_k, seed)
    if END in prefix:
        raise UserError(f"--prefix must not contain {END!r}: it is the end-of-name token")
    prefix_ids = vocab.encode(prefix)
    limit = model.max_length  # a Transformer cannot read past its positions
    if limit is not None:
        if len(prefix_ids) > limit:
            raise UserError(
                f"--prefix has {len(prefix_ids)} characters; this model reads names of at most {limit}"
            )
        max_length = min(max_length, limit - len(prefix_ids))
    generator = torch.Generator(device=model_device(model))
    generator.manual_seed(seed if seed is not None else secrets.randbits(63))
    model.eval()
    names = []
    for start in range(0, count, CHUNK):  # bounded memory however many names are asked for
        size = min(CHUNK, count - start)
        label_ids = None if label_weights is None else _draw_labels(label_weights, size, generator)
        rows = _generate(model, size, prefix_ids, label_ids, temperature, top_k, generator, max_length)
        names += [prefix + vocab.decode(_until_end(row)) for row in rows]
    return names


def _generate(
    model: NameModel,
    count: int,
    prefix_ids: list[int],
    label_ids: torch.Tensor | None,
    temperature: float,
    top_k: int | None,
    generator: torch.Generator,
    max_length: int,
) -> list[list[int]]:
    """Ids of `count` continuations of the prefix, each up to its end token (0) or max_length."""
    device = model_device(model)
    state = model.start_decoding(count, prefix_ids, label_ids)
    generated = torch.zeros(count, max_length, dtype=torch.long, device=device)
    growing = torch.arange(count, device=device)  # the rows of `generated` that have not ended
    for position in range(max_length):
        next_ids = _draw(_cumulative_probabilities(model.next_logits(state) / temperature, top_k), generator)
        generated[growing, position] = next_ids
        # Drop the rows that just ended, so that every model call works for live names only: a
        # batch's longest name is several times its average, and computing finished rows until
        # then would cost several times the work.
        going_on = next_ids != 0
        if not going_on.any():
            return generated[:, : position + 1].tolist()
        growing = growing[going_on]
        state = model.extend(state, next_ids, going_on)
    return generated.tolist()


def _draw_labels(weights: torch.Tensor, count: int, generator: torch.Generator) -> torch.Tensor:
    cumulative = weights.to(generator.device, torch.float32).cumsum(0)
    return _draw(cumulative.expand(count, -1).contiguous(), generator)


def _check(count: int, temperature: float, top_k: int | None, seed: int | None) -> None:
    if count < 1:
        raise UserError(f"the number of names must be positive, got {count}")
    if not temperature > 0:
        raise UserError(f"--temperature must be greater than 0, got {temperature}")
    if seed is not None and not 0 <= seed < 2**63 - NEW_NAME_ROUNDS:
        raise UserError(f"--seed must be between 0 and 2**63 - {NEW_NAME_ROUNDS + 1}, got {seed}")
    if top_k is not None and top_k < 1:
        raise UserError(f"--top-k must be positive, got {top_k}")


def _cumulative_probabilities(logits: torch.Tensor, top_k: int | None) -> torch.Tensor:
    if top_k is not None and top_k < logits.shape[1]:
        # scatter, not a threshold: exactly k candidates even when logits tie
        top = logits.topk(top_k, dim=1)
        logits = torch.full_like(logits, float("-inf")).scatter(1, top.indices, top.values)
    return torch.softmax(logits.float(), dim=1).cumsum(dim=1)


def _draw(cumulative: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """One id per row by inverse-CDF sampling: a uniform number found in the row's cumulative
    probabilities. (torch.multinomial draws an exponential number per candidate instead, which
    made it the costliest step of sampling after the model itself.)"""
    uniform = torch.rand(len(cumulative), 1, generator=generator, device=cumulative.device)
    drawn = torch.searchsorted(cumulative, uniform * cumulative[:, -1:], right=True)
    return drawn.squeeze(1).clamp_(max=cumulative.shape[1] - 1)  # u * total can round up to total


def _until_end(ids: list[int]) -> list[int]:
    return ids[: ids.index(0)] if 0 in ids else ids


def sample_new_names(
    model: NameModel, vocab: Vocab, count: int, known: set[str], *, seed: int | None = None, **options
) -> list[str]:
    """Return `count` distinct names that are not in `known`, sampling in rounds until found."""
    seed = seed if seed is not None else secrets.randbits(63)
    found: dict[str, None] = {}  # a dict keeps the order of discovery
    for round_number in range(NEW_NAME_ROUNDS):
        for name in sample_names(model, vocab, count, seed=seed + round_number, **options):
            if name not in known and len(found) < count:
                found[name] = None
        if len(found) == count:
            return list(found)
    raise UserError(
        f"found only {len(found)} new names in {NEW_NAME_ROUNDS * count} samples: the "
        "model mostly repeats known names (try a higher --temperature)"
    )
