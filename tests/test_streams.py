"""Standard streams and input, as an adversarial user sets them up: a full disk or a closed
stdout is one line and exit 2, not a traceback or lost output; a closed or endless stdin is refused
at once; an error comes before any output; a line of input that is not a name is quoted short.

Each case is a real process (the streams are the process's), started as on an install without
PyTorch (tests/without_torch), which these commands do not need."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).parent / "without_torch")}
VILLANUEVA = [sys.executable, "-m", "villanueva"]


def shell(line: str) -> subprocess.CompletedProcess:
    """`line` run by bash, with `villanueva` standing for this interpreter's module."""
    command = line.replace("villanueva", " ".join(VILLANUEVA), 1)
    return subprocess.run(["bash", "-c", command], capture_output=True, env=ENV, timeout=60)


def one_line_error(result: subprocess.CompletedProcess) -> str:
    err = result.stderr.decode()
    assert result.returncode == 2, (result.returncode, err)
    assert err.startswith("villanueva: error: ") and err.count("\n") == 1, err
    return err


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
@pytest.mark.parametrize(
    "command",
    ["sample -n 3", "sample -n 3 --format json", "score Bilbao --format csv", "labels", "guess Bilbao"],
)
def test_a_full_disk_is_one_line(command):
    error = one_line_error(shell(f"villanueva {command} > /dev/full"))
    assert "cannot write the results to standard output: No space left on device" in error


def test_a_closed_stdout_is_an_error_not_lost_output():
    assert "standard output is closed" in one_line_error(shell("villanueva sample -n 3 >&-"))


def test_a_reader_that_leaves_is_fine():
    result = shell("villanueva sample -n 100000 | head -1")
    assert result.returncode == 0 and result.stderr == b"" and len(result.stdout.splitlines()) == 1


def test_a_closed_stdin_is_refused():
    assert "standard input, which is closed" in one_line_error(shell("villanueva score --file - <&-"))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("/dev/zero", "line 1 of standard input is longer than 4,096 bytes"),
        ("/dev/urandom", "standard input"),
    ],
)
def test_an_endless_stdin_is_refused_at_once(source, expected):
    # Read line by line with a bound: refused on its first line, not after reading gigabytes.
    assert expected in one_line_error(shell(f"villanueva score --file - < {source}"))


def test_a_long_line_that_cleans_to_nothing_is_quoted_short(tmp_path):
    junk = tmp_path / "junk.txt"
    junk.write_text("(" * 4000 + "\n")
    error = one_line_error(shell(f"villanueva score --file {junk}"))
    assert "is empty after cleaning" in error and len(error) < 200


def test_an_error_comes_before_any_output():
    result = shell("villanueva sample -n 2 --format csv --label Atlantis")
    assert result.stdout == b"" and "unknown label 'Atlantis'" in one_line_error(result)
