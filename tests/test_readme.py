"""The README's Python example runs as written, in a fresh interpreter, as a reader would paste it."""

import ast
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def python_examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.DOTALL)


def test_the_readme_python_example_runs(tmp_path):
    example = python_examples()[0]
    done = subprocess.run(
        [sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) >= 5 + 4 and all(line.split()[-1] == "Girona" for line in lines[:5])
    assert lines[-1].startswith("`temperature` must be greater than 0")
    assert not list(tmp_path.iterdir()), "the example leaves nothing behind (its run was never saved)"


def test_the_readme_faker_example_runs(tmp_path):
    example = python_examples()[1]
    done = subprocess.run(
        [sys.executable, "-c", example], cwd=tmp_path, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    *names, unique = done.stdout.splitlines()
    assert len(names) == 3 and all(name[:1].isupper() for name in names)
    assert len(set(ast.literal_eval(unique))) == 3  # a printed list of three distinct names
