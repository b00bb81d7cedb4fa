"""The one exception type for mistakes a user can fix, and the phrasings every message shares.

Library code raises `UserError` with a message that says what is wrong and what to do. A message
names a parameter as `parameter(name)` writes it, in backquotes (`` `min_length` ``), so that each
face of villanueva can word it its own way (`worded`): Python keeps the keyword as written, the
command line shows its flag (--min-length) and the web API the request field (min_length).
Anything else is a bug and is allowed to show its traceback.
"""

import re
from collections.abc import Callable, Iterable

PARAMETER = re.compile(r"`([a-z][a-z0-9_]*)`")


class UserError(ValueError):
    """A problem with the user's input (file, option, run directory), not with villanueva."""

    def worded(self, name: Callable[[str], str]) -> str:
        """The message on one line, with each parameter written as `name(parameter)`."""
        return worded(str(self), name)


def worded(text: str, name: Callable[[str], str]) -> str:
    """`text` on one line, with each parameter it names written as `name(parameter)`."""
    return " ".join(PARAMETER.sub(lambda match: name(match.group(1)), text).split())


def parameter(name: str) -> str:
    """How a message names the parameter `name` (a keyword argument, an option, a request field)."""
    return f"`{name}`"


def flag(name: str) -> str:
    """The command-line option that sets the parameter `name`: "batch_size" -> "--batch-size"."""
    return "--" + name.replace("_", "-")


def quoted(text: str, most: int = 60) -> str:
    """`text` as a message quotes it: in repr's quotes, cut to about `most` characters, so that a
    line of input that is not a name (a megabyte of NULs) still makes a one-line message."""
    return repr(text if len(text) <= most else text[: most - 3] + "...")


def unknown(what: str, name: object, choices: Iterable[object]) -> UserError:
    """The error for a name that is not one of `choices`: "unknown model 'x' (choose from: a, b)"."""
    return UserError(f"unknown {what} {name!r} (choose from: {', '.join(map(str, choices))})")
