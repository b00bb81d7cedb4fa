"""The command line: parse arguments, call the library, print. No logic of its own.

One module per command, each with `add(commands)`, which declares its parser, and `run(args)`,
which calls the library and prints; adding a command is one module and one line in COMMANDS
(`commands.py`). Option groups that several commands share live in `options.py`.

This module imports nothing heavy at the top: what a command needs loads inside `main`, where
Ctrl-C, SIGTERM and SIGHUP (villanueva/signals.py) are already one line and a conventional exit
status, even during start-up. Sampling, scoring and guessing never load torch; a command that
needs it, on an install without it, is one line that says how to add it.
"""

import contextlib
import io
import os
import shlex
import signal
import sys

from villanueva.signals import stopping


class _Results:
    """Standard output for a command's results: a write that fails (a full disk, a device that
    refuses it) is a UserError, one line; a reader that left (BrokenPipeError) is main's to handle."""

    def __init__(self, stream):
        self._stream = stream

    def write(self, text: str) -> int:
        return self._guarded(self._stream.write, text)

    def flush(self) -> None:
        self._guarded(self._stream.flush)

    def __getattr__(self, name: str):  # fileno, isatty, encoding, ...: those of the stream
        return getattr(self._stream, name)

    @staticmethod
    def _guarded(call, *args):
        from villanueva.errors import UserError

        try:
            return call(*args)
        except BrokenPipeError:
            raise
        except OSError as error:
            raise UserError(f"cannot write the results to standard output: {error.strerror}") from None


def main(argv: list[str] | None = None) -> int:
    with stopping():  # Ctrl-C, SIGTERM and SIGHUP raise Stopped, a KeyboardInterrupt, from here on
        return _command(argv)


def _command(argv: list[str] | None) -> int:
    from villanueva.errors import UserError, flag

    args = None
    try:
        from villanueva.cli.commands import build_parser
        from villanueva.machine import use_threads

        args = build_parser().parse_args(argv)
        args.command_line = shlex.join(["villanueva", *(sys.argv[1:] if argv is None else argv)])
        use_threads(args.threads)
        if sys.stdout is None:  # started with `>&-`
            raise UserError("standard output is closed, so the results would be lost; send them to a file")
        # Under torchrun every process runs the command, and rank 0 prints for them all.
        results = _Results(sys.stdout) if os.environ.get("RANK", "0") == "0" else io.StringIO()
        with contextlib.redirect_stdout(results):
            code = args.command(args) or 0
            sys.stdout.flush()  # a full disk shows here, as one line, not after exit
        return code
    except UserError as error:
        print(f"villanueva: error: {error.worded(flag)}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:  # a command that imports what the [train] extra adds
        from villanueva.machine import TRAINING_MODULES, needs_training

        if error.name not in TRAINING_MODULES:
            raise
        command = f"villanueva {args.command_name}" if args is not None else "villanueva"
        print(f"villanueva: error: {needs_training(command, error.name)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as stop:
        signum = getattr(stop, "signum", signal.SIGINT)
        print(f"villanueva: interrupted ({signal.Signals(signum).name})", file=sys.stderr)
        return 128 + signum
    except BrokenPipeError:  # `villanueva sample RUN | head`: the reader left, that is fine
        # Point stdout at /dev/null so that the flush at exit does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
