"""Turn names into (context, next character) training examples, as index tensors.

Every character of a name, and the end token after it, is one example whose context is the
`block_size` ids before it, padded with the start token `.` (id 0) at the start of the name:

    "ab", block 3  ->  [. . .] -> a,  [. . a] -> b,  [. a b] -> .

The windows are cut from one padded stream with `unfold`, so building them costs a few tensor
operations however many names there are, and the result is two contiguous tensors (no Python
lists of lists) that can live on the training device.

Ids are stored in the smallest integer type that holds them (`id_dtype`): uint8 for any alphabet
of up to 256 characters, so an example of a block-3 model takes 4 bytes instead of int64's 32, and
a list of millions of names fits in memory many times over. Models widen each batch to int64 as
they read it (`NameModel`), so nothing else needs to know.

Models that read whole names take one row per name instead (`whole_names`).
"""

import torch

from villanueva.data.vocab import Vocab

IGNORED = -1  # target id of padding: no prediction is scored there

_ID_DTYPES = (torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64)


def id_dtype(low: int, high: int) -> torch.dtype:
    """The smallest integer type that holds every id from `low` to `high`."""
    return next(t for t in _ID_DTYPES if torch.iinfo(t).min <= low and high <= torch.iinfo(t).max)


def context_windows(names: list[str], vocab: Vocab, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return contexts `(N, block_size)` and targets `(N,)`, N = sum(len(name) + 1). Targets are of
    a signed type, as every target is: one that holds IGNORED (-1), which comparisons look for (a
    uint8 255 would not equal -1, but -1 read as uint8 is 255)."""
    if block_size < 1:
        raise ValueError(f"block_size must be at least 1, got {block_size}")
    padding = "." * block_size
    # Each name becomes `block_size` start tokens, its characters, and the end token.
    stream_text = "".join(f"{padding}{name}." for name in names)
    stream = torch.tensor(vocab.encode(stream_text), dtype=id_dtype(0, len(vocab) - 1))
    is_target = torch.ones(len(stream_text), dtype=torch.bool)
    starts = torch.tensor([0] + [len(name) + 1 + block_size for name in names[:-1]]).cumsum(0)
    pad_positions = (starts[:, None] + torch.arange(block_size)).flatten()
    is_target[pad_positions] = False
    windows = stream.unfold(0, block_size + 1, 1)  # window i ends at stream position i + block_size
    chosen = is_target[block_size:]
    targets = windows[chosen, block_size].to(id_dtype(IGNORED, len(vocab) - 1))
    return windows[chosen, :block_size].contiguous(), targets


def whole_names(names: list[str], vocab: Vocab, pad_target: int) -> tuple[torch.Tensor, torch.Tensor]:
    """One row per name, for models that predict every position: inputs are the start token and
    the characters, targets the characters and the end token, both `(N, longest + 1)`:

        "ab", "c"  ->  inputs [. a b]   targets [a b .]
                              [. c .]           [c . pad_target]

    Short rows are padded with the start token (inputs; a causal model never lets a later position
    change an earlier one) and `pad_target` (targets, for the loss to skip).
    """
    lengths = torch.tensor([len(name) + 1 for name in names], dtype=torch.long)  # + the end token
    is_name = torch.arange(int(lengths.max()) if names else 0) < lengths[:, None]
    largest = len(vocab) - 1
    inputs = torch.zeros(is_name.shape, dtype=id_dtype(0, largest))
    targets = torch.full(is_name.shape, pad_target, dtype=id_dtype(min(pad_target, IGNORED), largest))
    # Row-major boolean indexing fills name after name, so each stream is just the names joined.
    inputs[is_name] = torch.tensor(vocab.encode("".join(f".{name}" for name in names)), dtype=inputs.dtype)
    targets[is_name] = torch.tensor(vocab.encode("".join(f"{name}." for name in names)), dtype=targets.dtype)
    return inputs, targets
