"""MLP (MLPv0), after Bengio et al. 2003: embed the last `block_size` characters, concatenate the
embeddings, one tanh hidden layer, a linear read-out to next-character logits.

The notebooks' recipe: block 3, embedding 10, hidden 300.
"""

import torch
from torch import nn

from villanueva.models.base import WindowModel
from villanueva.models.specs.mlp import MLPConfig


class MLP(WindowModel):
    def __init__(self, config: MLPConfig, vocab_size: int):
        super().__init__(config, vocab_size)
        self.embedding = nn.Embedding(vocab_size, config.emb_dim)
        self.hidden = nn.Linear(config.block_size * config.emb_dim, config.hidden)
        self.activation = nn.Tanh()  # a module, not torch.tanh inline, so diagnostics can hook it
        self.output = nn.Linear(config.hidden, vocab_size)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        x = self.embedding(idx).flatten(1)
        return self.output(self.activation(self.hidden(x)))
