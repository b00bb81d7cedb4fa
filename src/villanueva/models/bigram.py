"""Bigram: the previous character alone predicts the next, from a table of smoothed counts.

No gradient descent: `fit` counts every (previous, next) pair of the training names, and the
prediction is (count + k) / (row total + k * V). Add-k smoothing keeps pairs never seen in training
possible, so the validation loss stays finite. The counts are a buffer, so they are saved and
loaded with the model's state_dict like any weights.
"""

import torch

from villanueva.models.base import WindowModel
from villanueva.models.specs.bigram import BigramConfig


class Bigram(WindowModel):
    block_size = 1

    def __init__(self, config: BigramConfig, vocab_size: int):
        super().__init__(config, vocab_size)
        self.register_buffer("counts", torch.zeros(vocab_size, vocab_size))

    @torch.no_grad()
    def fit(self, contexts: torch.Tensor, targets: torch.Tensor) -> None:
        vocab_size = self.counts.shape[0]
        pairs = contexts[:, -1].long() * vocab_size + targets.long()  # compact ids would overflow
        counts = torch.bincount(pairs, minlength=vocab_size * vocab_size)
        self.counts.copy_(counts.view(vocab_size, vocab_size).to(self.counts))

    def forward(self, idx: torch.Tensor) -> torch.Tensor:
        smoothed = self.counts + self.config.smoothing
        log_probs = smoothed.log() - smoothed.sum(dim=1, keepdim=True).log()
        return log_probs[idx[:, -1]]
