"""What several test modules share: the small data lists, running the CLI in a subprocess, and
the checks of a resumed run and of a one-line error. Fixtures stay in conftest.py."""

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from villanueva.runs.run import CHECKPOINT, METRICS

# The notebooks' data, copied into the repository with its provenance (tests/data/README.md).
NOTEBOOK_CSV = Path(__file__).resolve().parent / "data" / "Municipis_d_Espanya.csv"

# A small list in the notebooks' style, enough to split 80/10/10 and train for a few steps.
TINY_NAMES = """Villanueva de la Serena
Villanueva del Arzobispo
Villafranca del Bierzo
Villalba
Villaverde
Valdemoro
Valdepeñas
Torrejón de Ardoz
Torrelodones
Torremolinos
Alcalá de Henares
Alcobendas
Alcorcón
Rozas de Madrid, Las
Agurain/Salvatierra
San Sebastián de los Reyes
Santa Cruz de Tenerife
Santiago de Compostela
Puebla de Sanabria
Pobla de Segur, La
""".splitlines()


TRAIN = ["--steps", "1500", "--hidden", "64", "--seed", "5", "--quiet"]
# One thread in every process: a run and its reference must sum their losses in the same order
# (by default each process takes the cores idle when it starts, which a busy machine varies; the
# weights come out the same either way, the initial loss's last bits did not).
ONE_THREAD = {**os.environ, "OMP_NUM_THREADS": "1"}


def villanueva(*args: str) -> list[str]:
    return [sys.executable, "-m", "villanueva", *args]


def start(*args: str) -> subprocess.Popen:
    return subprocess.Popen(
        villanueva(*args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ONE_THREAD
    )


def finish(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(villanueva(*args), capture_output=True, text=True, timeout=300, env=ONE_THREAD)


def validations(run) -> int:
    path = run / METRICS
    return path.read_text().count('"val_loss"') if path.exists() else 0


def wait_for_validations(run, count: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while validations(run) < count:
        assert process.poll() is None, "training ended before it could be interrupted"
        assert time.monotonic() < deadline, "training made no progress"
        time.sleep(0.02)


def comparable_metrics(run) -> list[dict]:
    """metrics.jsonl without the timings, which differ from run to run."""
    records = [json.loads(line) for line in (run / METRICS).read_text().splitlines()]
    return [{key: value for key, value in record.items() if key != "seconds"} for record in records]


def assert_same_run(run, reference_run) -> None:
    assert (run / "model.safetensors").read_bytes() == (reference_run / "model.safetensors").read_bytes()
    assert comparable_metrics(run) == comparable_metrics(reference_run)
    assert (run / "samples.txt").read_text() == (reference_run / "samples.txt").read_text()
    assert not (run / CHECKPOINT).exists()


def kill_9_at_random_then_resume(run, *train_args: str, delay: float) -> None:
    """Train into `run`, SIGKILL it after a random 1 to 15 of its 20 validations plus up to `delay`
    seconds (to land between validations too), and resume it to the end."""
    when = random.Random().randint(1, 15)  # any moment must do
    process = start("train", *train_args, "--out", str(run))
    wait_for_validations(run, when, process)
    time.sleep(random.Random().random() * delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert (run / CHECKPOINT).exists()
    resumed = finish("train", "--resume", str(run), "--quiet")
    assert resumed.returncode == 0, f"killed after {when} validations: {resumed.stderr}"


def one_line(result, code: int = 2) -> str:
    assert result.code == code, (result.out, result.err)
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err, result.err
    return result.err
