"""Bigram: the previous character alone predicts the next, from a table of smoothed counts.

No gradient descent: `fit` counts every (previous, next) pair of the training names, and the
prediction is (count + k) / (row total + k * V). Add-k smoothing keeps pairs never seen in training
possible, so the validation loss stays finite. The counts are a buffer, so they are saved and
loaded with the model's state_dict like any weights.
"""

from dataclasses import dataclass, field

import torch

from villanueva.errors import UserError
from villanueva.models.base import CountedModel, require_positive

MAX_SMOOTHING = 1e6


@dataclass
class BigramConfig:
    smoothing: float = field(default=1.0, metadata={"help": "add-k smoothing of the bigram counts"})

    def __post_init__(self):
        require_positive(self, "smoothing")
        if self.smoothing > MAX_SMOOTHING:  # more is a uniform table; far more overflows float32
            raise UserError(f"`smoothing` must be at most {MAX_SMOOTHING:g}, got {self.smoothing:g}")


class Bigram(CountedModel):
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
