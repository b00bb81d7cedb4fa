"""Reliability: kill -9 and Ctrl-C lose nothing, resume is exact, one trainer per run, NaN stops.

These run the real CLI in subprocesses, since signals and locks are about processes.
"""

import json
import signal

import pytest

from villanueva.runs.run import CHECKPOINT

from helpers import TRAIN, assert_same_run, finish, kill_9_at_random_then_resume, start, wait_for_validations


def test_kill_9_then_resume_equals_an_uninterrupted_run(reference, tmp_path):
    names, reference_run = reference
    run = tmp_path / "killed"
    kill_9_at_random_then_resume(run, "--data", str(names), *TRAIN, delay=0.05)
    assert_same_run(run, reference_run)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP], ids=lambda s: s.name)
def test_ctrl_c_sigterm_and_sighup_save_and_say_how_to_resume(reference, tmp_path, signum):
    names, reference_run = reference
    run = tmp_path / "interrupted"
    process = start("train", "--data", str(names), *TRAIN, "--out", str(run))
    wait_for_validations(run, 3, process)
    process.send_signal(signum)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 128 + signum, stderr
    assert f"villanueva train --resume {run}" in stderr and "Traceback" not in stderr
    resumed = finish("train", "--resume", str(run), "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert_same_run(run, reference_run)


def test_a_second_trainer_is_refused(reference, tmp_path):
    names, _ = reference
    run = tmp_path / "busy"
    first = start(
        "train", "--data", str(names), "--steps", "100000", "--hidden", "64", "--quiet", "--out", str(run)
    )
    try:
        wait_for_validations(run, 1, first)
        second = finish("train", "--resume", str(run), "--quiet")
        assert second.returncode == 2
        assert f"being trained by another process (pid {first.pid})" in second.stderr
        assert len(second.stderr.strip().splitlines()) == 1
        assert first.poll() is None, "the first trainer must go on untouched"
    finally:
        first.kill()
        first.wait()


def test_diverging_loss_stops_with_the_step_and_advice(reference, tmp_path):
    names, _ = reference
    run = tmp_path / "nan"
    done = finish(
        "train",
        "--data",
        str(names),
        "--recipe",
        "notebook",
        "--lr",
        "1e36",
        "--steps",
        "400",
        "--hidden",
        "64",
        "--quiet",
        "--out",
        str(run),
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert "training diverged" in done.stderr and "lower --lr" in done.stderr
    assert (run / CHECKPOINT).exists(), "the last good checkpoint is kept"
    assert finish("train", "--lr", "1e37", "--out", str(tmp_path / "absurd")).returncode == 2


def test_resume_mistakes(reference, tmp_path, cli):
    names, reference_run = reference
    assert_error(cli("train", "--resume", str(reference_run)), "finished training")
    assert_error(cli("train", "--resume", str(tmp_path / "nowhere")), "no run to resume")
    assert_error(cli("train", "--resume", str(reference_run), "--lr", "0.1"), "drop --lr")
    damaged = tmp_path / "damaged"
    process = start("train", "--data", str(names), *TRAIN, "--out", str(damaged))
    wait_for_validations(damaged, 2, process)
    process.kill()
    process.wait()
    checkpoint = (damaged / CHECKPOINT).read_bytes()
    (damaged / CHECKPOINT).write_bytes(checkpoint[: len(checkpoint) // 2])  # truncated
    assert_error(cli("train", "--resume", str(damaged)), "not a readable checkpoint")
    (damaged / CHECKPOINT).write_bytes(b"")
    assert_error(cli("train", "--resume", str(damaged)), "not a readable checkpoint")
    config = json.loads((damaged / "config.json").read_text())
    (damaged / "config.json").write_text(json.dumps({**config, "format": 99}))
    assert_error(cli("train", "--resume", str(damaged)), "this version of villanueva")


def assert_error(result, words: str) -> None:
    assert result.code == 2, result.err
    assert words in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_checkpoint_from_another_model_is_refused(reference, tmp_path, cli):
    names, _ = reference
    run = tmp_path / "mismatch"
    process = start("train", "--data", str(names), *TRAIN, "--out", str(run))
    wait_for_validations(run, 1, process)
    process.kill()
    process.wait()
    config = json.loads((run / "config.json").read_text())
    config["model_config"]["hidden"] = 32  # the checkpoint holds hidden-64 weights
    (run / "config.json").write_text(json.dumps(config))
    assert_error(
        cli("train", "--resume", str(run)), "the checkpoint does not fit the model that its run's config.json"
    )
