"""The one exception type for mistakes a user can fix.

Library code raises `UserError` with a message that says what is wrong and what to do; the CLI
prints it as a single line on stderr and exits with status 2. Anything else is a bug and is allowed
to show its traceback.
"""


class UserError(ValueError):
    """A problem with the user's input (file, option, run directory), not with villanueva."""
