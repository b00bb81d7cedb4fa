"""`villanueva report` (runs side by side) and `train --preset`."""

import json

from villanueva.training import PRESETS


def test_report_lists_each_run_with_its_changed_settings_best_validation_first(
    cli, tiny_run, tiny_names_file, tmp_path
):
    other = tmp_path / "bigram"
    assert (
        cli("train", "--data", str(tiny_names_file), "--model", "bigram", "--out", str(other), "--quiet").code
        == 0
    )
    result = cli("report", str(other), str(tiny_run), "--out", str(tmp_path / "table.md"))
    assert result.code == 0, result.err
    rows = [line for line in result.out.splitlines() if line.startswith(("| tiny", "| bigram"))]
    assert len(rows) == 2
    final = {
        path.name: json.loads((path / "metrics.jsonl").read_text().splitlines()[-1])
        for path in (other, tiny_run)
    }
    vals = {name: record["best"]["val"] for name, record in final.items()}
    assert rows[0].startswith(f"| {min(vals, key=vals.get)} ")  # best validation loss first
    tiny_row = next(row for row in rows if row.startswith("| tiny"))
    assert "--hidden 16" in tiny_row and "--steps 30" in tiny_row
    assert f"**{vals['tiny']:.4f}**" in tiny_row
    assert (tmp_path / "table.md").read_text() in result.out


def test_report_of_an_unfinished_or_missing_run_is_one_clear_error(cli, tmp_path):
    result = cli("report", str(tmp_path / "nope"))
    assert result.code == 2 and result.err.count("\n") == 1 and "not found" in result.err


def test_preset_best_trains_its_model_with_its_settings_and_given_options_win(cli, tiny_names_file, tmp_path):
    best = PRESETS["best"]
    out = tmp_path / "best"
    result = cli(
        "train",
        "--preset",
        "best",
        "--data",
        str(tiny_names_file),
        "--steps",
        "3",
        "--hidden",
        "8",
        "--out",
        str(out),
        "--quiet",
    )
    assert result.code == 0, result.err
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == best.model
    assert config["model_config"]["hidden"] == 8  # given on the command line
    for key, value in best.model_options.items():
        if key != "hidden":
            assert config["model_config"][key] == value
    assert config["train"]["steps"] == 3 and config["train"]["epochs"] == 0  # --steps wins over epochs
    for key, value in best.training.items():
        if key not in ("steps", "epochs"):
            assert config["train"][key] == value


def test_preset_conflicts_and_unknown_presets_are_one_line_errors(cli, tiny_names_file, tmp_path):
    for args in (
        ["--preset", "nope"],
        ["--preset", "best", "--model", "bigram"],
        ["--preset", "best", "--recipe", "notebook"],
    ):
        result = cli("train", "--data", str(tiny_names_file), "--out", str(tmp_path / "x"), "--quiet", *args)
        assert result.code == 2 and result.err.count("\n") == 1, (args, result.err)
        assert not (tmp_path / "x").exists()
