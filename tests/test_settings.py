"""One settings resolver, one typed run record: precedence, conflicts, what `report` says changed,
old runs still read, damaged records refused in one line, and the device chosen per process."""

import json
import re
import shutil

import pytest

from villanueva.errors import UserError
from villanueva.runs import RunRecord, RunResult, read_result
from villanueva.training import PRESETS, Settings, TrainConfig, changes, resolve


def test_precedence_is_defaults_then_recipe_then_preset_then_given_options():
    assert resolve().model == "mlp" and resolve().train == TrainConfig()
    gru = resolve("gru")
    assert gru.train.batch_size == 32 and gru.train.grad_clip == 1.0  # the gru recipe
    best, chosen = resolve(preset_name="best"), PRESETS["best"]
    assert best.model == chosen.model and best.model_config.hidden == chosen.model_options["hidden"]
    assert best.train.lr == chosen.training["lr"] and best.train.epochs == chosen.training["epochs"]
    given = resolve(
        preset_name="best",
        train_options={"lr": 1e-3, "steps": None},
        model_options={"hidden": 64, "dropout": None},
    )
    assert given.train.lr == 1e-3 and given.train.epochs == chosen.training["epochs"]  # None: not given
    assert given.model_config.hidden == 64 and given.model_config.dropout == chosen.model_options["dropout"]
    fixed = resolve(preset_name="best", train_options={"steps": 500})
    assert fixed.train.steps == 500 and fixed.train.epochs == 0  # --steps wins over the preset's epochs
    notebook = resolve("mlp-bn", "notebook")
    assert notebook.train.optimizer == "sgd" and notebook.train.steps == 200_000


@pytest.mark.parametrize(
    "arguments, message",
    [
        (dict(model="mlp", preset_name="best"), "`preset` best trains gru; drop `model` mlp"),
        (dict(recipe_name="notebook", preset_name="best"), "drop `recipe`"),
        (dict(recipe_name="slow"), "unknown recipe 'slow' (choose from: fast, notebook)"),
        (dict(model="gru", recipe_name="notebook"), "the notebooks have no recipe for 'gru'"),
        (dict(model_options={"depth": 3}), "model 'mlp' has no option `depth`"),
    ],
)
def test_conflicting_or_unknown_settings_are_user_errors(arguments, message):
    with pytest.raises(UserError, match=re.escape(message)):
        resolve(**arguments)


def test_changes_are_written_as_the_options_that_set_them():
    assert changes(resolve("gru")) == ""
    sized = resolve("gru", train_options={"lr": 3e-3, "epochs": 29.5}, model_options={"hidden": 256})
    assert changes(sized) == "--hidden 256 --lr 0.003 --epochs 29.5"  # the steps follow from the epochs
    assert changes(resolve("deep-mlp", model_options={"batchnorm": False})) == "--no-batchnorm"
    assert changes(resolve("mlp-bn", "notebook")) == "--recipe notebook"
    # A setting that only recipes set is no command-line option: it is written as name=value.
    sgd = resolve("mlp", train_options={"optimizer": "sgd", "eval_every": 7})
    assert changes(sgd) == "optimizer=sgd"  # eval_every is how often a run is checked, not a change


def test_training_options_come_from_the_settings_fields(cli):
    result = cli("train", "--help")
    for option in ("--lr", "--batch-size", "--warmup", "--grad-clip", "--patience", "--diagnose"):
        assert option in result.out
    assert "--optimizer" not in result.out and "--schedule" not in result.out  # recipes set these
    assert "fast recipe: 256; gru, transformer: 32" in " ".join(result.out.split())


def test_the_run_record_round_trips_and_holds_no_device_in_its_settings(tiny_run):
    config = json.loads((tiny_run / "config.json").read_text())
    record = RunRecord.from_json(config)
    assert record.to_json() == config
    assert config["format"] == 2 and "device" not in config["train"]
    assert config["machine"]["device"] == "cpu" and config["machine"]["threads"] >= 1
    result = read_result(tiny_run)
    assert RunResult.from_json(result.to_json()) == result and result.steps == 30


def test_a_run_of_another_format_is_refused_in_one_line(cli, tiny_run, tmp_path):
    """No release ever wrote format 1, so none is read: the line says which format this reads."""
    run = shutil.copytree(tiny_run, tmp_path / "old")
    config = json.loads((run / "config.json").read_text())
    config["format"] = 1
    (run / "config.json").write_text(json.dumps(config))
    for command in ("eval", "report"):
        result = cli(command, str(run))
        assert result.code == 2 and result.err.strip().endswith(
            "it has run format 1; this version of villanueva reads format 2"
        )


@pytest.mark.parametrize(
    "damage",
    [
        lambda c: c.pop("train"),
        lambda c: c.update(train=[1, 2]),
        lambda c: c.update(model_config={"hidden": "wide"}),
        lambda c: c["train"].update(lr=-1),
        lambda c: c.update(format=99),
        lambda c: c.update(data=None),
    ],
)
def test_a_damaged_record_is_one_line_naming_config_json(cli, tiny_run, tmp_path, damage):
    run = shutil.copytree(tiny_run, tmp_path / "damaged")
    config = json.loads((run / "config.json").read_text())
    damage(config)
    (run / "config.json").write_text(json.dumps(config))
    for command in ("eval", "sample", "report"):
        result = cli(command, str(run))
        assert result.code == 2 and result.err.count("\n") == 1 and "config.json" in result.err, result.err


def test_a_damaged_final_record_is_one_line(cli, tiny_run, tmp_path):
    run = shutil.copytree(tiny_run, tmp_path / "damaged")
    lines = (run / "metrics.jsonl").read_text().splitlines()
    (run / "metrics.jsonl").write_text("\n".join(lines[:-1] + ['{"final": true, "best": null}']) + "\n")
    result = cli("report", str(run))
    assert result.code == 2 and result.err.count("\n") == 1 and "metrics.jsonl is damaged" in result.err


def test_report_never_overwrites_a_run_file_nor_an_existing_file_unless_forced(cli, tiny_run, tmp_path):
    before = {path.name: path.read_bytes() for path in tiny_run.iterdir() if path.is_file()}
    for target in ("config.json", "model.safetensors", "new.md"):
        result = cli("report", str(tiny_run), "--out", str(tiny_run / target), "--force")
        assert result.code == 2 and "inside the run directory" in result.err
    assert {path.name: path.read_bytes() for path in tiny_run.iterdir() if path.is_file()} == before
    table = tmp_path / "table.md"
    table.write_text("keep me")
    result = cli("report", str(tiny_run), "--out", str(table))
    assert result.code == 2 and "--force" in result.err and table.read_text() == "keep me"
    assert cli("report", str(tiny_run), "--out", str(table), "--force").code == 0
    assert table.read_text().startswith("| run |")
    for bad in (tmp_path, tmp_path / "missing" / "table.md"):
        result = cli("report", str(tiny_run), "--out", str(bad))
        assert result.code == 2 and result.err.count("\n") == 1


def test_resume_takes_the_device_and_threads_of_this_process_but_no_settings(cli, tiny_run):
    result = cli("train", "--resume", str(tiny_run), "--device", "cpu", "--threads", "1", "--quiet")
    assert result.code == 2 and "has finished training" in result.err  # not refused for --device
    result = cli("train", "--resume", str(tiny_run), "--lr", "0.1", "--data", "x.txt", "--no-batchnorm")
    assert result.code == 2 and "drop --data, --lr, --batchnorm" in result.err


def test_settings_are_frozen_values():
    settings = resolve()
    with pytest.raises(AttributeError):
        settings.model = "gru"
    assert isinstance(settings, Settings)
