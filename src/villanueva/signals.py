"""The signals that stop a command, handled in one place.

Ctrl-C (SIGINT), SIGTERM (kill, a batch scheduler) and SIGHUP (a closed terminal) all stop a
command the way Ctrl-C does: `stopping()`, which the CLI holds for a whole command, makes each raise
`Stopped`, a KeyboardInterrupt that knows its signal. Training asks for more: `StopAtStep` notes
the first signal instead, so that the loop stops after its current step with a checkpoint rather
than in the middle of an update; a second signal is handled as it would have been without it.

Handlers belong to the main thread: elsewhere (a library call from a worker thread) signals are
left alone.
"""

import signal
from contextlib import contextmanager

STOPPING_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Stopped(KeyboardInterrupt):
    """A stopping signal, raised as Ctrl-C is."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextmanager
def stopping():
    """While active, every stopping signal raises Stopped."""
    previous = _handle(_raise)
    try:
        yield
    finally:
        _restore(previous)


class StopAtStep:
    """While active, the first stopping signal sets `signum`, for the training loop to stop at the
    end of its step; the next is handled as before (under the CLI, it raises Stopped at once)."""

    def __enter__(self) -> "StopAtStep":
        self.signum: int | None = None
        self.previous = _handle(self._received)
        return self

    def _received(self, signum, frame) -> None:
        self.signum = signum
        _restore(self.previous)

    def __exit__(self, *exc_info) -> None:
        _restore(self.previous)


def _raise(signum, frame):
    raise Stopped(signum)


def _handle(handler) -> dict:
    """Make `handler` handle every stopping signal; returns the handlers it replaced."""
    previous = {}
    for signum in STOPPING_SIGNALS:
        try:
            previous[signum] = signal.signal(signum, handler)
        except ValueError:  # not the main thread
            break
    return previous


def _restore(previous: dict) -> None:
    for signum, handler in previous.items():
        signal.signal(signum, signal.SIG_DFL if handler is None else handler)  # None: not set from Python
