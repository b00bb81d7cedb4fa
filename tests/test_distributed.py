"""torchrun: two CPU processes (gloo) train like one process with the same global batch, rank 0
alone writes the run and prints, every process gets the run back, and an interrupted torchrun run
resumes under torchrun."""

import fcntl
import json
import os
import signal
import subprocess
import sys
import time

import pytest

from villanueva.runs.lock import LOCK
from villanueva.runs.run import CHECKPOINT, METRICS

from helpers import assert_same_run, wait_for_validations

TRAIN = ["--steps", "300", "--eval-every", "30", "--batch-size", "32", "--seed", "3", "--quiet"]
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}  # 2 processes on 2 cores


def torchrun(*args: str, processes: int = 2) -> list[str]:
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    return [*launcher, f"--nproc_per_node={processes}", "-m", "villanueva", *args]


def run(command: list[str]) -> subprocess.CompletedProcess:
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, env=ONE_THREAD)
    assert result.returncode == 0, result.stderr[:3000]
    return result


def metrics(run_dir) -> list[dict]:
    return [json.loads(line) for line in (run_dir / METRICS).read_text().splitlines()]


def losses(run_dir) -> list[float]:
    """The training and validation loss of every validation, in order."""
    validations = [record for record in metrics(run_dir) if "val_loss" in record and "step" in record]
    return [loss for record in validations for loss in (record["train_loss"], record["val_loss"])]


MODELS = [["--model", "mlp", "--hidden", "32"], ["--model", "gru", "--hidden", "24", "--dropout", "0"]]


@pytest.mark.parametrize("model", MODELS)
def test_two_gloo_processes_follow_the_single_process_curve(tiny_names_file, tmp_path, model):
    data = ["--data", str(tiny_names_file), *model, *TRAIN]
    single, double = tmp_path / "single", tmp_path / "double"
    run([sys.executable, "-m", "villanueva", "train", *data, "--out", str(single), "--threads", "1"])
    printed = run(torchrun("train", *data, "--out", str(double))).stdout
    assert printed.count("run saved in") == 1  # rank 0 prints for both
    # Rank 0 alone wrote: the same files, one record per validation.
    assert sorted(p.name for p in double.iterdir()) == sorted(p.name for p in single.iterdir())
    assert len(metrics(double)) == len(metrics(single)) == 12
    assert json.loads((double / "config.json").read_text())["machine"]["processes"] == 2
    ours, theirs = losses(double), losses(single)
    assert ours != theirs or model[1] == "mlp"  # (different arithmetic; the same numbers would be luck)
    # The same global batch of 32, split 16 + 16: the curves agree to rounding. The GRU's shards
    # hold names of different lengths, weighted by their characters, so these are comparable too.
    assert max(abs(a - b) for a, b in zip(ours, theirs)) < 1e-4, (ours, theirs)
    assert ours[-2] < ours[0] - 0.5  # and it learned (the training loss)


LIBRARY_SCRIPT = """
import json, os, sys
import villanueva as vn

names, out, answers = sys.argv[1:]
model = vn.train(names, out=out, hidden=32, steps=60, eval_every=30, batch_size=32, progress=False)
answer = {"path": str(model.path), "val": model.result.best["val"], "names": model.sample(3, seed=1).names}
with open(f"{answers}-{os.environ['RANK']}.json", "w") as file:
    json.dump(answer, file)
"""


def test_every_process_gets_the_trained_run(tiny_names_file, tmp_path):
    script, out, answers = tmp_path / "train.py", tmp_path / "run", tmp_path / "answer"
    script.write_text(LIBRARY_SCRIPT)
    launcher = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2"]
    run([*launcher, str(script), str(tiny_names_file), str(out), str(answers)])
    first, second = (json.loads((tmp_path / f"answer-{rank}.json").read_text()) for rank in (0, 1))
    assert first == second and first["path"] == str(out)  # rank 1 reads the run rank 0 wrote


def test_an_interrupted_torchrun_run_resumes_under_torchrun(tiny_names_file, tmp_path):
    data = ["--data", str(tiny_names_file), "--model", "mlp", "--hidden", "32", *TRAIN, "--steps", "3000"]
    reference, interrupted = tmp_path / "reference", tmp_path / "interrupted"
    run(torchrun("train", *data, "--out", str(reference)))
    launcher = subprocess.Popen(
        torchrun("train", *data, "--out", str(interrupted)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ONE_THREAD,
    )
    wait_for_validations(interrupted, 20, launcher)
    launcher.send_signal(signal.SIGTERM)  # torchrun passes it on to every process
    _, stderr = launcher.communicate(timeout=120)
    assert launcher.returncode != 0 and (interrupted / CHECKPOINT).exists(), stderr[-3000:]
    assert "Resume with" in stderr
    wait_until_unlocked(interrupted)
    run(torchrun("train", "--resume", str(interrupted), "--quiet"))
    assert_same_run(interrupted, reference)  # without dropout, bit for bit


def test_a_used_run_directory_stops_every_process(tiny_names_file, tmp_path, tiny_run):
    result = subprocess.run(
        torchrun("train", "--data", str(tiny_names_file), "--out", str(tiny_run), "--quiet"),
        capture_output=True,
        text=True,
        timeout=300,
        env=ONE_THREAD,
    )
    # Rank 0 says why; rank 1 stops instead of waiting for it at the first gradient (when
    # torchrun, seeing rank 0 exit 2, has not already stopped it); torchrun reports, exit 1.
    assert result.returncode == 1
    assert f"villanueva: error: run directory {tiny_run} already exists" in result.stderr


def wait_until_unlocked(run_directory) -> None:
    """Until no process holds the run's lock: torchrun may return before its workers have exited."""
    deadline = time.monotonic() + 60
    with open(run_directory / LOCK) as lock:
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                assert time.monotonic() < deadline, "the interrupted workers still hold the run"
                time.sleep(0.01)
            else:
                fcntl.flock(lock, fcntl.LOCK_UN)
                return
