"""What every model is: one interface, three kinds, and checks shared by the model configs.

A model is a `NameModel`, a `torch.nn.Module` built as `Model(config, vocab_size)` from a dataclass
config, that maps ids `(B, T)` to next-character logits. It subclasses one of three kinds, and the
kind answers every question the rest of villanueva asks of a model, so that training, sampling,
scoring and the diagnostics never look at which kind they hold:

- `WindowModel` reads the last `block_size` ids (start tokens stand in before a name) and returns
  logits `(B, vocab)`: one example per character. The MLPs and WaveNet.
- `WholeNameModel` reads a name from its start token and returns logits `(B, T, vocab)`, where
  position t predicts character t + 1 from positions 0..t only (causal): one example per name, and
  one pass scores every character of it. The GRU and the Transformer.
- `CountedModel` is a window model whose table is fitted by counting (`fit`) instead of by gradient
  descent: it has no trainable parameters. The bigram.

The operations, each with one meaning for every kind:
- `examples(names, vocab)`: (inputs, targets) to train on or to score; targets padded with IGNORED.
- `fit(inputs, targets)`: closed-form fitting before any gradient step (a no-op but for counting).
- `learns_by_gradient()`: whether there is anything for an optimizer to do.
- `start_decoding(count, prefix_ids)`, `next_logits(state)`, `extend(state, ids, keep)`: grow a
  batch of names one character at a time (the sampler's loop), whatever the model reads. A window
  model's state is the ids so far; a whole-name model's is what it has computed so far (the GRU's
  hidden state, the Transformer's keys and values), so each new character costs one step, not a
  pass over the whole prefix.
- `max_length`, `check_lengths(names)`: the longest name it can read.
- `parameter_count()`: its size, as reported.

A whole-name model can also be conditioned on a label (a province, say): built with
`label_count` > 0, it reads each name's label id as an extra first column of its inputs, and
`examples` and `start_decoding` take the label id of every name to put there. The rest of the
interface, and everything that calls it, is the same as for an unconditioned model.
"""

import math
from dataclasses import dataclass, field

import torch
from torch import nn

from villanueva.data import Vocab, context_windows, whole_names
from villanueva.data.tensors import IGNORED, id_dtype
from villanueva.errors import UserError, parameter

Examples = tuple[torch.Tensor, torch.Tensor]  # inputs (N, T), targets (N,) or (N, T)


class NameModel(nn.Module):
    """The interface every model implements, through one of the kinds below."""

    max_length: int | None = None  # the longest name, in characters, it can read (None: any)
    start_tokens: int = 1  # start tokens before the first character of a name, in its input
    can_condition: bool = False  # whether it can be built with labels (label_count > 0)

    def __init__(self, config, vocab_size: int, label_count: int = 0):
        super().__init__()
        if label_count and not self.can_condition:
            raise ValueError(f"{type(self).__name__} cannot be conditioned on labels")
        self.config = config
        self.vocab_size = vocab_size
        self.label_count = label_count
        # Data sets keep ids in the smallest integer type (data/tensors.py); embedding lookups need
        # int64 (and would read uint8 ids as a mask), so every model widens its input batch here.
        self.register_forward_pre_hook(_widened_ids)

    def examples(self, names: list[str], vocab: Vocab, label_ids: list[int] | None = None) -> Examples:
        """(inputs, targets) of `names`; a conditioned model needs the label id of every name."""
        raise NotImplementedError

    def with_labels(self, ids: torch.Tensor, label_ids) -> torch.Tensor:
        """`ids` as this model reads them: after a first column of label ids if it is conditioned."""
        if bool(self.label_count) != (label_ids is not None):
            raise ValueError("label ids are needed by a conditioned model, and only by one")
        if label_ids is None:
            return ids
        dtype = torch.promote_types(ids.dtype, id_dtype(0, self.label_count - 1))
        column = torch.as_tensor(label_ids, dtype=dtype, device=ids.device).reshape(-1, 1)
        return torch.cat([column, ids.to(dtype)], dim=1)

    def fit(self, inputs: torch.Tensor, targets: torch.Tensor) -> None:
        """Fit in closed form on the training examples; models trained by gradient descent have
        nothing to do here."""

    def learns_by_gradient(self) -> bool:
        return any(p.requires_grad for p in self.parameters())

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def check_lengths(self, names: list[str]) -> None:
        """Refuse names longer than the model can read, before any work is done or written."""
        longest = max(names, key=len, default="")
        if self.max_length is not None and len(longest) > self.max_length:
            raise UserError(
                f"{longest!r} has {len(longest)} characters; this model reads names of "
                f"at most {self.max_length} (raise `max_length`)"
            )

    # Decoding: a batch of names grown one character at a time. The state is whatever the kind needs
    # to predict the next character of every name; here, the ids so far (start tokens first).

    def start_decoding(self, count: int, prefix_ids: list[int], label_ids=None):
        """The state of `count` names that all begin with `prefix_ids` (and, for a conditioned
        model, have the labels `label_ids`)."""
        device = model_device(self)
        state = torch.zeros(count, self.start_tokens + len(prefix_ids), dtype=torch.long, device=device)
        state[:, self.start_tokens :] = torch.tensor(prefix_ids, dtype=torch.long, device=device)
        return self.with_labels(state, label_ids)

    def next_logits(self, state) -> torch.Tensor:
        """Logits `(names, vocab)` of the next character of every name of the state."""
        raise NotImplementedError

    def example_shape(self, names: list[str]) -> tuple[int, int]:
        """(rows, ids per row) of the inputs `examples(names)` would build, without building them."""
        raise NotImplementedError

    def extend(self, state, next_ids: torch.Tensor, keep: torch.Tensor):
        """The state after appending `next_ids`, keeping only the names where `keep` is true."""
        return torch.cat([state[keep], next_ids[keep, None]], dim=1)


def _widened_ids(module: nn.Module, args: tuple) -> tuple:
    return (args[0].long(), *args[1:])


class WindowModel(NameModel):
    """Reads the last `block_size` ids and predicts the one after them."""

    @property
    def block_size(self) -> int:
        return self.config.block_size

    @property
    def start_tokens(self) -> int:
        return self.block_size

    def examples(self, names: list[str], vocab: Vocab, label_ids: list[int] | None = None) -> Examples:
        inputs, targets = context_windows(names, vocab, self.block_size)
        return self.with_labels(inputs, label_ids), targets

    def next_logits(self, state: torch.Tensor) -> torch.Tensor:
        windows, row_of = distinct_windows(state[:, -self.block_size :], self.vocab_size)
        return self(windows)[row_of]

    def example_shape(self, names: list[str]) -> tuple[int, int]:
        return sum(len(name) + 1 for name in names), self.block_size


class CountedModel(WindowModel):
    """A window model whose table is fitted by counting, with no trainable parameters; its size is
    the size of its table."""

    def fit(self, inputs: torch.Tensor, targets: torch.Tensor) -> None:
        raise NotImplementedError

    def parameter_count(self) -> int:
        return sum(buffer.numel() for buffer in self.buffers())


Cache = dict[str, torch.Tensor]  # what a whole-name model keeps of the names it has read, batch first


@dataclass
class Decoding:
    """A batch of names being grown by a whole-name model: the logits of every name's next
    character, and the model's cache of what it has read of each name."""

    logits: torch.Tensor  # (names, vocab)
    cache: Cache


class WholeNameModel(NameModel):
    """Reads a whole name from its start token and predicts every position at once.

    Every model of this kind is written as `read(idx, cache)`: the logits of the positions of `idx`,
    continuing names of which `cache` holds what was computed so far, and the cache after them.
    Training and scoring read whole names from an empty cache (`forward`); decoding reads the prefix
    once, then one character per step, with exactly the same arithmetic.

    Conditioned, it learns one vector per label (`label_embedding`) that the model adds to its
    input at every position: `cache["label"]`, set when a name starts, so the label weighs on
    every prediction directly.
    """

    can_condition = True

    def __init__(self, config, vocab_size: int, label_count: int = 0):
        super().__init__(config, vocab_size, label_count)
        self.label_embedding = nn.Embedding(label_count, config.emb_dim) if label_count else None

    def examples(self, names: list[str], vocab: Vocab, label_ids: list[int] | None = None) -> Examples:
        self.check_lengths(names)
        inputs, targets = whole_names(names, vocab, IGNORED)
        return self.with_labels(inputs, label_ids), targets

    def example_shape(self, names: list[str]) -> tuple[int, int]:
        return len(names), max(map(len, names), default=0) + 1 + bool(self.label_count)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits `(B, T, vocab)` of names read from their start (after a label column if conditioned)."""
        return self.read(*self.started(idx))[0]

    def read(self, idx: torch.Tensor, cache: Cache) -> tuple[torch.Tensor, Cache]:
        raise NotImplementedError

    def started(self, idx: torch.Tensor) -> tuple[torch.Tensor, Cache]:
        """The character ids of `idx` and the cache of names not yet read: empty, or holding the
        label's vector, shaped (B, 1, emb_dim) to reach every position."""
        if self.label_embedding is None:
            return idx, {}
        return idx[:, 1:], {"label": self.label_embedding(idx[:, :1])}

    def start_decoding(self, count: int, prefix_ids: list[int], label_ids=None) -> Decoding:
        logits, cache = self.read(*self.started(super().start_decoding(count, prefix_ids, label_ids)))
        return Decoding(logits[:, -1], cache)

    def next_logits(self, state: Decoding) -> torch.Tensor:
        return state.logits

    def extend(self, state: Decoding, next_ids: torch.Tensor, keep: torch.Tensor) -> Decoding:
        cache = {name: tensor[keep] for name, tensor in state.cache.items()}
        logits, cache = self.read(next_ids[keep, None], cache)
        return Decoding(logits[:, -1], cache)


class FullPrefixDecoding(nn.Module):
    """A whole-name model decoded the slow way: at every step the whole prefix goes through the
    model again (L^2 / 2 positions for a name of L characters). It is the reference incremental
    decoding is tested and measured against, and a model in its own right to `sample_names`."""

    def __init__(self, model: WholeNameModel):
        super().__init__()
        self.model, self.max_length = model, model.max_length

    def start_decoding(self, count: int, prefix_ids: list[int], label_ids=None) -> torch.Tensor:
        return NameModel.start_decoding(self.model, count, prefix_ids, label_ids)

    def next_logits(self, state: torch.Tensor) -> torch.Tensor:
        return self.model(state)[:, -1]

    def extend(self, state: torch.Tensor, next_ids: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
        return NameModel.extend(self.model, state, next_ids, keep)


def distinct_windows(windows: torch.Tensor, vocab_size: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The distinct rows of `windows` and, for each row, the index of its copy among them.

    A window model sees only its window, and many names of a batch share one (every name's first
    window is the same), so each distinct window need go through the model once. Windows are told
    apart by one integer each, their ids read as digits in base vocab_size (torch.unique over rows
    is far slower); when that number would not fit in 63 bits, every row stays.
    """
    rows = torch.arange(len(windows), device=windows.device)
    if vocab_size ** windows.shape[1] >= 2**63:
        return windows, rows
    digits = vocab_size ** torch.arange(windows.shape[1], device=windows.device)
    keys, row_of = torch.unique(windows @ digits, return_inverse=True)
    first_row = torch.empty_like(keys).scatter_(0, row_of, rows)  # any row with that key will do
    return windows[first_row], row_of


def dropout_field(default: float):
    """The `dropout` option of the models that have one (one help text for the CLI)."""
    return field(
        default=default,
        metadata={
            "help": "probability of zeroing each activation while training; a regulariser against "
            "overfitting a short list (0 = off)"
        },
    )


def require_probability(config, *names: str) -> None:
    """Reject a value outside [0, 1), naming the command-line option that sets it."""
    for name in names:
        value = getattr(config, name)
        if not 0 <= value < 1:
            raise UserError(f"{parameter(name)} must be at least 0 and below 1, got {value}")


def require_positive(config, *names: str) -> None:
    """Reject a value that is not positive and finite, naming the command-line option that sets it."""
    for name in names:
        value = getattr(config, name)
        if not 0 < value < math.inf:  # also refuses nan
            raise UserError(f"{parameter(name)} must be positive and finite, got {value}")


def model_device(model: nn.Module) -> torch.device:
    """The device a model's weights (or, for a counted model, its buffers) live on."""
    return next(iter(model.state_dict().values())).device


def load_weights(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """model.load_state_dict(state), with a one-line UserError naming the first mismatch."""
    try:
        model.load_state_dict(state)
    except RuntimeError as error:
        # torch lists every problem on its own line after a header; the first one is enough.
        lines = [line.strip() for line in str(error).splitlines() if line.strip()]
        detail = lines[1] if len(lines) > 1 else (lines[0] if lines else "the shapes differ")
        raise UserError(f"{source} does not fit this model: {detail}") from None
