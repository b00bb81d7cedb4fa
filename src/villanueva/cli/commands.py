"""The commands, one module each, and the parser they make together."""

from villanueva.cli import (
    diagnose,
    evaluate,
    export,
    guess,
    labels,
    lr_find,
    report,
    reproduce,
    sample,
    score,
    serve,
    train,
    tune,
)
from villanueva.cli.options import Parser, add_threads_option

COMMANDS = (
    train,
    evaluate,
    export,
    sample,
    score,
    guess,
    labels,
    reproduce,
    diagnose,
    lr_find,
    report,
    serve,
    tune,
)


def build_parser() -> Parser:
    parser = Parser(prog="villanueva", description="Learn a list of names; invent new ones like them.")
    subcommands = parser.add_subparsers(
        title="commands", dest="command_name", required=True, parser_class=Parser
    )
    for command in COMMANDS:
        add_threads_option(command.add(subcommands))
    return parser
