import os
import signal
import sys

from villanueva.cli import main

code = main()
# Two cases leave at once, skipping the interpreter's teardown (everything was written and closed):
# - CPython ends a process by SIGINT (status -2, not 130) when a KeyboardInterrupt ever passed
#   through one of its internal runs of code, as one can during start-up imports, even though
#   main() caught it; leaving at once keeps the status.
# - Under torchrun, gloo's worker threads may still be releasing the last collective's tensors as
#   the process ends; if the interpreter is tearing down by then, taking the GIL to do so aborts
#   the process ("terminate called without an active exception", about 1 run in 12 on 2 cores).
#   destroy_process_group cannot join those threads: DistributedDataParallel keeps the group.
if code == 128 + signal.SIGINT or int(os.environ.get("WORLD_SIZE", "1")) > 1:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
sys.exit(code)
