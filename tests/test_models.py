"""The registry and the models of the first slice."""

import pytest
import torch

from villanueva.errors import UserError
from villanueva.models import MODELS, build_model, make_config
from villanueva.models.base import WholeNameModel


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_maps_contexts_to_logits(name):
    torch.manual_seed(0)
    model = build_model(name, make_config(name), vocab_size=29)
    if isinstance(model, WholeNameModel):  # a whole name in, a prediction at every position out
        assert model(torch.randint(0, 29, (5, 7))).shape == (5, 7, 29)
    else:
        assert model(torch.randint(0, 29, (5, model.block_size))).shape == (5, 29)


def test_mlp_options_and_size():
    config = make_config("mlp", hidden=7, emb_dim=2, block_size=4)
    model = build_model("mlp", config, vocab_size=29)
    # embedding 29*2, hidden (4*2)*7 + 7, output 7*29 + 29
    assert sum(p.numel() for p in model.parameters()) == 29 * 2 + 8 * 7 + 7 + 7 * 29 + 29
    assert model.block_size == 4


def test_model_options_are_checked():
    with pytest.raises(UserError, match="`block_size` must be at least 1 and at most 200, got 0"):
        make_config("mlp", block_size=0)
    with pytest.raises(UserError, match="has no option `hidden`"):
        make_config("bigram", hidden=3)
    with pytest.raises(UserError, match="unknown model"):
        make_config("gpt-9")


def test_bigram_counts_pairs():
    model = build_model("bigram", make_config("bigram"), vocab_size=3)
    model.fit(torch.tensor([[0], [1], [1]]), torch.tensor([1, 2, 2]))
    assert model.counts.tolist() == [[0, 1, 0], [0, 0, 2], [0, 0, 0]]
    probs = model(torch.tensor([[1]])).exp()
    assert probs.tolist()[0] == pytest.approx([1 / 5, 1 / 5, 3 / 5])
