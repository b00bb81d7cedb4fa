"""The cases of a hostile pass over the CLI (issue 17): each must end in exit 0 with the right
result, or exit 2 (3 for a sample's spent budget) with one line on stderr, no traceback, and, where
it is about data, nothing lost. Signals and start-up run the real CLI in subprocesses."""

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest
import safetensors.torch
import torch
from safetensors import safe_open

from villanueva.runs.run import CHECKPOINT, CONFIG, METRICS, SPLIT, VOCAB, WEIGHTS

from helpers import TINY_NAMES, TRAIN, assert_same_run, one_line, start

FAST = ["--steps", "20", "--hidden", "8", "--quiet"]


def train(cli, names: Path, out: Path, *options: str):
    """`villanueva train` on the names file `names` into `out`, with `options`."""
    return cli("train", "--data", str(names), *options, "--out", str(out))


def snapshot(run: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(run.iterdir()) if path.is_file()}


# --- work is never destroyed --------------------------------------------------------------------


def test_report_never_overwrites_a_file_of_a_run(cli, tiny_run):
    before = snapshot(tiny_run)
    for name in (CONFIG, WEIGHTS):
        one_line(cli("report", str(tiny_run), "--out", str(tiny_run / name), "--force"))
    assert snapshot(tiny_run) == before


@pytest.fixture
def interrupted(cli, tiny_names_file, tmp_path):
    """A run stopped after its first validations, with a checkpoint to resume from."""
    from villanueva.training import trainer

    run = tmp_path / "interrupted"
    original = trainer._Loop._validate

    def stop_after_two(self, seconds):
        original(self, seconds)
        if len(self.state.history) == 2:
            raise KeyboardInterrupt

    trainer._Loop._validate = stop_after_two
    try:
        cli("train", "--data", str(tiny_names_file), *FAST, "--steps", "200", "--out", str(run))
    finally:
        trainer._Loop._validate = original
    assert (run / CHECKPOINT).exists()
    return run


def rewrite_checkpoint(run: Path, change) -> None:
    """Apply `change(meta, tensors)` to the run's checkpoint."""
    with safe_open(str(run / CHECKPOINT), "pt") as reader:
        tensors = {name: reader.get_tensor(name) for name in reader.keys()}
        meta = json.loads(reader.metadata()["villanueva_checkpoint"])
    change(meta, tensors)
    safetensors.torch.save_file(tensors, str(run / CHECKPOINT), {"villanueva_checkpoint": json.dumps(meta)})


def first_weights(tensors: dict, prefix: str, change) -> None:
    name = next(name for name in tensors if name.startswith(prefix) and tensors[name].is_floating_point())
    tensors[name] = change(tensors[name])


@pytest.mark.parametrize(
    "damage, says",
    [
        (lambda meta, _: meta.update(history="not a list"), "not a list of validation records"),
        (lambda meta, _: meta.update(step=-5), "step -5 is not a whole number"),
        (lambda meta, _: meta.update(step="ten"), "step 'ten' is not a whole number"),
        (lambda meta, _: meta.update(step=10**12), "is not a whole number from 0 to the run's 200 steps"),
        (lambda meta, _: meta.update(history=[{"step": 3, "val_loss": None}]), "not a list of validation"),
        (lambda meta, _: meta.update(history=meta["history"] * 50), "do not rise from 1 to its step"),
        (lambda meta, _: meta.update(cursor=10**30), "batch cursor is not a whole number"),
        (lambda meta, _: meta.update(seconds=-1), "training time -1 is not a number of seconds"),
        (lambda meta, _: meta.update(initial_loss=None), "initial loss is not a number"),
        (lambda _, tensors: first_weights(tensors, "model.", lambda w: w[:1]), "does not fit"),
        (lambda _, t: first_weights(t, "model.", lambda w: w * float("nan")), "damaged: its 'embedding"),
        (lambda _, t: first_weights(t, "best.", lambda w: w.long()), "best weights does not fit"),
        (lambda _, t: first_weights(t, "optimizer.", lambda w: w / 0), "holds NaN or infinite values"),
    ],
    ids=[
        "history a string",
        "negative step",
        "step a string",
        "step 10^12",
        "history without losses",
        "history 50 times over",
        "cursor 10^30",
        "negative time",
        "no initial loss",
        "weights of another shape",
        "NaN weights",
        "integer best weights",
        "infinite optimizer moments",
    ],
)
def test_a_damaged_checkpoint_is_refused_and_the_run_left_as_it_was(cli, interrupted, damage, says):
    rewrite_checkpoint(interrupted, damage)
    before = snapshot(interrupted)
    message = one_line(cli("train", "--resume", str(interrupted), "--quiet"))
    assert says in message and "--lr" not in message
    assert snapshot(interrupted) == before


# --- bounded resources --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        ["--threads", "1000000"],
        ["--block-size", "1000000"],
        ["--model", "deep-mlp", "--depth", "10000"],
        ["--hidden", "1000000000"],
        ["--steps", str(10**15)],
        ["--eval-every", str(10**12)],
    ],
    ids=["threads", "block size", "depth", "hidden", "steps", "eval every"],
)
def test_sizes_that_cannot_fit_are_refused_before_anything_is_written(
    cli, tiny_names_file, tmp_path, options
):
    run = tmp_path / "run"
    one_line(cli("train", "--data", str(tiny_names_file), "--quiet", *options, "--out", str(run)))
    assert not run.exists()


def test_a_config_json_asking_for_a_huge_model_is_refused(cli, tiny_run, tmp_path):
    damaged = tmp_path / "huge"
    damaged.mkdir()
    for path in tiny_run.iterdir():
        if path.is_file():
            (damaged / path.name).write_bytes(path.read_bytes())
    config = json.loads((damaged / CONFIG).read_text())
    # Within the declared bounds, each size alone; together 3 * 2**40 weights.
    config["model_config"]["hidden"] = config["model_config"]["emb_dim"] = 2**20
    (damaged / CONFIG).write_text(json.dumps(config))
    assert "memory" in one_line(cli("export", str(damaged)))


def test_a_name_of_a_megabyte_is_refused_with_the_count_and_the_limit(cli, tmp_path):
    data = tmp_path / "names.txt"
    data.write_text("\n".join(["ana", "bea", "x" * 1_000_000, "lena", "nel", "belen", "abel"]) + "\n")
    error = one_line(cli("train", "--data", str(data), *FAST, "--out", str(tmp_path / "run")))
    assert "1 names are longer than 200 characters" in error and "1,000,000" in error
    assert "longer than a name can be" in one_line(cli("score", "x" * 300))


def test_sample_streams_its_names_as_they_are_made(tiny_run):
    process = subprocess.Popen(
        [sys.executable, "-m", "villanueva", "sample", str(tiny_run), "-n", "10000000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline()
        assert first.strip() and process.poll() is None  # a name is out while the rest are being made
    finally:
        process.kill()
        process.wait()


# --- damaged runs and bad files -----------------------------------------------------------------


def damaged_copy(run: Path, tmp_path: Path, name: str, content: bytes) -> Path:
    copy = tmp_path / f"damaged-{name}"
    copy.mkdir()
    for path in run.iterdir():
        if path.is_file():
            (copy / path.name).write_bytes(path.read_bytes())
    (copy / name).write_bytes(content)
    return copy


DAMAGE = {
    "deeply nested config.json": (CONFIG, b"[" * 100_000 + b"]" * 100_000),
    "split.json with no val names": (SPLIT, json.dumps({"train": ["a"], "val": [], "test": ["b"]}).encode()),
    "split.json not an object": (SPLIT, b"[1, 2]"),
    "vocab.json of numbers": (VOCAB, b'{"chars": [1, 2]}'),
    "metrics.jsonl not UTF-8": (METRICS, b"\xff\xfe\x00garbage\n"),
    "a final record null": (METRICS, b'{"step": 0, "initial_loss": 3.3}\nnull\n'),
    "best null": (METRICS, json.dumps({"final": True, "steps": 1, "best": None}).encode() + b"\n"),
}


@pytest.mark.parametrize("case", DAMAGE, ids=list(DAMAGE))
@pytest.mark.parametrize("command", ["eval", "sample", "score", "report"])
def test_a_damaged_run_is_one_line(cli, tiny_run, tmp_path, case, command):
    name, content = DAMAGE[case]
    run = damaged_copy(tiny_run, tmp_path, name, content)
    args = {"eval": [str(run)], "sample": [str(run), "-n", "2"], "score": ["--run", str(run), "ana"]}
    result = cli(command, *args.get(command, [str(run)]))
    if result.code == 0:  # this command does not read the damaged file
        assert command == "report" or name == METRICS, result.out
    else:
        one_line(result)


def test_weights_of_nan_are_refused_as_damaged(cli, tiny_run, tmp_path):
    state = safetensors.torch.load_file(str(tiny_run / WEIGHTS))
    state = {
        name: torch.full_like(t, float("nan")) if t.is_floating_point() else t for name, t in state.items()
    }
    run = damaged_copy(tiny_run, tmp_path, WEIGHTS, safetensors.torch.save(state))
    assert "NaN" in one_line(cli("export", str(run)))


@pytest.mark.parametrize(
    "out",
    ["{tmp}", "{tmp}/missing/report.md", "/proc/report.md"],
    ids=["a directory", "a missing folder", "/proc"],
)
def test_report_out_where_nothing_can_be_written(cli, tiny_run, tmp_path, out):
    one_line(cli("report", str(tiny_run), "--out", out.format(tmp=tmp_path)))


def test_a_run_directory_that_cannot_be_written(cli, interrupted, monkeypatch):
    from villanueva.runs import lock

    def read_only(*args, **kwargs):
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(lock, "open", read_only, raising=False)
    assert "Read-only file system" in one_line(cli("train", "--resume", str(interrupted), "--quiet"))


def test_a_full_disk_is_one_line_and_resume_after_it_equals_an_uninterrupted_run(
    cli, reference, tmp_path, monkeypatch
):
    from villanueva.runs import files

    names, reference_run = reference
    run, writes = tmp_path / "full", []
    real_fsync = os.fsync

    def fsync_until_full(fd):
        writes.append(fd)
        if len(writes) == 40:  # some checkpoints in
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(files.os, "fsync", fsync_until_full)
    error = one_line(cli("train", "--data", str(names), *TRAIN, "--out", str(run)))
    assert "disk full while writing" in error and "--resume" in error
    monkeypatch.setattr(files.os, "fsync", real_fsync)  # space freed
    assert cli("train", "--resume", str(run), "--quiet").code == 0
    assert_same_run(run, reference_run)


# --- stuck states and signals -------------------------------------------------------------------


def test_a_run_stopped_before_its_first_checkpoint_resumes_from_step_0(cli, reference, tmp_path):
    names, reference_run = reference
    stub = tmp_path / "stub"
    stub.mkdir()
    for name in (CONFIG, SPLIT, VOCAB):  # what a run has before its first checkpoint
        (stub / name).write_bytes((reference_run / name).read_bytes())
    (stub / METRICS).write_text('{"step": 0, "initial_loss": 3.3}\n{"step": 75, "tor')
    assert cli("train", "--resume", str(stub), "--quiet").code == 0
    assert_same_run(stub, reference_run)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=lambda s: s.name)
def test_a_signal_during_start_up_is_one_line(tmp_path, signum):
    process = start("train", "--steps", "10", "--quiet", "--out", str(tmp_path / "run"))
    wait_for_torch_to_load(process)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    # CPython ends a process by the signal itself (-2) rather than with 130 when a KeyboardInterrupt
    # ever passed through its own running of code, as it can inside an import, even though main()
    # caught it. A shell reports both as 130.
    assert process.returncode in {128 + signum, -signum}, stderr
    assert stderr.strip().splitlines() == [f"villanueva: interrupted ({signal.Signals(signum).name})"]


def wait_for_torch_to_load(process) -> None:
    """Until the process maps PyTorch's library: it is importing torch, in the middle of start-up."""
    maps, deadline = Path(f"/proc/{process.pid}/maps"), time.monotonic() + 60
    while "libtorch" not in maps.read_text():
        assert process.poll() is None and time.monotonic() < deadline, "the process never loaded torch"
        time.sleep(0.005)


# --- accepted when it should be refused ---------------------------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        ["--model", "bigram", "--smoothing", "nan"],
        ["--model", "bigram", "--smoothing", "inf"],
        ["--model", "bigram", "--smoothing", "1e300"],
        ["--model", "mlp-bn", "--last-layer-scale", "nan"],
        ["--model", "mlp-bn", "--last-layer-scale", "inf"],
        ["--dropout", "nan", "--model", "gru"],
    ],
    ids=["smoothing nan", "smoothing inf", "smoothing 1e300", "scale nan", "scale inf", "dropout nan"],
)
def test_non_finite_values_are_refused(cli, tiny_names_file, tmp_path, options):
    one_line(cli("train", "--data", str(tiny_names_file), *FAST, *options, "--out", str(tmp_path / "r")))
    assert not (tmp_path / "r").exists()


def test_a_loss_far_above_the_untrained_one_stops_training(cli, tiny_names_file, tmp_path):
    error = one_line(train(cli, tiny_names_file, tmp_path / "r", "--steps", "300", "--lr", "1e30", "--quiet"))
    assert "diverged" in error and "lower --lr" in error
    json.loads((tmp_path / "r" / CONFIG).read_text())  # strict JSON


def test_the_largest_seed_trains_and_samples(cli, tiny_names_file, tmp_path):
    run = tmp_path / "r"
    assert (
        train(cli, tiny_names_file, run, "--model", "bigram", "--seed", str(2**63 - 1), "--quiet").code == 0
    )
    assert cli("sample", str(run), "-n", "3", "--seed", str(2**63 - 1)).code == 0
    one_line(train(cli, tiny_names_file, tmp_path / "s", "--seed", str(2**63), "--quiet"))


@pytest.mark.parametrize("delimiter", [";", "\t", "|"], ids=["semicolon", "tab", "bar"])
def test_csv_delimiters_are_detected(cli, tmp_path, delimiter):
    from conftest import TINY_NAMES

    data = tmp_path / "places.csv"
    data.write_text(
        f"id{delimiter}nombre\n"
        + "".join(f"{i}{delimiter}{n.replace(',', '')}\n" for i, n in enumerate(TINY_NAMES))
    )
    result = cli(
        "train",
        "--data",
        str(data),
        "--column",
        "nombre",
        "--model",
        "bigram",
        "--quiet",
        "--out",
        str(tmp_path / "r"),
    )
    assert result.code == 0, result.err


def test_a_column_named_twice_is_refused(cli, tmp_path):
    data = tmp_path / "twice.csv"
    data.write_text("name,name\n" + "".join(f"a{i},b{i}\n" for i in range(20)))
    assert "2 columns named 'name'" in one_line(
        cli("train", "--data", str(data), "--column", "name", "--out", str(tmp_path / "r"))
    )


def test_a_symlink_loop_is_named(cli, tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    assert "symlink loop" in one_line(
        cli("train", "--data", str(tmp_path / "a"), "--out", str(tmp_path / "r"))
    )


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 cores to compare 1 and 2 threads")
@pytest.mark.parametrize("model", ["mlp", "gru"])
def test_the_thread_count_does_not_change_the_numbers(cli, tiny_names_file, tmp_path, model):
    weights = []
    for threads in ("1", "2"):
        run = tmp_path / f"t{threads}"
        assert train(cli, tiny_names_file, run, "--model", model, *FAST, "--threads", threads).code == 0
        weights.append((run / WEIGHTS).read_bytes())
    assert weights[0] == weights[1]


def test_no_command_writes_over_a_run_or_an_existing_file(cli, tiny_run, tmp_path):
    """lr-find's plot and report's table go through one check of a file the user names."""
    before = {path: path.read_bytes() for path in tiny_run.rglob("*") if path.is_file()}
    (tiny_run / "plots").mkdir(exist_ok=True)
    inside = one_line(cli("lr-find", "--out", str(tiny_run / "plots" / "loss.png")))
    assert "inside the run directory" in inside
    existing = tmp_path / "mine.png"
    existing.write_bytes(b"a picture of mine")
    assert "exists; choose a new file, or replace it with --force" in one_line(
        cli("lr-find", "--out", str(existing))
    )
    assert existing.read_bytes() == b"a picture of mine"
    dangling = tmp_path / "dangling.md"
    dangling.symlink_to(tmp_path / "nowhere")
    refused = cli("report", str(tiny_run), "--out", str(dangling))
    assert "exists; choose a new file, or replace it with --force" in one_line(refused)
    assert refused.out == ""  # the error comes before the table
    assert {path: path.read_bytes() for path in tiny_run.rglob("*") if path.is_file()} == before


PRESET_VALUES = {
    "a float for a whole number": ({"hidden": 1e9}, {}, "--hidden must be a whole number"),
    "a text for a whole number": ({"hidden": "300"}, {}, "--hidden must be a whole number"),
    "true for a whole number": ({"hidden": True}, {}, "--hidden must be a whole number"),
    "a text for a number": ({"dropout": "0.1"}, {}, "--dropout must be a number"),
    "a stack too deep to build": ({"layers": 10**6}, {}, "--layers must be at least 1 and at most 1,000"),
    "a fractional seed": ({}, {"seed": 1.5}, "--seed must be a whole number"),
    "fractional steps": ({}, {"steps": 100.5}, "--steps must be a whole number"),
    "a list for a number": ({}, {"lr": [0.01]}, "--lr must be a number"),
}


@pytest.mark.parametrize("case", PRESET_VALUES, ids=list(PRESET_VALUES))
def test_a_presets_values_are_checked_by_their_declarations(cli, tmp_path, case):
    model_options, training, expected = PRESET_VALUES[case]
    preset = tmp_path / "preset.json"
    preset.write_text(json.dumps({"model": "gru", "model_options": model_options, "training": training}))
    names = tmp_path / "names.txt"
    names.write_text("\n".join(TINY_NAMES) + "\n")
    error = one_line(train(cli, names, tmp_path / "run", "--preset", str(preset)))
    assert expected in error
    assert not (tmp_path / "run").exists()  # refused before the run directory is made


def test_json_nested_too_deep_is_one_line(cli, tiny_run, tmp_path):
    preset = tmp_path / "deep.json"
    preset.write_text("[" * 100_000)
    names = tmp_path / "names.txt"
    names.write_text("\n".join(TINY_NAMES) + "\n")
    assert "nested too deeply" in one_line(train(cli, names, tmp_path / "run", "--preset", str(preset)))
    for kind, line in {"deep": "[" * 100_000, "null": "null"}.items():  # before the last line: not torn
        metrics = (tiny_run / METRICS).read_text().splitlines()
        (tmp_path / kind).mkdir()
        run = damaged_copy(tiny_run, tmp_path / kind, METRICS, "\n".join([line, *metrics, ""]).encode())
        for command in ("report", "diagnose"):
            assert "is damaged: line 1 is not a JSON object" in one_line(cli(command, str(run)))


@pytest.mark.parametrize("command", ["tune", "reproduce"])
@pytest.mark.parametrize("where", ["an existing file", "/proc"])
def test_a_folder_that_cannot_be_made_is_one_line(cli, tmp_path, command, where):
    out = tmp_path / "afile" if where == "an existing file" else Path("/proc/villanueva-out")
    if where == "an existing file":
        out.write_text("mine")
    extra = ["--trials", "1"] if command == "tune" else ["--models", "bigram"]
    error = one_line(cli(command, "--out", str(out), *extra))
    assert f"{out} is a file; name a folder" in error or f"cannot create --out {out}" in error
    if where == "an existing file":
        assert out.read_text() == "mine"


def test_settings_that_would_train_nothing_or_forever_are_refused(cli, tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("\n".join(TINY_NAMES) + "\n")
    warm = one_line(train(cli, names, tmp_path / "run", "--steps", "10", "--warmup", "10", "--quiet"))
    assert "--warmup 10 is not less than the 10 steps" in warm and not (tmp_path / "run").exists()
    sweep = one_line(cli("lr-find", "--data", str(names), "--steps", str(10**9)))
    assert "--steps must be from 2 to 100,000,000 for a sweep" in sweep


@pytest.mark.parametrize("option", ["--top-p", "--temperature"])
def test_a_vanishing_top_p_or_temperature_draws_the_likeliest_names(cli, option):
    # Below what float32 holds they once acted as zero and ended in a shortfall blamed on nothing.
    result = cli("sample", "-n", "5", "--seed", "1", option, "1e-300")
    assert result.code == 0 and len(result.out.splitlines()) == 5 and result.err == ""


def test_a_database_password_never_shows():
    from villanueva.tune.study import _first_line, masked

    url = "postgresql://vn:s3cret@db.example:5432/studies"
    assert masked(url) == "postgresql://vn:***@db.example:5432/studies"
    assert masked("sqlite:////tmp/study.db") == "sqlite:////tmp/study.db"
    assert "s3cret" not in _first_line(ValueError(f"could not connect to {url}\nmore"), url)


@pytest.mark.parametrize(
    ("rows", "expected"),
    [
        ('ana,x\n"bea,y\nlena,z\nnel,w\n', "line 5: a field runs over several lines (a quote left open?)"),
        ("ana,x\nbea\nlena,z\n", "line 3: 1 fields where the header has 2"),
        ("ana,x\nbea,y,z\n", "line 3: 3 fields where the header has 2"),
    ],
    ids=["a quote left open", "a field too few", "a field too many"],
)
def test_a_csv_that_would_mangle_or_drop_names_is_refused(cli, tmp_path, rows, expected):
    data = tmp_path / "names.csv"
    data.write_text("nom,prov\n" + rows)
    error = one_line(cli("train", "--data", str(data), "--column", "nom", "--out", str(tmp_path / "run")))
    assert expected in error and not (tmp_path / "run").exists()


def test_weights_too_large_for_float32_are_refused_where_scores_come_out(cli, tiny_run, tmp_path):
    """An export's weights are not read, so its non-finite results are refused instead: sampling,
    scoring and JSON output once ended in a shortfall blamed on --max-length, or a traceback."""
    from villanueva.inference.export import export_model
    from villanueva.runs import load_run

    run = tmp_path / "huge"
    shutil.copytree(tiny_run, run)
    model = load_run(run).model
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.fill_(3e38)
    export_model(model, run / "model.onnx")
    safetensors.torch.save_file(model.state_dict(), str(run / WEIGHTS))  # what diagnose reads
    for command in (
        ["sample", str(run), "-n", "3"],
        ["score", "--run", str(run), "ana", "--format", "json"],
        ["diagnose", str(run)],
    ):
        with warnings.catch_warnings():  # numpy's RuntimeWarning would be more lines on stderr
            warnings.simplefilter("error")
            assert "NaN or infinite: its weights are damaged or too large" in one_line(cli(*command))


def test_weights_of_another_dtype_are_refused_not_cast(cli, tiny_run, tmp_path):
    """load_state_dict casts silently: integer weights once loaded as a near-uniform model."""
    state = safetensors.torch.load_file(str(tiny_run / WEIGHTS))
    state = {name: t.long() if t.is_floating_point() else t for name, t in state.items()}
    run = damaged_copy(tiny_run, tmp_path, WEIGHTS, safetensors.torch.save(state))
    (run / "model.onnx").unlink()  # else sampling reads the export, not these weights
    for command in (["eval", str(run)], ["sample", str(run)], ["diagnose", str(run)], ["export", str(run)]):
        assert "is int64 (" in one_line(cli(*command))


@pytest.mark.parametrize(
    "command",
    [["sample", "-n", str(10**7)], ["score", "--file", "{names}", "--label", "Madrid"]],
    ids=["sample", "score"],
)
def test_a_signal_in_the_middle_of_long_work_stops_it_at_once(tmp_path, command):
    """Long work is many short tensor calls, so a signal is handled within one of them."""
    names = tmp_path / "names.txt"
    names.write_text("villanueva del pardillo\n" * 200_000)
    process = start(*(part.format(names=names) for part in command))
    assert process.stdout.readline()  # the work is under way
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=10)
    assert process.returncode == 128 + signal.SIGTERM, stderr
    assert stderr.strip().splitlines() == ["villanueva: interrupted (SIGTERM)"]
