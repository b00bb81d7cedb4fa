"""`villanueva tune`: trials are runs, the study continues, processes share it (SQLite, and PostgreSQL
when there is one), a killed trial is failed, the best is a command (and a preset) that trains to
the same loss; errors are one line."""

import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import optuna
import pytest

from villanueva.cli.tune import parse_duration
from villanueva.report import study_url
from villanueva.runs.run import CHECKPOINT, METRICS
from villanueva.tune import load_study

from helpers import NOTEBOOK_CSV, ONE_THREAD, TINY_NAMES, one_line, villanueva

TUNE = [sys.executable, "-m", "villanueva", "tune"]


@pytest.fixture(scope="module")
def names_file(tmp_path_factory) -> Path:
    """1,500 municipalities: trials of a few seconds, long enough to be killed in the middle of one."""
    rows = NOTEBOOK_CSV.read_text(encoding="utf-8").splitlines()[1:1501]
    path = tmp_path_factory.mktemp("data") / "names.txt"
    path.write_text("\n".join(row.split(",")[1].strip('"') for row in rows) + "\n", encoding="utf-8")
    return path


def trials(out: Path):
    return load_study(study_url(str(out / "study.db"))).trials


def test_tune_prints_a_command_that_trains_to_the_best_trials_loss_and_continues(
    cli, tiny_names_file, tmp_path
):
    out, preset = tmp_path / "tune", tmp_path / "best.json"
    common = ["tune", "--data", str(tiny_names_file), "--model", "mlp", "--out", str(out), "--threads", "1"]
    first = cli(*common, "--trials", "3", "--write-preset", str(preset))
    assert first.code == 0, first.err
    assert [t.number for t in trials(out)] == [0, 1, 2] and (out / "trial-0002" / METRICS).is_file()
    again = cli(*common, "--trials", "2")
    assert again.code == 0, again.err
    study = trials(out)
    assert [t.number for t in study] == [0, 1, 2, 3, 4]
    assert all(t.state.name in ("COMPLETE", "PRUNED") for t in study)
    # The same draws are not repeated when the study continues.
    assert study[3].params != study[0].params

    best = min((t for t in study if t.state.name == "COMPLETE"), key=lambda t: t.value)
    command = next(line for line in again.out.splitlines() if line.startswith("  villanueva train "))
    assert (
        cli(*shlex.split(command)[1:], "--quiet", "--threads", "1", "--out", str(tmp_path / "again")).code
        == 0
    )
    final = json.loads((tmp_path / "again" / METRICS).read_text().splitlines()[-1])
    assert final["best"]["val"] == pytest.approx(best.value, abs=1e-6)

    # The preset was written after the first three trials: it is the best of those.
    trained = cli(
        "train", "--preset", str(preset), "--data", str(tiny_names_file), "--out", str(tmp_path / "p")
    )
    assert trained.code == 0, trained.err
    first_best = min((t for t in study[:3] if t.state.name == "COMPLETE"), key=lambda t: t.value)
    final = json.loads((tmp_path / "p" / METRICS).read_text().splitlines()[-1])
    assert final["best"]["val"] == pytest.approx(first_best.value, abs=1e-6)

    table = cli("report", str(out / "study.db"))
    assert table.code == 0 and table.out.count("\n") == 2 + 5 and f"**{best.value:.4f}**" in table.out


def test_two_processes_share_one_sqlite_study(names_file, tmp_path):
    out = tmp_path / "shared"
    command = [*TUNE, "--data", str(names_file), "--model", "mlp", "--trials", "3", "--out", str(out)]
    processes = [
        subprocess.Popen([*command, "--threads", "1"], stdout=subprocess.PIPE, text=True) for _ in range(2)
    ]
    assert [process.wait(timeout=300) for process in processes] == [0, 0]
    study = trials(out)
    assert len({t.number for t in study}) == len(study) >= 3
    assert all(t.state.is_finished() for t in study)
    assert len({t.user_attrs["pid"] for t in study}) == 2  # both took part


def test_jobs_run_trials_side_by_side(names_file, tmp_path):
    out = tmp_path / "jobs"
    done = subprocess.run(
        [
            *TUNE,
            "--data",
            str(names_file),
            "--model",
            "mlp",
            "--trials",
            "4",
            "--jobs",
            "2",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    study = trials(out)
    assert len(study) == 4 and all(t.state.is_finished() for t in study)
    assert len({t.user_attrs["pid"] for t in study}) == 2
    assert sum(line.startswith("trial ") for line in done.stdout.splitlines()) == 4  # every trial is told


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=lambda s: s.name)
def test_a_killed_tunes_trial_is_failed_and_the_study_continues(names_file, tmp_path, signum):
    out = tmp_path / "killed"
    command = [*TUNE, "--data", str(names_file), "--model", "mlp", "--out", str(out), "--threads", "1"]
    process = subprocess.Popen(
        [*command, "--trials", "20"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.time() + 120
        while not (out / "trial-0001" / CHECKPOINT).is_file():  # in the middle of the second trial
            assert process.poll() is None and time.time() < deadline, process.stderr.read()
            time.sleep(0.05)
    finally:
        os.kill(process.pid, signum)
        code = process.wait(timeout=60)
    if signum == signal.SIGTERM:
        assert code == 128 + signum
        assert "continue the study" in process.stderr.read().decode()
    again = subprocess.run([*command, "--trials", "1"], capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    if signum == signal.SIGKILL:
        # Its process could not fail it: its heartbeat stopped, which any tune of the study reads as
        # death once the grace period is over (a reader of one second's grace stands in for that).
        assert trials(out)[1].state.name == "RUNNING"
        url = study_url(str(out / "study.db"))
        impatient = optuna.storages.RDBStorage(url, heartbeat_interval=1, grace_period=1)
        optuna.storages.fail_stale_trials(optuna.load_study(study_name="villanueva", storage=impatient))
    study = trials(out)
    assert study[1].state.name == "FAIL" and not any(t.state.name == "RUNNING" for t in study)
    assert study[-1].state.is_finished() and study[-1].number >= 2


POSTGRES = os.environ.get("VILLANUEVA_TEST_POSTGRES")  # a database URL; .ci/run starts one


@pytest.mark.skipif(not POSTGRES, reason="VILLANUEVA_TEST_POSTGRES names no PostgreSQL database")
def test_machines_share_a_postgresql_study_and_another_continues_it(tmp_path):
    """The README's "several machines" command, run in two folders at once (as on two machines),
    then in a third."""
    study = f"places-{uuid.uuid4().hex[:12]}"
    command = f"tune --storage {POSTGRES} --study {study} --data places.txt --model mlp --trials 3"
    machines = [tmp_path / f"machine-{i}" for i in range(3)]
    for machine in machines:
        machine.mkdir()
        (machine / "places.txt").write_text("\n".join(TINY_NAMES) + "\n", encoding="utf-8")

    def tune_on(machine):
        return subprocess.Popen(
            villanueva(*shlex.split(command)), cwd=machine, stderr=subprocess.PIPE, text=True, env=ONE_THREAD
        )

    def finished(process):
        _, errors = process.communicate(timeout=300)
        assert process.returncode == 0, errors

    try:
        together = [tune_on(machine) for machine in machines[:2]]
        for process in together:
            finished(process)
        shared = load_study(POSTGRES, study).trials
        # Each counts 3 trials from the study it found: 3 in all, or more if one started late.
        assert len(shared) >= 3 and [t.number for t in shared] == list(range(len(shared)))
        assert all(t.state.is_finished() for t in shared)
        later = tune_on(machines[2])
        finished(later)
        continued = load_study(POSTGRES, study).trials
        assert [t.number for t in continued] == list(range(len(shared) + 3))
        assert all(t.state.is_finished() for t in continued)
        assert {t.user_attrs["pid"] for t in continued[len(shared) :]} == {later.pid}
    finally:
        with contextlib.suppress(KeyError):  # no such study: the first tune failed before making it
            optuna.delete_study(study_name=study, storage=POSTGRES)


def test_durations():
    assert [parse_duration(text) for text in ("90", "90s", "30m", "2h", "1h30m", "1.5h")] == [
        90,
        90,
        1800,
        7200,
        5400,
        5400,
    ]


@pytest.mark.parametrize(
    "options, expected",
    [
        (["--timeout", "soon"], "is not a duration"),
        (["--timeout", "0m"], "must be positive"),
        ([], "give --trials N or --timeout TIME"),
        (["--trials", "0"], "must be positive"),
        (["--trials", "1", "--jobs", "0"], "must be positive"),
        (["--trials", "1", "--study", ""], "--study must be 1 to 512 printable characters, got ''"),
        (["--trials", "1", "--storage", "nosuchdb://x"], "cannot open the study database"),
        (["--trials", "1", "--storage", "sqlite:////proc/no/such/dir/study.db"], "cannot"),
    ],
    ids=[
        "timeout",
        "zero timeout",
        "no end",
        "trials",
        "jobs",
        "empty study",
        "storage url",
        "unwritable sqlite",
    ],
)
def test_mistakes_are_one_line(cli, tiny_names_file, tmp_path, options, expected):
    result = cli("tune", "--data", str(tiny_names_file), "--out", str(tmp_path / "t"), *options)
    assert expected in one_line(result)


def test_a_study_of_other_data_or_a_missing_one_is_refused(cli, tiny_names_file, tmp_path):
    out = tmp_path / "t"
    common = ["tune", "--model", "mlp", "--trials", "1", "--out", str(out), "--threads", "1"]
    assert cli(*common, "--data", str(tiny_names_file)).code == 0
    assert "tunes another list" in one_line(cli(*common, "--data", str(tiny_names_file), "--keep-accents"))
    other_model = [*common[:2], "gru", *common[3:], "--data", str(tiny_names_file)]
    assert "searches --model mlp, not gru" in one_line(cli(*other_model))
    other_study = [*common, "--data", str(tiny_names_file), "--study", "second"]
    assert "holds the trials of the study 'villanueva'" in one_line(cli(*other_study))
    read_only = (
        f"sqlite:///file:{out / 'study.db'}?mode=ro&uri=true"  # Optuna's guess: "exceeding max length"
    )
    assert one_line(cli(*common, "--data", str(tiny_names_file), "--storage", read_only)).endswith(
        ": attempt to write a readonly database\n"
    )
    assert ".json" in one_line(cli(*common, "--data", str(tiny_names_file), "--write-preset", "best"))
    assert "exists" in one_line(
        cli(
            *common, "--data", str(tiny_names_file), "--write-preset", str(out / "trial-0000" / "config.json")
        )
    )
    assert "no study database" in one_line(cli("report", str(tmp_path / "none.db")))
    assert not (tmp_path / "none.db").exists()
