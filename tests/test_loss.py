"""The loss definition: mean NLL per character, natural log, end token included."""

import math

import pytest
import torch

from villanueva.data import Vocab
from villanueva.data.tensors import context_windows
from villanueva.models import build_model, make_config
from villanueva.models.base import WindowModel
from villanueva.training import names_loss, split_loss


def fitted_bigram(names, smoothing=1.0):
    vocab = Vocab.from_names(names)
    model = build_model("bigram", make_config("bigram", smoothing=smoothing), len(vocab))
    model.fit(*context_windows(names, vocab, 1))
    return model, vocab


def test_bigram_loss_by_hand():
    # Vocab ". a b"; "ab" has the pairs .a ab b. once each. With +1 smoothing every row is
    # (1 + 1) / (1 + 3) = 1/2 for the pair seen and 1/4 for the two unseen ones.
    model, vocab = fitted_bigram(["ab"])
    assert names_loss(model, vocab, ["ab"]) == pytest.approx(math.log(2))
    # "ba": p(b|.) = 1/4, p(a|b) = 1/4, p(.|a) = 1/4 -> mean NLL ln 4.
    assert names_loss(model, vocab, ["ba"]) == pytest.approx(math.log(4))
    # Over a split the mean is per character (3 + 3 predictions), not per name.
    assert names_loss(model, vocab, ["ab", "ba"]) == pytest.approx((3 * math.log(2) + 3 * math.log(4)) / 6)


def test_loss_is_per_character_including_the_end_token():
    # Names of different lengths: a per-name average would weight "a" (2 predictions) like
    # "abcd" (5); the definition weights every character, the end token included.
    model, vocab = fitted_bigram(["a", "abcd"], smoothing=0.5)
    losses = [names_loss(model, vocab, [name]) for name in ["a", "abcd"]]
    assert names_loss(model, vocab, ["a", "abcd"]) == pytest.approx((2 * losses[0] + 5 * losses[1]) / 7)


class Uniform(WindowModel):
    block_size = 2

    def __init__(self, vocab_size):
        super().__init__(None, vocab_size)
        self.register_buffer("logits", torch.zeros(vocab_size))

    def forward(self, idx):
        return self.logits.expand(len(idx), -1)


def test_uniform_model_scores_log_vocab_size():
    vocab = Vocab.from_names(["hello", "world"])
    contexts, targets = context_windows(["hello", "world"], vocab, 2)
    assert split_loss(Uniform(len(vocab)), contexts, targets) == pytest.approx(math.log(len(vocab)))


def test_split_loss_restores_training_mode():
    model = Uniform(3).train()
    split_loss(model, torch.zeros(4, 2, dtype=torch.long), torch.zeros(4, dtype=torch.long))
    assert model.training
