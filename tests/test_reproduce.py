"""`villanueva reproduce` in quick mode: every row of the notebooks' table, end to end."""

import json


def test_quick_reproduce_writes_the_table(cli, tiny_names_file, tmp_path):
    out = tmp_path / "reproduce"
    result = cli(
        "reproduce", "--data", str(tiny_names_file), "--scale", "0.0005", "--out", str(out), "--quiet"
    )
    assert result.code == 0, result.err
    table = (out / "results.md").read_text()
    assert table in result.out
    rows = [line for line in table.splitlines() if line.startswith("| ") and "`" in line]
    assert [row.split("|")[1].strip() for row in rows] == ["bigram", "MLPv0", "MLPv1", "MLPv3", "WaveNet"]
    assert [row.split("|")[-2].strip() for row in rows] == ["2.29", "1.87", "1.774", "1.831", "1.734"]
    config = json.loads((out / "mlp-bn" / "config.json").read_text())
    # The notebook's MLPv1 recipe, shortened: 200k steps * 0.0005, SGD at lr 0.1, batch 64.
    assert config["train"]["steps"] == 100 and config["train"]["optimizer"] == "sgd"
    assert config["train"]["lr"] == 0.1 and config["train"]["batch_size"] == 64
    wavenet = json.loads((out / "wavenet" / "config.json").read_text())
    # WaveNet: block 8, embedding 10, hidden 100; SGD batch 32, lr 0.1 -> 0.01 at 150k of 200k steps.
    assert wavenet["model_config"] == {"block_size": 8, "emb_dim": 10, "hidden": 100}
    assert wavenet["train"]["steps"] == 100 and wavenet["train"]["batch_size"] == 32
    assert (wavenet["train"]["schedule"], wavenet["train"]["decay_at"]) == ("step", 0.75)


def test_reproduce_rejects_a_bad_scale_or_row(cli, tmp_path):
    result = cli("reproduce", "--scale", "2", "--out", str(tmp_path / "r"))
    assert result.code == 2 and "--scale" in result.err
    result = cli("reproduce", "--models", "mlp,gpt", "--out", str(tmp_path / "r"))
    assert result.code == 2 and "no gpt" in result.err


def test_reproduce_chosen_rows(cli, tiny_names_file, tmp_path):
    result = cli(
        "reproduce",
        "--data",
        str(tiny_names_file),
        "--scale",
        "0.0005",
        "--models",
        "bigram,mlp-bn",
        "--out",
        str(tmp_path / "r"),
        "--quiet",
    )
    assert result.code == 0, result.err
    assert sorted(p.name for p in (tmp_path / "r").iterdir()) == ["bigram", "mlp-bn", "results.md"]
