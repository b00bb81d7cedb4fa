"""One trainer per run directory.

An exclusive `flock` on `RUN/.lock`, held while a process trains into the run. The kernel drops the
lock when the process ends, however it ends (kill -9 included), so a crash never leaves a stale
lock behind; the file itself stays, empty of meaning, and is reused by the next trainer.
"""

import os
from pathlib import Path

from villanueva.errors import UserError

try:
    import fcntl
except ImportError:  # Windows: no flock; runs are simply not protected against a second trainer
    fcntl = None

LOCK = ".lock"


class RunLock:
    def __init__(self, directory: Path):
        self.path = Path(directory) / LOCK
        try:
            self.file = open(self.path, "a+", encoding="utf-8")
        except OSError as error:  # a read-only mount, a directory without write permission
            raise UserError(f"cannot train into {directory}: {error.strerror}") from None
        if fcntl is None:
            return
        try:
            fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.file.seek(0)
            holder = self.file.read().strip() or "unknown"
            self.file.close()
            raise UserError(
                f"{directory} is being trained by another process (pid {holder}); "
                "wait for it to finish or choose another `out`"
            ) from None
        self.file.seek(0)
        self.file.truncate()
        self.file.write(str(os.getpid()))
        self.file.flush()

    def release(self) -> None:
        if not self.file.closed:
            self.file.close()  # closing the descriptor releases the flock
