"""The bundled model: shipped in the package, used when sample, score, guess or labels get no RUN,
and exactly what its record says it is."""

import json

import pytest

from villanueva.bundled import BUILD_COMMAND, BUNDLED_RUN
from villanueva.inference import evaluate_run
from villanueva.runs import load_run, read_result


@pytest.fixture(scope="module")
def bundled():
    return load_run()


def test_it_is_a_small_complete_run_conditioned_on_the_province(bundled):
    assert bundled.path == BUNDLED_RUN
    assert bundled.labels.kind == "province" and len(bundled.labels) == 52
    assert len(bundled.labels.groups) == 19
    size = sum(file.stat().st_size for file in BUNDLED_RUN.iterdir())
    assert size < 5_000_000


def test_it_writes_names_as_places_are_written_and_knows_names_without_a_label(bundled):
    """Accents, ñ, ç and apostrophes (L'Hospitalet), and the 'no label' id that style strength needs."""
    assert bundled.keep_accents and set("áàéèíïóòúüñç'") <= set(bundled.vocab.chars)
    options = bundled.record.settings.model_config
    assert options.label_dropout > 0 and options.style_table


def test_its_record_holds_the_command_that_built_it(bundled):
    assert bundled.record.command == BUILD_COMMAND
    assert json.loads((BUNDLED_RUN / "config.json").read_text())["command"] == BUILD_COMMAND


def test_its_stored_losses_equal_a_fresh_evaluation(bundled):
    stored = read_result(BUNDLED_RUN)
    fresh = evaluate_run(bundled)
    assert {part: fresh[part] for part in ("train", "val", "test")} == pytest.approx(stored.best, abs=1e-6)
    marginal = {part: fresh[f"{part} marginal"] for part in ("val", "test")}
    assert marginal == pytest.approx(stored.marginal, abs=1e-6)
    assert stored.best["val"] < stored.marginal["val"]  # knowing the province helps


def test_the_commands_use_it_without_a_run(cli):
    sampled = cli("sample", "-n", "5", "--seed", "1", "--label", "Girona")
    assert sampled.code == 0 and len(sampled.out.splitlines()) == 5
    assert sampled.out == cli("sample", "-n", "5", "--seed", "1", "--label", "girona").out
    guessed = cli("guess", "Vilanova de Bellpuig", "--by", "community", "--top", "1")
    assert guessed.code == 0 and guessed.out.split("%")[0].split()[-2] == "Cataluña"
    assert guessed.out.rstrip().endswith("(a real name of Cataluña)")
    scored = cli("score", "Villanueva", "Zzzxq")
    losses = [float(line.split()[0]) for line in scored.out.splitlines()]
    assert scored.code == 0 and losses[0] < losses[1]
    listed = cli("labels")
    assert listed.code == 0 and listed.out.startswith("52 province labels")
