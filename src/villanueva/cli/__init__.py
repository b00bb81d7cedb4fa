"""The command line: parse arguments, call the library, print. No logic of its own.

One module per command, each with `add(commands)`, which declares its parser, and `run(args)`,
which calls the library and prints; adding a command is one module and one line in COMMANDS.
Option groups that several commands share live in `options.py`.
"""

import os
import shlex
import sys

from villanueva.cli import (
    diagnose,
    evaluate,
    guess,
    labels,
    lr_find,
    report,
    reproduce,
    sample,
    score,
    serve,
    train,
)
from villanueva.cli.options import Parser, add_threads_option
from villanueva.errors import UserError

COMMANDS = (train, evaluate, sample, score, guess, labels, reproduce, diagnose, lr_find, report, serve)


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.command_line = shlex.join(["villanueva", *(sys.argv[1:] if argv is None else argv)])
    try:
        from villanueva.training import use_threads

        use_threads(args.threads)
        return args.command(args) or 0
    except UserError as error:
        print(f"villanueva: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("villanueva: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `villanueva sample RUN | head`: the reader left, that is fine
        # Point stdout at /dev/null so that the flush at exit does not fail a second time.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def build_parser() -> Parser:
    parser = Parser(prog="villanueva", description="Learn a list of names; invent new ones like them.")
    commands = parser.add_subparsers(title="commands", required=True, parser_class=Parser)
    for command in COMMANDS:
        add_threads_option(command.add(commands))
    return parser
