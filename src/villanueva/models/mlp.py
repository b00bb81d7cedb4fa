"""MLP (MLPv0), after Bengio et al. 2003: embed the last `block_size` characters, concatenate the
embeddings, one tanh hidden layer, a linear read-out to next-character logits.

The notebooks' recipe: block 3, embedding 10, hidden 300.
"""

from dataclasses import dataclass, field

import torch
from torch import nn

from villanueva.models.base import WindowModel, require_positive


@dataclass
class MLPConfig:
    block_size: int = field(default=3, metadata={"help": "characters of context the model reads"})
    emb_dim: int = field(default=10, metadata={"help": "size of each character embedding"})
    hidden: int = field(default=300, metadata={"help": "width of the hidden layer(s)"})

    def __post_init__(self):
        require_positive(self, "block_size", "emb_dim", "hidden")


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
