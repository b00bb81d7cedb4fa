"""The registry and the models of the first slice."""

from dataclasses import dataclass
from functools import partial

import pytest
import torch

from villanueva.errors import UserError
from villanueva.models import MODELS, build_model, make_config
from villanueva.models.base import WholeNameModel
from villanueva.models.spec import ModelSpec
from villanueva.schema import setting
from villanueva.training import TrainConfig, recipe
from villanueva.training.memory import activations_per_position, planned


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


@pytest.mark.parametrize("name", list(MODELS))
def test_the_memory_estimate_knows_every_layer_of_every_model(name):
    spec = MODELS[name]
    for labels in (0, 3) if spec.module.can_condition else (0,):
        model = planned(partial(build_model, name, make_config(name), 29, labels))
        assert activations_per_position(model) > 0 or not model.learns_by_gradient()


def test_a_layer_the_memory_estimate_does_not_know_fails_loudly():
    with pytest.raises(TypeError, match="does not know Conv1d"):
        activations_per_position(torch.nn.Sequential(torch.nn.Conv1d(4, 8, 3)))


def test_every_spec_recipe_is_a_training_config():
    for name, spec in MODELS.items():
        assert recipe(name) == TrainConfig(**spec.fast)
        if spec.notebook is not None:
            assert recipe(name, "notebook") == TrainConfig(**spec.notebook)


def test_a_spec_without_help_for_an_option_fails_when_it_is_made():
    @dataclass
    class Undocumented:
        width: int = setting(3)

    with pytest.raises(TypeError, match="option 'width' of Undocumented has no help"):
        ModelSpec(
            name="x", summary="", config=Undocumented, network="x:X", fast={}, notebook=None, space=None
        )
