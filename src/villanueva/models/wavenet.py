"""WaveNet-style hierarchical MLP (the notebooks' last model), from the hand-written layers.

    Embedding -> levels x [FlattenConsecutive(2) -> Linear -> BatchNorm1d -> Tanh] -> Linear

A plain MLP squashes the whole window into one layer at once. Here each level fuses neighbouring
pairs (characters 1-2, 3-4, ... then pairs of pairs), so the context is merged slowly, as in the
dilated causal convolutions of WaveNet (van den Oord et al. 2016): a window of 8 takes three
levels, 16 takes four. The notebooks' recipe, block 8, embedding 10, hidden 100, reached 1.734.
"""

import torch
from torch import nn

from villanueva.models.base import WindowModel
from villanueva.models.deep_mlp import TANH_GAIN
from villanueva.models.layers import BatchNorm1d, Embedding, FlattenConsecutive, Linear, Sequential, Tanh
from villanueva.models.specs.wavenet import WaveNetConfig

OUTPUT_SCALE = 0.1  # the notebooks' last-layer shrink: near-uniform first predictions


class WaveNet(WindowModel):
    def __init__(self, config: WaveNetConfig, vocab_size: int):
        super().__init__(config, vocab_size)
        layers: list[nn.Module] = [Embedding(vocab_size, config.emb_dim)]
        width = config.emb_dim
        for _ in range(config.levels):
            # (B, T, C) -> (B, T/2, 2C); BatchNorm1d averages over B and T (channels last), and
            # makes a bias before it redundant.
            layers += [
                FlattenConsecutive(2),
                Linear(2 * width, config.hidden, bias=False, gain=TANH_GAIN),
                BatchNorm1d(config.hidden),
                Tanh(),
            ]
            width = config.hidden
        layers.append(Linear(width, vocab_size))
        self.layers = Sequential(*layers)
        with torch.no_grad():
            self.layers[-1].weight.mul_(OUTPUT_SCALE)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.layers(idx)  # the last FlattenConsecutive leaves (B, hidden)
