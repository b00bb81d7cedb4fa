"""Grow a batch of names one character at a time, in numpy, whatever runs the model.

The sampler (inference/sample.py) asks three things: start `count` names after a prefix, the logits
of every name's next character, and the state after appending one character to each name (dropping
the names that ended). What it takes to answer is the model kind's business (models/base.py:
`decoding_graph`), and the graph itself is a function from named arrays to arrays: the torch module
(inference/graphs.py) or the same module exported to ONNX and run by ONNX Runtime. So there is one
sampler, and the model step is the only thing that differs between the two.

- A window model's state is the ids so far (start tokens first). Many names of a batch share a
  window (every name's first window is the same), so each distinct window goes through the model
  once.
- A whole-name model's state is the logits of each name's next character and the model's cache of
  what it has read (the GRU's hidden state, the Transformer's keys and values): the prefix is read
  once, then each new character is one step.
"""

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from itertools import chain

import numpy as np

# What a model whose weights hold NaN, infinities or values too large for float32 gives: refused
# where the numbers come out (sampling, scoring), since the weights of an export are not read.
NON_FINITE = "the model gives scores that are NaN or infinite: its weights are damaged or too large"

# Prefixes whose starting states a whole-name model's Steps keep (ReadingSteps.start): a row per
# label each (the bundled GRU: 52 rows of 1.7 KB).
STARTS_KEPT = 16

# A decoding graph: its inputs by name -> its outputs in order (logits first), as numpy arrays.
Graph = Callable[[dict[str, np.ndarray]], list[np.ndarray]]


@dataclass(frozen=True)
class GraphDescription:
    """How to feed a model's decoding graph (the JSON of `NameModel.graph_description`)."""

    kind: str  # "window" or "reading"
    vocab_size: int
    label_count: int
    start_tokens: int
    max_length: int | None
    cache: dict[str, list[int]] | None = None  # a reading graph's cache: each tensor's shape after the batch
    unlabelled: bool = False  # whether label id `label_count` means "no label" (label_dropout)

    @classmethod
    def from_json(cls, data: dict) -> "GraphDescription":
        return cls(**data)


class Steps:
    """A batch of names grown one character at a time through `graph`."""

    def __init__(self, graph: Graph, description: GraphDescription):
        self.graph, self.description = graph, description
        self.max_length = description.max_length
        self.label_count = description.label_count

    def start(self, count: int, prefix_ids: list[int], label_ids: np.ndarray | None = None):
        """The state of `count` names that all begin with `prefix_ids` (and, for a conditioned
        model, have the labels `label_ids`)."""
        raise NotImplementedError

    def logits(self, state) -> np.ndarray:
        """Logits `(names, vocab)` of the next character of every name of the state."""
        raise NotImplementedError

    def extend(self, state, next_ids: np.ndarray, keep: np.ndarray):
        """The state after appending `next_ids`, keeping only the names where `keep` is true."""
        raise NotImplementedError

    def log_probabilities(self, rows: list[list[int]], label_ids: np.ndarray | None = None) -> np.ndarray:
        """log P(character | the name before it) of every character and end token of the names
        whose ids are `rows`, name after name: float64, `sum(len(row) + 1)` values."""
        raise NotImplementedError

    def read_passes(
        self, passes: Iterable[tuple[list[list[int]], np.ndarray | None]]
    ) -> Iterator[np.ndarray]:
        """`log_probabilities` of each (rows, label ids) of `passes`, in order: one at a time here;
        a server's steps hand several at once to be read beside other requests' (inference/batching.py)."""
        for rows, label_ids in passes:
            yield self.log_probabilities(rows, label_ids)

    def joined(self, states: list):
        """The rows of `states` as one state, in order: several requests' names decoded in one model
        call (inference/batching.py)."""
        raise NotImplementedError

    def split(self, state, sizes: list[int]) -> list:
        """`state` cut into states of `sizes` rows, in order: what `joined` joined."""
        raise NotImplementedError

    def started_ids(self, count: int, prefix_ids: list[int]) -> np.ndarray:
        """Start tokens (id 0), then the prefix: `(count, start_tokens + len(prefix_ids))`."""
        ids = np.zeros((count, self.description.start_tokens + len(prefix_ids)), dtype=np.int64)
        ids[:, self.description.start_tokens :] = prefix_ids
        return ids


class WindowSteps(Steps):
    def start(self, count, prefix_ids, label_ids=None) -> np.ndarray:
        return self.started_ids(count, prefix_ids)

    def logits(self, state: np.ndarray) -> np.ndarray:
        windows, row_of = distinct_windows(
            state[:, -self.description.start_tokens :], self.description.vocab_size
        )
        return self.graph({"windows": windows})[0][row_of]

    def extend(self, state: np.ndarray, next_ids: np.ndarray, keep: np.ndarray) -> np.ndarray:
        return np.concatenate([state[keep], next_ids[keep, None]], axis=1)

    def joined(self, states: list[np.ndarray]) -> np.ndarray:
        if len(states) == 1:
            return states[0]
        # Only the last window is read, so names of different lengths join by it.
        return np.concatenate([state[:, -self.description.start_tokens :] for state in states])

    def split(self, state: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
        return [state[rows] for rows in _slices(sizes)]

    def log_probabilities(self, rows, label_ids=None) -> np.ndarray:
        # Every character's window and the end token's, name after name, cut from one stream of
        # (block start tokens, the name, the end token) per name, as data/tensors.py cuts them.
        block = self.description.start_tokens
        stream = np.fromiter(chain.from_iterable([0] * block + row + [0] for row in rows), dtype=np.int64)
        starts = np.cumsum([0] + [block + len(row) + 1 for row in rows[:-1]])
        is_target = np.ones(len(stream), dtype=bool)
        is_target[(starts[:, None] + np.arange(block)).ravel()] = False  # the start tokens
        windows = np.lib.stride_tricks.sliding_window_view(stream, block + 1)[is_target[block:]]
        distinct, row_of = distinct_windows(windows[:, :block], self.description.vocab_size)
        return _chosen(self.graph({"windows": distinct})[0][row_of], windows[:, block])


class FullPrefixSteps(WindowSteps):
    """A whole-name model decoded the slow way: at every step the whole prefix (after its label
    column, if conditioned) goes through the model again (L^2 / 2 positions for a name of L
    characters). It is the reference incremental decoding is tested and measured against."""

    def start(self, count, prefix_ids, label_ids=None) -> np.ndarray:
        ids = self.started_ids(count, prefix_ids)
        return ids if label_ids is None else np.concatenate([label_ids[:, None], ids], axis=1)

    def logits(self, state: np.ndarray) -> np.ndarray:
        return self.graph({"names": state})[0]

    # A reference for decoding alone: it neither scores nor joins names (its state is the whole prefix).
    log_probabilities, joined, split = Steps.log_probabilities, Steps.joined, Steps.split


@dataclass
class ReadingState:
    """Names being grown by a whole-name model: the logits of every name's next character, and
    the model's cache of what it has read of each (batch first)."""

    logits: np.ndarray
    cache: dict[str, np.ndarray]
    labels: np.ndarray | None


class ReadingSteps(Steps):
    """A whole-name model's steps. A name's state after its start tokens and prefix depends on its
    label alone, so each (prefix, label) is read once and the names that start with it take copies
    of that row: starting a round costs no model call once its labels have been seen (the server
    starts a round at almost every step, inference/batching.py). The model's weights must not
    change under its Steps (they never do: Steps are made for a model in eval mode)."""

    def __init__(self, graph: Graph, description: GraphDescription):
        super().__init__(graph, description)
        # prefix -> (a row per label, or one for an unconditioned model; which rows are read yet)
        self._starts: dict[tuple[int, ...], tuple[ReadingState | None, np.ndarray]] = {}
        self._starts_lock = threading.Lock()  # a library's threads may sample with the same Steps

    def start(self, count, prefix_ids, label_ids=None) -> ReadingState:
        labels = None if label_ids is None else np.asarray(label_ids, dtype=np.int64)
        rows = np.zeros(count, dtype=np.int64) if labels is None else labels
        with self._starts_lock:
            table = self._started(tuple(prefix_ids), rows, labels is not None)
        return ReadingState(
            table.logits[rows], {name: array[rows] for name, array in table.cache.items()}, labels
        )

    def _started(self, prefix: tuple[int, ...], rows: np.ndarray, labelled: bool) -> ReadingState:
        """The table of `prefix`'s starting states, with `rows` read; the latest used prefixes are kept."""
        # a row per label id, "no label" included for a model trained with label dropout
        ids = self.label_count + self.description.unlabelled
        table, read = self._starts.pop(prefix, (None, np.zeros(max(ids, 1), dtype=bool)))
        if len(self._starts) >= STARTS_KEPT:
            del self._starts[next(iter(self._starts))]  # the least recently used (a dict keeps order)
        missing = np.unique(rows)
        missing = missing[~read[missing]]
        if len(missing):
            fresh = self._read(
                self.started_ids(len(missing), list(prefix)),
                self._empty_cache(len(missing)),
                missing if labelled else None,
            )
            if table is None:
                table = ReadingState(_rows_like(fresh.logits, len(read)), {}, None)
                table.cache.update(
                    (name, _rows_like(array, len(read))) for name, array in fresh.cache.items()
                )
            table.logits[missing] = fresh.logits
            for name, array in fresh.cache.items():
                table.cache[name][missing] = array
            read[missing] = True
        self._starts[prefix] = table, read
        return table

    def logits(self, state: ReadingState) -> np.ndarray:
        return state.logits

    def extend(self, state: ReadingState, next_ids: np.ndarray, keep: np.ndarray) -> ReadingState:
        cache = {name: array[keep] for name, array in state.cache.items()}
        labels = None if state.labels is None else state.labels[keep]
        return self._read(next_ids[keep, None], cache, labels)

    def joined(self, states: list[ReadingState]) -> ReadingState:
        if len(states) == 1:
            return states[0]
        return ReadingState(
            np.concatenate([state.logits for state in states]),
            {name: np.concatenate([state.cache[name] for state in states]) for name in states[0].cache},
            None if states[0].labels is None else np.concatenate([state.labels for state in states]),
        )

    def split(self, state: ReadingState, sizes: list[int]) -> list[ReadingState]:
        return [
            ReadingState(
                state.logits[rows],
                {name: array[rows] for name, array in state.cache.items()},
                None if state.labels is None else state.labels[rows],
            )
            for rows in _slices(sizes)
        ]

    def log_probabilities(self, rows, label_ids=None) -> np.ndarray:
        # One row per name: the start token and its characters, padded with start tokens (a causal
        # model's earlier positions never see them), read from an empty cache.
        lengths = np.array([len(row) + 1 for row in rows])
        is_name = np.arange(lengths.max()) < lengths[:, None]
        ids = np.zeros(is_name.shape, dtype=np.int64)
        targets = np.zeros(is_name.shape, dtype=np.int64)
        # Row-major boolean indexing fills name after name, so each stream is just the names joined.
        ids[is_name] = np.concatenate([[0, *row] for row in rows])
        targets[is_name] = np.concatenate([[*row, 0] for row in rows])
        logits = self.graph(self._inputs(ids, self._empty_cache(len(rows)), label_ids))[0]
        return _chosen(logits[is_name], targets[is_name])

    def _empty_cache(self, count: int) -> dict[str, np.ndarray]:
        return {name: np.zeros((count, *shape), np.float32) for name, shape in self.description.cache.items()}

    def _read(self, ids: np.ndarray, cache: dict[str, np.ndarray], labels) -> "ReadingState":
        logits, *after = self.graph(self._inputs(ids, cache, labels))
        return ReadingState(logits[:, -1], dict(zip(cache, after)), labels)

    def _inputs(self, ids: np.ndarray, cache: dict[str, np.ndarray], labels) -> dict[str, np.ndarray]:
        if bool(self.label_count) != (labels is not None):
            raise ValueError("label ids are needed by a conditioned model, and only by one")
        return {"ids": ids} | ({} if labels is None else {"labels": np.asarray(labels, np.int64)}) | cache


def _rows_like(array: np.ndarray, count: int) -> np.ndarray:
    """Zeros of `count` rows shaped and typed as the rows of `array`."""
    return np.zeros((count, *array.shape[1:]), dtype=array.dtype)


def _slices(sizes: list[int]) -> list[slice]:
    """The rows of consecutive parts of `sizes` rows each (views, not copies, when sliced)."""
    ends = np.cumsum(sizes).tolist()
    return [slice(end - size, end) for size, end in zip(sizes, ends)]


def _chosen(logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """log softmax(logits) at each row's target (computed in the logits' type, returned in float64)."""
    with np.errstate(invalid="ignore", over="ignore"):  # non-finite logits: refused by the caller
        normaliser = logsumexp(logits, axis=1)
    return (logits[np.arange(len(targets)), targets] - normaliser).astype(np.float64)


def logsumexp(values: np.ndarray, axis: int) -> np.ndarray:
    """ln sum exp(values) along `axis`, without overflow: the largest term is taken out first."""
    largest = values.max(axis=axis, keepdims=True)
    return (largest + np.log(np.exp(values - largest).sum(axis=axis, keepdims=True))).squeeze(axis)


def steps(graph: Graph, description: GraphDescription) -> Steps:
    """The steps of a decoding graph of either kind."""
    return {"window": WindowSteps, "reading": ReadingSteps}[description.kind](graph, description)


def distinct_windows(windows: np.ndarray, vocab_size: int) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of `windows` and, for each row, the index of its copy among them.

    Windows are told apart by one integer each, their ids read as digits in base vocab_size (unique
    over rows is far slower); when that number would not fit in 63 bits, every row stays.
    """
    rows = np.arange(len(windows))
    if vocab_size ** windows.shape[1] >= 2**63:
        return windows, rows
    digits = vocab_size ** np.arange(windows.shape[1], dtype=np.int64)
    _, first_row, row_of = np.unique(windows @ digits, return_index=True, return_inverse=True)
    return windows[first_row], row_of.reshape(-1)
