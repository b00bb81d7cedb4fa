"""GRU over the whole name: a recurrent network that reads a name from its start token onwards and
predicts the next character at every position.

    Embedding -> Dropout -> GRU (layers deep) -> Dropout -> Linear

Unlike a window model it has no fixed context: its state carries everything read so far, however
long the name. One forward pass over a name scores all of its characters (Cho et al. 2014), and
decoding carries that state from one character to the next (`cache["state"]`).
"""

import torch
from torch import nn

from villanueva.models.base import Cache, WholeNameModel
from villanueva.models.specs.gru import GRUConfig


class GRU(WholeNameModel):
    """A recurrent state reads names of any length (no max_length)."""

    def __init__(self, config: GRUConfig, vocab_size: int, label_count: int = 0):
        super().__init__(config, vocab_size, label_count)
        self.embedding = nn.Embedding(vocab_size, config.emb_dim)
        self.dropout = nn.Dropout(config.dropout)
        # nn.GRU's own dropout acts between stacked layers only (and warns when there is one).
        self.gru = nn.GRU(
            config.emb_dim,
            config.hidden,
            num_layers=config.layers,
            batch_first=True,
            dropout=config.dropout if config.layers > 1 else 0.0,
        )
        self.output = nn.Linear(config.hidden, vocab_size)

    def empty_cache(self, count: int) -> Cache:
        # nn.GRU starts from a zero state when given none.
        state = torch.zeros(count, self.config.layers, self.config.hidden, device=self.output.weight.device)
        return {"state": state}

    def read(self, idx: torch.Tensor, cache: Cache) -> tuple[torch.Tensor, Cache]:
        x = self.dropout(self.embedding(idx) + cache.get("label", 0.0))
        # nn.GRU keeps its state layers first; the cache keeps every tensor batch first.
        previous = cache["state"].transpose(0, 1).contiguous() if "state" in cache else None
        states, last = self.gru(x, previous)  # states (B, T, hidden): causal by nature
        return self.output(self.dropout(states)), {**cache, "state": last.transpose(0, 1)}
