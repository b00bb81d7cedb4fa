"""The one exception type for mistakes a user can fix, and the two phrasings every message shares.

Library code raises `UserError` with a message that says what is wrong and what to do; the CLI
prints it as a single line on stderr and exits with status 2. Anything else is a bug and is allowed
to show its traceback.
"""

from collections.abc import Iterable


class UserError(ValueError):
    """A problem with the user's input (file, option, run directory), not with villanueva."""


def option(name: str) -> str:
    """The command-line option that sets the setting `name`: "batch_size" -> "--batch-size"."""
    return "--" + name.replace("_", "-")


def unknown(what: str, name: object, choices: Iterable[object]) -> UserError:
    """The error for a name that is not one of `choices`: "unknown model 'x' (choose from: a, b)"."""
    return UserError(f"unknown {what} {name!r} (choose from: {', '.join(map(str, choices))})")
