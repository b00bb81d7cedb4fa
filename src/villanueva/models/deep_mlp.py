"""MLPs built from the hand-written layers, with the switches that show why each fix matters.

    Embedding -> FlattenConsecutive(block) -> depth x [Linear -> BatchNorm1d -> Tanh]
              -> Linear (-> BatchNorm1d)

`mlp-bn` (the notebooks' MLPv1) is depth 1 with no output BatchNorm; `deep-mlp` (MLPv3) is depth 5
with one. The switches reproduce the notebooks' failure modes:
- `init="naive"`: standard-normal weights. tanh inputs then have std ~ sqrt(fan_in), so the tanh
  saturate (gradients vanish through them) and the logits are huge: the untrained loss is far
  above ln(vocab size), the loss of a uniform guess.
- `init="kaiming"`: weights scaled by gain / sqrt(fan_in) (gain 5/3 for tanh), keeping activations
  in tanh's useful range at any depth, and the last layer shrunk by `last_layer_scale` so that the
  untrained model predicts almost uniformly (loss ~ ln(vocab size)).
- `batchnorm=False`: no BatchNorm; the hidden Linear layers get their bias back, as in MLPv0.
"""

import torch
from torch import nn

from villanueva.models.base import WindowModel
from villanueva.models.layers import (
    BatchNorm1d,
    Embedding,
    FlattenConsecutive,
    Linear,
    Sequential,
    Tanh,
)
from villanueva.models.specs.deep_mlp import DeepMLPConfig

TANH_GAIN = 5 / 3  # tanh squashes; this gain keeps the activations' scale from layer to layer


class DeepMLP(WindowModel):
    def __init__(self, config: DeepMLPConfig, vocab_size: int):
        super().__init__(config, vocab_size)
        self.layers = Sequential(*self._layers(config, vocab_size))
        self._initialise(config)

    @staticmethod
    def _layers(config: DeepMLPConfig, vocab_size: int) -> list[nn.Module]:
        naive = config.init == "naive"
        gain = 1.0 if naive else TANH_GAIN
        layers = [Embedding(vocab_size, config.emb_dim), FlattenConsecutive(config.block_size)]
        width = config.block_size * config.emb_dim
        for _ in range(config.depth):
            # A bias before BatchNorm is wasted: BatchNorm subtracts the mean, bias included.
            layers.append(
                Linear(width, config.hidden, bias=not config.batchnorm, gain=gain, init=config.init)
            )
            if config.batchnorm:
                layers.append(BatchNorm1d(config.hidden))
            layers.append(Tanh())
            width = config.hidden
        layers.append(Linear(width, vocab_size, init=config.init))
        if config.batchnorm and config.output_batchnorm:
            layers.append(BatchNorm1d(vocab_size))
        return layers

    @torch.no_grad()
    def _initialise(self, config: DeepMLPConfig) -> None:
        if config.init == "kaiming":
            # The last layer is the logits' BatchNorm (its gamma) or the output Linear.
            self.layers[-1].weight.mul_(config.last_layer_scale)

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        return self.layers(idx)
