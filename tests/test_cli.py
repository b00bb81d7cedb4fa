"""The CLI end to end on a tiny list, and every bad input of the first slice."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from villanueva.runs.run import REQUIRED


def test_train_writes_a_complete_run(cli, tiny_names_file, tmp_path):
    out = tmp_path / "run"
    result = cli(
        "train",
        "--data",
        str(tiny_names_file),
        "--steps",
        "40",
        "--hidden",
        "16",
        "--out",
        str(out),
        "--quiet",
    )
    assert result.code == 0, result.err
    assert "train loss" in result.out and "val loss" in result.out
    visible = {p.name for p in out.iterdir() if not p.name.startswith(".")}
    assert visible == {*REQUIRED, "metrics.jsonl", "samples.txt", "model.onnx"}  # the checkpoint is gone
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "mlp" and config["model_config"]["hidden"] == 16
    assert config["train"]["steps"] == 40
    records = [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]
    assert records[-1]["final"] and records[-2]["step"] == 40
    assert len((out / "samples.txt").read_text().splitlines()) == 20


def test_train_is_deterministic(cli, tiny_names_file, tmp_path):
    outputs = []
    for name in ("a", "b"):
        result = cli(
            "train",
            "--data",
            str(tiny_names_file),
            "--steps",
            "20",
            "--hidden",
            "8",
            "--seed",
            "3",
            "--out",
            str(tmp_path / name),
            "--quiet",
        )
        # Everything but the line with the training time and the line naming the directory.
        printed = [line for line in result.out.splitlines() if not line.startswith(("trained", "run "))]
        outputs.append((printed, (tmp_path / name / "model.safetensors").read_bytes()))
    assert outputs[0] == outputs[1]


def test_bigram_on_a_csv_column(cli, tmp_path):
    csv = tmp_path / "places.csv"
    csv.write_text("code,name\n" + "".join(f"{i},Villa {chr(97 + i % 26)}{i % 7}x\n" for i in range(40)))
    result = cli(
        "train",
        "--model",
        "bigram",
        "--data",
        str(csv),
        "--column",
        "name",
        "--out",
        str(tmp_path / "run"),
        "--quiet",
    )
    assert result.code == 0, result.err
    assert "(841 parameters)" not in result.out  # vocab of this file is not the default 29


def test_eval_prints_three_losses(cli, tiny_run):
    result = cli("eval", str(tiny_run))
    assert result.code == 0
    lines = result.out.splitlines()
    assert [line.rsplit(" ", 1)[0] for line in lines] == ["train loss", "val loss", "test loss"]
    assert all(0 < float(line.rsplit(" ", 1)[1]) < 10 for line in lines)


def test_eval_reports_the_saved_best_losses(cli, tiny_run):
    final = json.loads((tiny_run / "metrics.jsonl").read_text().splitlines()[-1])
    printed = dict(line.rsplit(" loss ", 1) for line in cli("eval", str(tiny_run)).out.splitlines())
    for part in ("train", "val", "test"):
        assert float(printed[part]) == pytest.approx(final["best"][part], abs=1e-4)


def test_sample_marks_or_drops_known_names(cli, tiny_run):
    result = cli("sample", str(tiny_run), "-n", "30", "--seed", "1", "--temperature", "0.8")
    assert result.code == 0 and len(result.out.splitlines()) == 30
    assert result.out == cli("sample", str(tiny_run), "-n", "30", "--seed", "1", "--temperature", "0.8").out
    new = cli("sample", str(tiny_run), "-n", "5", "--seed", "1", "--new-only")
    assert new.code == 0 and len(new.out.splitlines()) == 5
    assert "(in training data)" not in new.out


def test_score(cli, tiny_run):
    result = cli("score", "--run", str(tiny_run), "Villanueva de la Vera", "Torrelodones")
    assert result.code == 0
    assert [line.split("  ", 1)[1] for line in result.out.splitlines()] == [
        "Villanueva de la Vera",  # written as a place is
        "Torrelodones  (in training data)",  # a name of the run's data is marked
    ]


def test_every_command_names_its_run_with_dash_dash_run(cli, tiny_run):
    for command in (["sample", "-n", "3", "--seed", "1"], ["eval"], ["score", "Villalba"]):
        named = cli(*command, "--run", str(tiny_run))
        assert named.code == 0, named.err
        if command[0] != "score":  # RUN also works where the other arguments are not names
            assert named.out == cli(command[0], str(tiny_run), *command[1:]).out


def test_guess_reads_names_from_a_file_and_writes_every_format(cli, tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("Zugarramurdi\nVilanova de Bellpuig\n", encoding="utf-8")
    text = cli("guess", "--file", str(names), "--top", "2")
    assert text.code == 0 and len(text.out.splitlines()) == 2 and "%" in text.out
    rows = cli("guess", "--file", str(names), "--top", "2", "--format", "csv").out.splitlines()
    assert rows[0] == "name,rank,label,probability,real" and len(rows) == 1 + 2 * 2
    guesses = json.loads(cli("guess", "Zugarramurdi", "--top", "3", "--format", "json").out)
    assert guesses[0]["name"] == "Zugarramurdi" and len(guesses[0]["labels"]) == 3
    raw = json.loads(cli("guess", "Zugarramurdi", "--raw", "--format", "json").out)
    assert raw[0]["name"] == "zugarramurdi"  # the model's own form


def test_python_dash_m_and_console_script(tiny_run):
    console_script = Path(sys.executable).parent / "villanueva"  # installed beside the interpreter
    assert console_script.is_file(), "the villanueva console script is not installed"
    for command in ([sys.executable, "-m", "villanueva"], [str(console_script)]):
        done = subprocess.run([*command, "eval", str(tiny_run)], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("train loss ")


# --- bad input: one line on stderr, exit status 2, no traceback, no run directory left behind ---


def bad_input_files(tmp_path):
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "latin1.txt").write_bytes("Alcalá\nMóstoles\n".encode("latin-1"))
    (tmp_path / "few.txt").write_text("uno\ndos\ntres\n")
    (tmp_path / "only-punctuation.txt").write_text("()\n''\n")
    (tmp_path / "places.csv").write_text("code,name\n1,Alcalá\n")
    (tmp_path / "incomplete").mkdir()
    (tmp_path / "incomplete" / "config.json").write_text("{}")


BAD_TRAIN = {
    "missing file": ["--data", "{tmp}/nope.txt"],
    "empty file": ["--data", "{tmp}/empty.txt"],
    "not UTF-8": ["--data", "{tmp}/latin1.txt"],
    "nothing left after cleaning": ["--data", "{tmp}/only-punctuation.txt"],
    "missing CSV column": ["--data", "{tmp}/places.csv", "--column", "Nom"],
    "CSV without --column": ["--data", "{tmp}/places.csv"],
    "too few names to split": ["--data", "{tmp}/few.txt"],
    "unknown model": ["--model", "gpt-9"],
    "zero steps": ["--steps", "0"],
    "negative batch size": ["--batch-size", "-1"],
    "zero block size": ["--block-size", "0"],
    "BatchNorm with batches of one": ["--model", "mlp-bn", "--batch-size", "1", "--hidden", "4"],
    "naive init spelled wrong": ["--model", "deep-mlp", "--init", "random"],
    "non-numeric steps": ["--steps", "many"],
    "option of another model": ["--model", "bigram", "--hidden", "10"],
    "unknown recipe": ["--recipe", "slow"],
    "seed out of range": ["--seed", str(2**64)],
    "infinite learning rate": ["--lr", "inf"],
    "device that is not here": ["--device", "mps" if torch.cuda.is_available() else "cuda"],
    "unknown device": ["--device", "tpu"],
}


@pytest.mark.parametrize("case", list(BAD_TRAIN))
def test_bad_train_input(cli, tmp_path, case):
    bad_input_files(tmp_path)
    out = tmp_path / "run"
    args = [arg.format(tmp=tmp_path) for arg in BAD_TRAIN[case]]
    short = [] if "--steps" in args else ["--steps", "5"]
    result = cli("train", *args, *short, "--out", str(out), "--quiet")
    assert_one_line_error(result)
    assert not out.exists(), "a failed train must not leave a run directory behind"


BAD_USE = {
    "missing run": ["eval", "{tmp}/no-run"],
    "incomplete run": ["eval", "{tmp}/incomplete"],
    "zero temperature": ["sample", "{run}", "--temperature", "0"],
    "negative temperature": ["sample", "{run}", "--temperature", "-1"],
    "zero names": ["sample", "{run}", "-n", "0"],
    "seed out of range": ["sample", "{run}", "--seed", str(2**64)],
    "negative seed": ["sample", "{run}", "--seed", "-1"],
    "prefix outside the vocabulary": ["sample", "{run}", "--prefix", "x9"],
    "score a name outside the vocabulary": ["score", "--run", "{run}", "Zürich 2"],
    "a run given as a name to score": ["score", "{run}", "--file", "{tmp}/few.txt"],
    "a run given as a name to guess": ["guess", "{run}"],
    "two different runs": ["sample", "{run}", "--run", "{tmp}/other"],
    "eval without a run": ["eval"],
    "no command": [],
}


@pytest.mark.parametrize("case", list(BAD_USE))
def test_bad_use_of_a_run(cli, tmp_path, tiny_run, case):
    bad_input_files(tmp_path)
    assert_one_line_error(cli(*[arg.format(tmp=tmp_path, run=tiny_run) for arg in BAD_USE[case]]))


def test_existing_out_directory_is_never_overwritten(cli, tiny_run):
    before = (tiny_run / "model.safetensors").read_bytes()
    assert_one_line_error(cli("train", "--out", str(tiny_run), "--steps", "5", "--quiet"))
    assert (tiny_run / "model.safetensors").read_bytes() == before


def test_damaged_run_files(cli, tiny_run, tmp_path):
    # eval reads the export (model.onnx), export the weights (model.safetensors).
    for command, name, damage in [
        ("export", "model.safetensors", b"\x00\x01 not safetensors"),
        ("eval", "model.onnx", b"\x00\x01 not onnx"),
        ("eval", "config.json", b"{ truncated"),
        ("eval", "vocab.json", b'{"chars": [".", "a"]}'),
        ("export", "vocab.json", b'{"chars": [".", "a"]}'),
    ]:
        damaged = tmp_path / f"{command}-{name}"
        shutil.copytree(tiny_run, damaged)
        (damaged / name).write_bytes(damage)
        assert_one_line_error(cli(command, str(damaged)))


def assert_one_line_error(result):
    assert result.code == 2, (result.code, result.err)
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0], result.err


def test_choosing_threads_leaves_the_environment_alone():
    # Children (torchrun's, a user's) must not inherit a count as if the user had set it. A fresh
    # process: there the count is chosen before torch is loaded.
    code = (
        "import io, os, contextlib\n"
        "from villanueva.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['labels', '--threads', '1'])\n"
        "print(os.environ.get('OMP_NUM_THREADS'))"
    )
    env = {key: value for key, value in os.environ.items() if key != "OMP_NUM_THREADS"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.stdout == "None\n", result.stderr


def test_threads_are_set_from_the_option_and_a_bad_count_is_one_line(cli):
    import torch

    from villanueva.machine import use_threads

    before = torch.get_num_threads()
    try:
        assert use_threads(1) == torch.get_num_threads() == 1
        result = cli("eval", "nowhere", "--threads", "0")
        assert result.code == 2 and result.err.startswith("villanueva: error: --threads must be from 1 to ")
    finally:
        torch.set_num_threads(before)
