"""The Python library: `import villanueva as vn`, load or train, then sample, score, guess,
evaluate and diagnose, with every option a keyword argument and every mistake a UserError that
names the parameter."""

import inspect
import subprocess
import sys
import warnings

import pytest

import villanueva as vn
from villanueva.data.spelling import Writing
from villanueva.inference import Constraints, Drawing
from villanueva.inference.on_demand import Sampling, Style
from villanueva.schema import options

from helpers import TINY_NAMES


@pytest.fixture(scope="module")
def bundled():
    return vn.load()


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    names = tmp_path_factory.mktemp("data") / "names.txt"
    names.write_text("\n".join(TINY_NAMES) + "\n", encoding="utf-8")
    return names


def test_importing_the_package_loads_no_torch():
    code = "import sys, villanueva; print('torch' in sys.modules, callable(villanueva.load))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]


def test_the_bundled_model_samples_in_a_style_repeatably(bundled):
    names = bundled.sample(5, label="Girona", seed=1)
    assert len(names) == 5 and {name.label for name in names} == {"Girona"}
    assert all(isinstance(name.loss, float) and name.loss > 0 for name in names)
    assert names.names == [name.name for name in bundled.sample(5, label="girona", seed=1)]
    assert names.names != bundled.sample(5, label="Girona", seed=2).names
    assert "<table>" in names._repr_html_() and str(names[0]) == names[0].name


def test_every_sampling_option_is_a_keyword_with_its_declared_default(bundled):
    parameters = inspect.signature(bundled.sample).parameters
    for group in (Sampling, Style, Drawing, Constraints, Writing):
        for f in options(group):
            assert parameters[f.name].default == f.default, f.name
    names = bundled.sample(8, seed=3, starts_with="Villa", contains="nueva", max_length=30, new_only=True)
    assert all(n.name.startswith("Villa") and "nueva" in n.name and not n.known for n in names)
    raw = bundled.sample(
        8, seed=3, starts_with="Villa", contains="nueva", max_length=30, new_only=True, raw=True
    )
    assert [n.name for n in raw] == [n.name.lower() for n in names]  # the model's own form


def test_score_and_guess_take_one_name_or_many(bundled):
    (bilbao,) = bundled.score("Bilbao")
    assert bilbao.known and bilbao.loss > 0
    explained = bundled.score(["Villanueva de la Serena", "Xyzzq"], explain=True)
    assert len(explained[0].surprisals) == len("villanueva de la serena") + 1
    assert (
        explained[1].explained[0] == ("X", explained[1].surprisals[0])
        and explained[1].explained[-1][0] == "."
    )
    assert explained[0].loss < explained[1].loss
    (guess,) = bundled.guess("Zugarramurdi", by="community", top=2)
    assert len(guess.labels) == 2 and sum(p for _, p in guess.labels) <= 1
    assert "Girona" in bundled.labels and "Galicia" in bundled.label_groups


def test_mistakes_are_user_errors_that_name_the_parameter(bundled):
    cases = [
        (lambda: bundled.sample(3, temprature=2), "no option `temprature`; did you mean `temperature`?"),
        (lambda: bundled.sample(3, temperature="hot"), "`temperature` must be a number, got 'hot'"),
        (lambda: bundled.sample(0), "`count` must be at least 1, got 0"),
        (lambda: bundled.sample(3, min_length=9, max_length=3), "`min_length` 9 is more than `max_length` 3"),
        (lambda: bundled.sample(3, label="Atlantis"), "unknown label 'Atlantis'"),
        (lambda: bundled.guess("Toro", top=0), "`top` must be at least 1, got 0"),
        (lambda: vn.train(stpes=10), "no option `stpes`; did you mean `steps`?"),
        (lambda: vn.train(steps=1.5), "`steps` must be a whole number, got 1.5"),
        (lambda: vn.load("/nonexistent/run"), "run directory not found"),
    ]
    for call, message in cases:
        with pytest.raises(vn.UserError) as raised:
            call()
        assert message in str(raised.value)
        assert isinstance(raised.value, ValueError)


def test_a_spent_budget_returns_what_was_found_with_a_warning(bundled):
    with pytest.warns(vn.ShortfallWarning, match="raise it with `budget`"):
        names = bundled.sample(5, contains="qqq", budget=100, seed=1)
    assert names == []


def test_train_keeps_an_unsaved_run_until_it_is_saved(tiny, tmp_path):
    first = vn.train(tiny, steps=20, hidden=16, progress=False)
    second = vn.train(tiny, steps=20, hidden=16, progress=False)  # no folder to collide with
    temporary = first.path
    assert temporary.is_dir() and temporary != second.path and "unsaved" in repr(first)
    assert first.settings.model == "mlp" and first.settings.model_config.hidden == 16
    assert first.vocabulary[0] == "." and "v" in first.vocabulary
    assert first.result.steps == 20 and set(first.evaluate()) == {"train", "val", "test"}
    saved = first.save(tmp_path / "mine")
    assert saved == first.path and (saved / "model.safetensors").is_file() and not temporary.exists()
    assert vn.load(saved).sample(3, seed=1).names == first.sample(3, seed=1).names
    with pytest.raises(vn.UserError, match="exists"):
        second.save(saved)
    with pytest.raises(vn.UserError, match="not conditioned on labels"):
        first.guess("Toro")
    with pytest.raises(vn.UserError, match="`label` has nothing to choose"):
        first.sample(3, label="Girona")


def test_train_records_how_it_was_called(tiny, tmp_path):
    model = vn.train(tiny, out=tmp_path / "run", steps=10, hidden=16, progress=False)
    assert model.path == tmp_path / "run"
    assert model.run.record.command == f"villanueva.train(data={str(tiny)!r}, steps=10, hidden=16)"


def test_a_conditioned_run_is_diagnosed(bundled, tmp_path):
    diagnosis = vn.diagnose(bundled)
    assert vn.diagnose(bundled) is diagnosis  # kept, not made again
    assert "verdicts" in repr(diagnosis) and "\n" not in repr(diagnosis)
    assert diagnosis.verdicts and {"loss.png", "weight_gradients.png"} <= set(diagnosis.figures)
    assert diagnosis._repr_html_().count("<img") == len(diagnosis.figures)
    written = diagnosis.save(tmp_path / "diagnosis")
    assert (tmp_path / "diagnosis" / "diagnostics.json") in written
    assert all(path.is_file() for path in written)


def test_the_command_line_diagnoses_a_conditioned_run(cli, tiny, tmp_path):
    out = tmp_path / "by-kind"
    labelled = tmp_path / "labelled.csv"
    kinds = ["villa" if name.startswith("Villa") else "other" for name in TINY_NAMES]
    labelled.write_text(
        "name,kind\n" + "".join(f'"{n}",{k}\n' for n, k in zip(TINY_NAMES, kinds)), encoding="utf-8"
    )
    trained = cli(
        "train", "--data", str(labelled), "--column", "name", "--label-column", "kind", "--hidden", "8",
        "--steps", "20", "--out", str(out), "--quiet",
    )  # fmt: skip
    assert trained.code == 0, trained.err
    diagnosed = cli("diagnose", str(out))
    assert diagnosed.code == 0, diagnosed.err
    assert (out / "plots" / "weight_gradients.png").is_file() and "initial loss" in diagnosed.out


def test_no_warning_when_every_name_is_found(bundled):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert len(bundled.sample(3, seed=5)) == 3
