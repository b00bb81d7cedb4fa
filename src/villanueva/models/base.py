"""What every model is: one interface and two kinds.

A model is a `NameModel`, a `torch.nn.Module` built as `Model(config, vocab_size)` from a dataclass
config, that maps ids `(B, T)` to next-character logits. It subclasses one of two kinds, and the
kind answers every question the rest of villanueva asks of a model, so that training, sampling,
scoring and the diagnostics never look at which kind they hold:

- `WindowModel` reads the last `block_size` ids (start tokens stand in before a name) and returns
  logits `(B, vocab)`: one example per character. The MLPs, WaveNet, and the bigram, whose table
  is fitted by counting (`fit`) instead of by gradient descent.
- `WholeNameModel` reads a name from its start token and returns logits `(B, T, vocab)`, where
  position t predicts character t + 1 from positions 0..t only (causal): one example per name, and
  one pass scores every character of it. The GRU and the Transformer.

The operations, each with one meaning for every kind:
- `examples(names, vocab)`: (inputs, targets) to train on or to score; targets padded with IGNORED.
- `fit(inputs, targets)`: closed-form fitting before any gradient step (a no-op but for counting).
- `learns_by_gradient()`: whether there is anything for an optimizer to do.
- `decoding_graph()`: the module the sampler calls to grow a batch of names one character at a
  time, and how to feed it; the same module runs in torch or, exported, in ONNX Runtime
  (inference/steps.py keeps the state, in numpy, whichever runs it). A window model's graph is its
  forward pass over windows; a whole-name model's is `Reading`, one step over what it has computed
  so far (the GRU's hidden state, the Transformer's keys and values), so each new character costs
  one step, not a pass over the whole prefix.
- `max_length`, `check_lengths(names)`: the longest name it can read.
- `parameter_count()`: its size, as reported.

A whole-name model can also be conditioned on a label (a province, say): built with
`label_count` > 0, it reads each name's label id as an extra first column of its inputs, and
`examples` takes the label id of every name to put there (the decoding graph takes them as an
input of their own). The rest of the
interface, and everything that calls it, is the same as for an unconditioned model.
"""

from dataclasses import dataclass

import torch
from torch import nn

from villanueva.data import Vocab
from villanueva.data.tensors import IGNORED, context_windows, id_dtype, whole_names
from villanueva.errors import UserError
from villanueva.machine import give_threads

# torch loads with the first model's module; from then on it uses the threads this process chose
# (machine.use_threads ran before torch was loaded, as every command's does).
give_threads(torch)

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
        """Its trainable parameters; for a model fitted by counting, which has none, its table."""
        return sum(p.numel() for p in self.parameters()) or sum(b.numel() for b in self.buffers())

    def check_lengths(self, names: list[str]) -> None:
        """Refuse names longer than the model can read, before any work is done or written."""
        longest = max(names, key=len, default="")
        if self.max_length is not None and len(longest) > self.max_length:
            raise UserError(
                f"{longest!r} has {len(longest)} characters; this model reads names of "
                f"at most {self.max_length} (raise `max_length`)"
            )

    def example_shape(self, names: list[str]) -> tuple[int, int]:
        """(rows, ids per row) of the inputs `examples(names)` would build, without building them."""
        raise NotImplementedError

    def trimmed(self, inputs: torch.Tensor, targets: torch.Tensor) -> Examples:
        """A batch of its examples without the padding that none of its rows reaches (a window
        model's examples have none)."""
        return inputs, targets

    def decoding_graph(self) -> "DecodingGraph":
        """What the sampler calls to grow a batch of names by one character (inference/steps.py):
        the same module whether it runs in torch or, exported, in ONNX Runtime."""
        raise NotImplementedError

    def graph_description(self, kind: str, **more) -> dict:
        """The JSON that tells the sampler how to feed this model's decoding graph."""
        return {
            "kind": kind,
            "vocab_size": self.vocab_size,
            "label_count": self.label_count,
            "start_tokens": self.start_tokens,
            "max_length": self.max_length,
            **more,
        }


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

    def decoding_graph(self) -> "DecodingGraph":
        # The last block_size ids of each name give the logits of its next character.
        windows = torch.zeros(1, self.block_size, dtype=torch.long)
        return DecodingGraph(self, {"windows": windows}, ["logits"], self.graph_description("window"))

    def example_shape(self, names: list[str]) -> tuple[int, int]:
        return sum(len(name) + 1 for name in names), self.block_size


Cache = dict[str, torch.Tensor]  # what a whole-name model keeps of the names it has read, batch first


class WholeNameModel(NameModel):
    """Reads a whole name from its start token and predicts every position at once.

    Every model of this kind is written as `read(idx, cache)`: the logits of the positions of `idx`,
    continuing names of which `cache` holds what was computed so far, and the cache after them.
    Training and scoring read whole names from an empty cache (`forward`); decoding reads the prefix
    once, then one character per step, with exactly the same arithmetic.

    Conditioned, it learns one vector per label (`label_embedding`) that the model adds to its
    input at every position: `cache["label"]`, set when a name starts, so the label weighs on
    every prediction directly. With `label_dropout`, a share of the training names is read with one
    more id, "no label" (`label_count`), so the same model also learns names whatever their label:
    the plain distribution that classifier-free guidance (inference/guidance.py) pushes away from.
    """

    can_condition = True

    def __init__(self, config, vocab_size: int, label_count: int = 0):
        super().__init__(config, vocab_size, label_count)
        self.unlabelled = bool(label_count and config.label_dropout)  # has the "no label" id
        rows = label_count + self.unlabelled
        self.label_embedding = nn.Embedding(rows, config.emb_dim) if label_count else None
        # A row of next-character scores per (label, character read): zero at first, so a label
        # starts out saying nothing the network does not.
        self.style = None
        if label_count and config.style_table:
            self.style = nn.Embedding(rows * vocab_size, vocab_size)
            nn.init.zeros_(self.style.weight)

    def examples(self, names: list[str], vocab: Vocab, label_ids: list[int] | None = None) -> Examples:
        self.check_lengths(names)
        inputs, targets = whole_names(names, vocab, IGNORED)
        return self.with_labels(inputs, label_ids), targets

    def example_shape(self, names: list[str]) -> tuple[int, int]:
        return len(names), max(map(len, names), default=0) + 1 + bool(self.label_count)

    def trimmed(self, inputs: torch.Tensor, targets: torch.Tensor) -> Examples:
        # Rows are padded to the data set's longest name; a random batch's longest is usually far
        # shorter. Reads the batch's width back from the device (one synchronisation).
        width = int((targets != IGNORED).sum(1).max())  # padding only ever follows a name
        return inputs[:, : bool(self.label_count) + width], targets[:, :width]

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits `(B, T, vocab)` of names read from their start (after a label column if conditioned)."""
        ids, labels = self.started(idx)
        return self.labelled_read(ids, labels, {})[0]

    def labelled_read(self, ids: torch.Tensor, labels: torch.Tensor | None, cache: Cache):
        """`read` for names of `labels` (B, 1) (None: unconditioned), with the label's vector in
        the cache and its style added to the logits."""
        if labels is None:
            return self.read(ids, cache)
        logits, cache = self.read(ids, {**cache, "label": self.label_embedding(labels)})
        if self.style is not None:
            logits = logits + self.style(labels * self.vocab_size + ids)
        return logits, {name: tensor for name, tensor in cache.items() if name != "label"}

    def read(self, idx: torch.Tensor, cache: Cache) -> tuple[torch.Tensor, Cache]:
        raise NotImplementedError

    def started(self, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The character ids of `idx` and their label ids, shaped (B, 1) to reach every position
        (None for an unconditioned model); some dropped to "no label" while training."""
        if self.label_embedding is None:
            return idx, None
        labels = idx[:, :1]
        if self.training and self.unlabelled:
            dropped = torch.rand(labels.shape, device=labels.device) < self.config.label_dropout
            labels = labels.masked_fill(dropped, self.label_count)
        return idx[:, 1:], labels

    def empty_cache(self, count: int) -> Cache:
        """The cache of `count` names of which nothing is read yet, as tensors (what an exported
        graph needs: it has no optional inputs), read exactly as an empty dict is."""
        raise NotImplementedError

    def decoding_graph(self) -> "DecodingGraph":
        cache = self.empty_cache(1)
        inputs = {"ids": torch.zeros(1, 1, dtype=torch.long)}
        if self.label_count:
            inputs["labels"] = torch.zeros(1, dtype=torch.long)
        shapes = {name: list(tensor.shape[1:]) for name, tensor in cache.items()}
        return DecodingGraph(
            Reading(self, list(cache)),
            {**inputs, **cache},
            ["logits", *(f"next.{name}" for name in cache)],
            self.graph_description("reading", cache=shapes, unlabelled=self.unlabelled),
        )


class Reading(nn.Module):
    """A whole-name model's `read` as a module of tensors alone, as ONNX exports it: (ids, the
    labels if conditioned, the cache tensors in order) -> (logits of every position, the cache after)."""

    def __init__(self, model: WholeNameModel, cache_names: list[str]):
        super().__init__()
        self.model, self.cache_names = model, cache_names

    def forward(self, ids: torch.Tensor, *rest: torch.Tensor):
        labels, cached = (rest[0][:, None], rest[1:]) if self.model.label_count else (None, rest)
        logits, cache = self.model.labelled_read(ids.long(), labels, dict(zip(self.cache_names, cached)))
        return logits, *(cache[name] for name in self.cache_names)


@dataclass(frozen=True)
class DecodingGraph:
    """A model's decoding step: the module, example inputs by name (batch first), the names of its
    outputs, and the description the sampler reads (JSON, saved with an export)."""

    module: nn.Module
    inputs: dict[str, torch.Tensor]
    outputs: list[str]
    description: dict
