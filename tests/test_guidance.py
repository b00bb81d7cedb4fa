"""Style strength: classifier-free guidance of a model trained with label dropout, on the two
regions of test_labels (names of the north and the south share no letter)."""

import numpy as np
import pytest

from test_labels import SYLLABLES, regions_csv  # noqa: F401 (a fixture)
from villanueva.inference import Constraints, Drawing, sample
from villanueva.inference.graphs import as_steps
from villanueva.inference.guidance import GuidedSteps, guided
from villanueva.runs import load_run

NORTH, SOUTH = (set("".join(SYLLABLES[region])) for region in ("north", "south"))


@pytest.fixture(scope="module")
def dropout_run(regions_csv, tmp_path_factory):  # noqa: F811
    from villanueva.cli import main

    out = tmp_path_factory.mktemp("runs") / "regions-dropout"
    args = ["train", "--data", str(regions_csv), "--column", "name", "--label-column", "region"]
    args += ["--hidden", "32", "--steps", "300", "--label-dropout", "0.3", "--out", str(out), "--quiet"]
    assert main(args) == 0
    return load_run(out)


def names(run, label: str, strength: float, count: int = 60) -> list[str]:
    batches = sample(
        run.model,
        run.vocab,
        count,
        Constraints(),
        Drawing(style_strength=strength),
        seed=5,
        label_weights=run.label_weights(label),
    )
    return [sampled.name for batch in batches for sampled in batch]


def regions_of(names: list[str]) -> tuple[int, int]:
    return sum(set(name) <= NORTH for name in names), sum(set(name) <= SOUTH for name in names)


def test_strength_zero_is_the_models_own_unlabelled_distribution(dropout_run):
    steps = as_steps(dropout_run.model)
    labels = np.array([0, 1, 1])
    state = GuidedSteps(steps, 0.0).start(3, [1], labels)
    unlabelled = steps.start(3, [1], np.full(3, steps.label_count))
    np.testing.assert_array_equal(GuidedSteps(steps, 0.0).logits(state), steps.logits(unlabelled))
    # The label no longer matters: the same seed gives the same names for either region, of both.
    north, south = names(dropout_run, "north", 0.0), names(dropout_run, "south", 0.0)
    assert north == south
    assert min(regions_of(north)) >= 10


def test_strength_one_is_the_model_as_trained_and_more_exaggerates(dropout_run):
    steps = as_steps(dropout_run.model)
    assert guided(steps, 1.0) is steps
    labels = np.array([0, 1])
    labelled, unlabelled = steps.start(2, [], labels), steps.start(2, [], np.full(2, steps.label_count))
    twice = GuidedSteps(steps, 2.0)
    expected = 2 * steps.logits(labelled) - steps.logits(unlabelled)
    np.testing.assert_allclose(twice.logits(twice.start(2, [], labels)), expected, rtol=1e-6, atol=1e-6)
    north, south = regions_of(names(dropout_run, "north", 2.0))
    assert north >= 55 and south == 0


def test_guided_states_join_and_split_back(dropout_run):
    steps = GuidedSteps(as_steps(dropout_run.model), 1.5)
    first, second = steps.start(2, [], np.array([0, 1])), steps.start(3, [2], np.array([1, 1, 0]))
    joined = steps.joined([first, second])
    np.testing.assert_array_equal(
        steps.logits(joined), np.concatenate([steps.logits(first), steps.logits(second)])
    )
    for part, original in zip(steps.split(joined, [2, 3]), (first, second)):
        np.testing.assert_array_equal(steps.logits(part), steps.logits(original))


@pytest.fixture(scope="module")
def no_dropout_run(regions_csv, tmp_path_factory):  # noqa: F811
    from villanueva.cli import main

    out = tmp_path_factory.mktemp("runs") / "regions-plain"
    args = ["train", "--data", str(regions_csv), "--column", "name", "--label-column", "region"]
    assert main([*args, "--hidden", "16", "--steps", "20", "--out", str(out), "--quiet"]) == 0
    return out


@pytest.mark.parametrize(
    "which, message",
    [
        ("unconditioned", "--style-strength needs a run conditioned on labels"),
        ("no label dropout", "--style-strength needs a model trained with --label-dropout above 0"),
    ],
)
def test_style_strength_on_a_run_that_cannot_is_one_line(cli, tiny_run, no_dropout_run, which, message):
    run = tiny_run if which == "unconditioned" else no_dropout_run
    result = cli("sample", str(run), "--style-strength", "2")
    assert result.code == 2 and result.out == ""
    assert message in result.err and len(result.err.strip().splitlines()) == 1
