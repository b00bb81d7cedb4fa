"""Sampling and scoring, on a counted bigram model (exact, and fast to build)."""

import numpy as np
import pytest

from villanueva.data import Vocab
from villanueva.data.tensors import context_windows
from villanueva.errors import UserError
from villanueva.inference import Constraints, sample, sample_names, score_names
from villanueva.inference.on_demand import Sampling
from villanueva.models import build_model, make_config
from villanueva.training import names_loss

NAMES = ["ana", "anabel", "bea", "belen", "elena", "lena", "nel"]


@pytest.fixture(scope="module")
def bigram():
    vocab = Vocab.from_names(NAMES)
    model = build_model("bigram", make_config("bigram", smoothing=0.01), len(vocab))
    model.fit(*context_windows(NAMES, vocab, 1))
    return model, vocab


def test_same_seed_same_names(bigram):
    first = sample_names(*bigram, 50, seed=3)
    assert first == sample_names(*bigram, 50, seed=3)
    assert first != sample_names(*bigram, 50, seed=4)
    assert len(first) == 50 and all(set(name) <= set("abeln") for name in first)


def test_batched_sampling_follows_the_model(bigram):
    model, vocab = bigram
    names = sample_names(model, vocab, 4000, seed=0)
    # p(first char = 'a' | start) from the counts: 2 of 7 names start with 'a' (smoothing aside).
    share = sum(name.startswith("a") for name in names) / len(names)
    assert share == pytest.approx(2 / 7, abs=0.03)


def test_top_k_draws_from_the_k_likeliest(bigram):
    assert len(set(sample_names(*bigram, 20, seed=1, top_k=1))) == 1
    # After the start token 'a' and 'b' (2 names each) are the likeliest, tied.
    firsts = {name[0] for name in sample_names(*bigram, 200, seed=1, top_k=2)}
    assert firsts == {"a", "b"}


def test_low_temperature_sharpens(bigram):
    cold = sample_names(*bigram, 200, seed=1, temperature=0.05)
    assert {name[0] for name in cold} == {"a", "b"}


def test_prefix_and_max_length(bigram):
    names = sample_names(*bigram, 10, seed=2, prefix="be", max_length=3)
    assert len(names) == 10 and all(name.startswith("be") and len(name) <= 3 for name in names)


def test_a_name_is_never_empty():
    # Smoothing this strong makes ending before the first character about 1 draw in 6.
    vocab = Vocab.from_names(NAMES)
    model = build_model("bigram", make_config("bigram", smoothing=100.0), len(vocab))
    model.fit(*context_windows(NAMES, vocab, 1))
    names = sample_names(model, vocab, 300, seed=0)
    assert len(names) == 300 and all(names)


def test_new_only_excludes_known_names(bigram):
    known = set(NAMES)
    names = [
        s.name
        for batch in sample(*bigram, 15, Constraints(new_only=True), seed=5, known=known)
        for s in batch
    ]
    assert len(names) == len(set(names)) == 15
    assert not known & set(names)


def test_sampling_errors(bigram):
    with pytest.raises(UserError, match="temperature"):
        sample_names(*bigram, 5, temperature=0)
    with pytest.raises(UserError, match="'x'"):
        sample_names(*bigram, 5, prefix="x")
    with pytest.raises(UserError, match="`count` must be at least 1, got 0"):
        Sampling(count=0)


def test_score_is_the_loss_of_each_name(bigram):
    model, vocab = bigram
    scored = score_names(model, vocab, ["Ana", "BELÉN", "nabel"])
    assert [name for name, _ in scored] == ["ana", "belen", "nabel"]
    for name, loss in scored:
        assert loss == pytest.approx(names_loss(model, vocab, [name]))
    assert scored[0][1] < scored[2][1]  # a training name is more typical than a scramble


def test_score_rejects_empty_and_unknown(bigram):
    with pytest.raises(UserError, match="empty"):
        score_names(*bigram, ["()"])
    with pytest.raises(UserError, match="'z'"):
        score_names(*bigram, ["zaz"])


def test_distinct_windows_go_through_the_model_once_and_map_back_to_every_row():
    from villanueva.inference.steps import distinct_windows

    generator = np.random.default_rng(0)
    windows = generator.integers(0, 3, (500, 4))  # 81 possible windows: many repeats
    distinct, row_of = distinct_windows(windows, vocab_size=29)
    assert np.array_equal(distinct[row_of], windows)
    assert len(distinct) == len(np.unique(windows, axis=0)) < len(windows)
    wide = generator.integers(0, 29, (50, 13))  # 29**13 does not fit in 63 bits
    distinct, row_of = distinct_windows(wide, vocab_size=29)
    assert np.array_equal(distinct[row_of], wide)


def test_sampled_characters_follow_the_models_probabilities():
    from villanueva.inference.sample import Drawing, _cumulative_probabilities, _draw

    with np.errstate(divide="ignore"):
        logits = np.log(np.tile([[0.5, 0.3, 0.2, 0.0]], (200_000, 1)))
    drawn = _draw(_cumulative_probabilities(logits, Drawing()), np.random.default_rng(1))
    frequencies = np.bincount(drawn, minlength=4) / len(drawn)
    assert np.allclose(frequencies, [0.5, 0.3, 0.2, 0.0], atol=0.005)
    top_two = _draw(_cumulative_probabilities(logits, Drawing(top_k=2)), np.random.default_rng(1))
    assert set(top_two.tolist()) == {0, 1}
