import os
import signal
import sys

from villanueva.cli import main

code = main()
if code == 128 + signal.SIGINT:
    # CPython ends a process by SIGINT (status -2, not 130) when a KeyboardInterrupt ever passed
    # through one of its internal runs of code, as one can during start-up imports, even though
    # main() caught it; leaving at once keeps the status. Everything was written and closed.
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
sys.exit(code)
