"""The base install, without the [train] extra: sampling, scoring, guessing, evaluating, the page
and the Faker provider run the bundled model's export on ONNX Runtime, and a command that needs
PyTorch says so in one line.

Every process here starts with tests/without_torch on its path, where importing torch, matplotlib
or onnx fails as on an install without them; .ci/run also runs this file in a virtual environment
with the base install only (VILLANUEVA_BASE_INSTALL=1), where they are truly absent. It imports
nothing of villanueva itself, so that it needs no conftest and no torch to run.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

BLOCKER = Path(__file__).parent / "without_torch"
BUNDLED = Path(__file__).parents[1] / "src" / "villanueva" / "bundled" / "municipios-province"
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(BLOCKER), os.environ.get("PYTHONPATH", "")])}


def villanueva(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "villanueva", *args]
    return subprocess.run(command, capture_output=True, text=True, env=ENV, timeout=timeout)


def python(code: str) -> str:
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=ENV, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.skipif(
    os.environ.get("VILLANUEVA_BASE_INSTALL") != "1", reason="only in .ci/run's base-install environment"
)
def test_the_base_install_has_no_torch():
    for module in ("torch", "matplotlib", "onnx"):
        found = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True)
        assert found.returncode != 0, f"{module} is installed in the base install"


def test_the_blocker_blocks():
    assert python(
        "import importlib.util as u\ntry:\n import torch\nexcept ImportError:\n print('no torch')"
    ) == ("no torch\n")


def test_sample_score_guess_labels_and_eval_run_on_the_export():
    sampled = villanueva("sample", "-n", "5", "--seed", "1", "--label", "Girona")
    assert sampled.returncode == 0, sampled.stderr
    assert len(sampled.stdout.splitlines()) == 5 and sampled.stderr == ""
    assert villanueva("sample", "-n", "5", "--seed", "1", "--label", "Girona").stdout == sampled.stdout

    scored = villanueva("score", "Villanueva de la Serena", "Xyzzq", "--format", "json")
    assert scored.returncode == 0, scored.stderr
    losses = [record["loss"] for record in json.loads(scored.stdout)]
    assert losses[0] < 1.5 < losses[1]  # a real name is typical, a jumble is not

    guessed = villanueva("guess", "Sant Llorenç de Morunys", "--format", "json", "--by", "community")
    assert guessed.returncode == 0, guessed.stderr
    assert json.loads(guessed.stdout)[0]["labels"][0]["label"] == "Cataluña"

    listed = villanueva("labels")
    assert listed.returncode == 0 and "52 province labels" in listed.stdout

    evaluated = villanueva("eval", str(BUNDLED))
    assert evaluated.returncode == 0, evaluated.stderr
    assert [line.split()[0] for line in evaluated.stdout.splitlines()][:3] == ["train", "val", "test"]


def test_any_exported_run_is_read_from_its_directory(tmp_path):
    run = shutil.copytree(BUNDLED, tmp_path / "run")
    sampled = villanueva("sample", "--run", str(run), "-n", "3", "--seed", "2")
    assert sampled.returncode == 0 and len(sampled.stdout.splitlines()) == 3
    (run / "model.onnx").unlink()
    missing = villanueva("sample", "--run", str(run), "-n", "3")
    assert missing.returncode == 2
    assert missing.stderr == (
        f"villanueva: error: {run} has no model.onnx, so reading it needs PyTorch: "
        "pip install 'villanueva[train]'\n"
    )


@pytest.mark.parametrize(
    "command", [["train"], ["diagnose", str(BUNDLED)], ["export", str(BUNDLED)], ["lr-find"]]
)
def test_a_command_that_trains_asks_for_pytorch_in_one_line(command):
    result = villanueva(*command)
    assert result.returncode == 2 and result.stdout == ""
    assert (
        result.stderr
        == f"villanueva: error: villanueva {command[0]} needs PyTorch: pip install 'villanueva[train]'\n"
    )


def test_the_library_and_the_faker_provider_never_import_torch():
    out = python(
        "import sys, villanueva as vn\n"
        "model = vn.load()\n"
        "print(len(model.sample(20, seed=3)), len(model.score(['Bilbao'])), model.guess('Bilbao')[0].name)\n"
        "from faker import Faker\n"
        "from villanueva.faker import Municipalities\n"
        "fake = Faker(); fake.add_provider(Municipalities); Faker.seed(4)\n"
        "print(len({fake.municipality(province='Bizkaia') for _ in range(50)}) > 40)\n"
        "try:\n    vn.train(steps=10)\nexcept vn.UserError as error:\n    print(error)\n"
        "print(sorted(m for m in ('torch', 'matplotlib', 'onnx') if m in sys.modules))\n"
    )
    assert out.splitlines() == [
        "20 1 Bilbao",
        "True",
        "villanueva.train needs PyTorch: pip install 'villanueva[train]'",
        "[]",
    ]


def test_the_page_serves_the_bundled_model():
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = [sys.executable, "-m", "villanueva", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "serving 1 run(s)" in server.stdout.readline()
        body = json.dumps({"count": 4, "seed": 1}).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/sample", body, {"Content-Type": "application/json"}
        )
        for _ in range(100):  # uvicorn binds the port just after the line above
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    answer = json.load(response)
                break
            except OSError:
                time.sleep(0.1)
        assert len(answer["names"]) == 4 and answer["complete"]
    finally:
        server.terminate()
        server.wait(timeout=30)
