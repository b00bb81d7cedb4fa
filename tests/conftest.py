from pathlib import Path

import pytest

from villanueva.cli import main

from helpers import NOTEBOOK_CSV, TINY_NAMES, TRAIN, finish


@pytest.fixture(scope="session")
def notebook_csv() -> Path:
    return NOTEBOOK_CSV


@pytest.fixture
def tiny_names_file(tmp_path) -> Path:
    path = tmp_path / "names.txt"
    path.write_text("\n".join(TINY_NAMES) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory) -> Path:
    """A run trained for a few steps on the tiny list, shared by the tests that only read it."""
    names = tmp_path_factory.mktemp("data") / "names.txt"
    names.write_text("\n".join(TINY_NAMES) + "\n", encoding="utf-8")
    out = tmp_path_factory.mktemp("runs") / "tiny"
    assert (
        main(["train", "--data", str(names), "--steps", "30", "--hidden", "16", "--out", str(out), "--quiet"])
        == 0
    )
    return out


class CliResult:
    def __init__(self, code: int, out: str, err: str):
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def cli(capsys):
    """Run the CLI in-process; returns exit code, stdout and stderr."""

    def run(*args: str) -> CliResult:
        try:
            code = main(list(args))
        except SystemExit as exit_:  # argparse exits for usage errors and --help
            code = exit_.code
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The uninterrupted run that interrupted-and-resumed runs must equal, bit for bit: the tiny
    list, helpers.TRAIN's settings (trained in a subprocess, as a user would)."""
    names = tmp_path_factory.mktemp("data") / "names.txt"
    names.write_text("\n".join(TINY_NAMES) + "\n")
    out = tmp_path_factory.mktemp("runs") / "reference"
    done = finish("train", "--data", str(names), *TRAIN, "--out", str(out))
    assert done.returncode == 0, done.stderr
    return names, out
