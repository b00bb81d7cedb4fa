"""Turn names into (context, next character) training examples, as index tensors.

Every character of a name, and the end token after it, is one example whose context is the
`block_size` ids before it, padded with the start token `.` (id 0) at the start of the name:

    "ab", block 3  ->  [. . .] -> a,  [. . a] -> b,  [. a b] -> .

The windows are cut from one padded stream with `unfold`, so building them costs a few tensor
operations however many names there are, and the result is two contiguous tensors (no Python
lists of lists) that can live on the training device.
"""

import torch

from villanueva.data.vocab import Vocab


def context_windows(names: list[str], vocab: Vocab, block_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Return contexts `(N, block_size)` and targets `(N,)`, both int64, N = sum(len(name) + 1)."""
    if block_size < 1:
        raise ValueError(f"block_size must be at least 1, got {block_size}")
    padding = "." * block_size
    # Each name becomes `block_size` start tokens, its characters, and the end token.
    stream_text = "".join(f"{padding}{name}." for name in names)
    stream = torch.tensor(vocab.encode(stream_text), dtype=torch.long)
    is_target = torch.ones(len(stream_text), dtype=torch.bool)
    starts = torch.tensor([0] + [len(name) + 1 + block_size for name in names[:-1]]).cumsum(0)
    pad_positions = (starts[:, None] + torch.arange(block_size)).flatten()
    is_target[pad_positions] = False
    windows = stream.unfold(0, block_size + 1, 1)  # window i ends at stream position i + block_size
    chosen = is_target[block_size:]
    return windows[chosen, :block_size].contiguous(), windows[chosen, block_size].contiguous()
