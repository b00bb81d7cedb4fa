"""Atomic file writes: a reader (or a crash) never sees a half-written file.

Each file is written to a temporary name in the same directory, flushed and fsynced, then renamed
over the final name; `os.replace` is atomic on POSIX and Windows within one file system. And the
one way a command makes a folder the user named: a problem is one line naming the option.
"""

import errno
import json
import os
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from villanueva.errors import UserError, parameter


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Call `write(temporary_path)`, then move the finished file to `path`. A failure (a full
    disk, a read-only one) leaves `path` as it was and is a UserError naming it."""
    path = Path(path)
    # Unique per process and call, in the same directory so that the rename stays atomic.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    with failing_writes_explained(path):
        try:
            write(tmp)
            with open(tmp, "rb+") as written:
                os.fsync(written.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
    _fsync_directory(path.parent)


@contextmanager
def failing_writes_explained(path: Path):
    """An OSError while writing `path` as one line: what failed, and what to do about a full disk."""
    try:
        yield
    except OSError as error:
        reason = error.strerror or str(error)
        if error.errno == errno.ENOSPC:
            raise UserError(
                f"disk full while writing {path}; nothing was half-written: free some space and run the "
                "command again (an interrupted training continues with villanueva train --resume RUN)"
            ) from None
        raise UserError(f"cannot write {path}: {reason}") from None


def make_folder(path: Path, option: str) -> Path:
    """Create the folder `path` that the user named with `option`, and its parents; a file in its
    place, or a place where nothing can be created (/proc, a read-only mount), is a UserError."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise UserError(f"{parameter(option)} {path} is a file; name a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise UserError(f"cannot create {parameter(option)} {path}: {error.strerror or error}") from None
    return path


def write_bytes(path: Path, data: bytes) -> None:
    write_atomically(path, lambda tmp: tmp.write_bytes(data))


def write_text(path: Path, text: str) -> None:
    write_atomically(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def json_text(data, **options) -> str:
    """Strict JSON: a NaN or an infinity is an error here, never `NaN` in a file no parser reads."""
    return json.dumps(data, ensure_ascii=False, allow_nan=False, **options)


def write_json(path: Path, data) -> None:
    write_text(path, json_text(data, indent=2) + "\n")


def append_json_line(path: Path, record: dict) -> None:
    """Append one record as a JSON line; a line is the unit, so a crash loses at most the last."""
    line = json_text(record) + "\n"
    with failing_writes_explained(path), open(path, "a", encoding="utf-8") as log:
        log.write(line)
        log.flush()
        os.fsync(log.fileno())


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (a no-op where directories cannot be opened)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
