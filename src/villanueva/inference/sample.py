"""Invent names: sample many at once, one character per step for the whole batch.

All names grow together; a row that has produced the end token is finished and ignored, and the
loop stops as soon as every row has ended, so the cost is (longest name) model calls, not
(number of names x name length) as in the notebooks' one-name-at-a-time loop.
"""

import secrets

import torch
from torch import nn

from villanueva.data import END, Vocab
from villanueva.errors import UserError
from villanueva.models.base import model_device

MAX_LENGTH = 100
CHUNK = 16_384  # names generated together
NEW_NAME_ROUNDS = 50


@torch.no_grad()
def sample_names(model: nn.Module, vocab: Vocab, count: int, *, temperature: float = 1.0,
                 top_k: int | None = None, seed: int | None = None, prefix: str = "",
                 max_length: int = MAX_LENGTH) -> list[str]:
    """Return `count` names, each starting with `prefix`. Same seed, same names."""
    _check(count, temperature, top_k, seed)
    if END in prefix:
        raise UserError(f"--prefix must not contain {END!r}: it is the end-of-name token")
    prefix_ids = vocab.encode(prefix)
    generator = torch.Generator(device=model_device(model))
    generator.manual_seed(seed if seed is not None else secrets.randbits(63))
    model.eval()
    names = []
    for start in range(0, count, CHUNK):  # bounded memory however many names are asked for
        rows = _generate(model, min(CHUNK, count - start), prefix_ids, temperature, top_k, generator,
                         max_length)
        names += [prefix + vocab.decode(_until_end(row)) for row in rows]
    return names


def _generate(model: nn.Module, count: int, prefix_ids: list[int], temperature: float,
              top_k: int | None, generator: torch.Generator, max_length: int) -> list[list[int]]:
    """Ids of `count` continuations of the prefix, each up to its end token (0) or max_length."""
    device = model_device(model)
    context = torch.zeros(count, model.block_size + len(prefix_ids), dtype=torch.long, device=device)
    if prefix_ids:
        context[:, -len(prefix_ids):] = torch.tensor(prefix_ids, device=device)
    generated = torch.zeros(count, max_length, dtype=torch.long, device=device)
    finished = torch.zeros(count, dtype=torch.bool, device=device)
    for position in range(max_length):
        logits = model(context[:, -model.block_size:]) / temperature
        next_ids = _draw(logits, top_k, generator).masked_fill(finished, 0)
        generated[:, position] = next_ids
        finished |= next_ids == 0
        if finished.all():
            break
        context = torch.cat([context[:, 1:], next_ids[:, None]], dim=1)
    return generated.tolist()


def _check(count: int, temperature: float, top_k: int | None, seed: int | None) -> None:
    if count < 1:
        raise UserError(f"the number of names must be positive, got {count}")
    if not temperature > 0:
        raise UserError(f"--temperature must be greater than 0, got {temperature}")
    if seed is not None and not 0 <= seed < 2**63 - NEW_NAME_ROUNDS:
        raise UserError(f"--seed must be between 0 and 2**63 - {NEW_NAME_ROUNDS + 1}, got {seed}")
    if top_k is not None and top_k < 1:
        raise UserError(f"--top-k must be positive, got {top_k}")


def _draw(logits: torch.Tensor, top_k: int | None, generator: torch.Generator) -> torch.Tensor:
    if top_k is not None and top_k < logits.shape[1]:
        # scatter, not a threshold: exactly k candidates even when logits tie
        top = logits.topk(top_k, dim=1)
        logits = torch.full_like(logits, float("-inf")).scatter(1, top.indices, top.values)
    probs = torch.softmax(logits.float(), dim=1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)


def _until_end(ids: list[int]) -> list[int]:
    return ids[:ids.index(0)] if 0 in ids else ids


def sample_new_names(model: nn.Module, vocab: Vocab, count: int, known: set[str], *,
                     seed: int | None = None, **options) -> list[str]:
    """Return `count` distinct names that are not in `known`, sampling in rounds until found."""
    seed = seed if seed is not None else secrets.randbits(63)
    found: dict[str, None] = {}  # a dict keeps the order of discovery
    for round_number in range(NEW_NAME_ROUNDS):
        for name in sample_names(model, vocab, count, seed=seed + round_number, **options):
            if name not in known and len(found) < count:
                found[name] = None
        if len(found) == count:
            return list(found)
    raise UserError(f"found only {len(found)} new names in {NEW_NAME_ROUNDS * count} samples: the "
                    "model mostly repeats known names (try a higher --temperature)")
