"""The Faker provider against Faker's own city(), side by side in one run: the first call of a
fresh process, and calls per second after it.

    python benchmarks/faker_provider.py [--runs 5] [--calls 20000]

The first call is timed in fresh processes (the median of 3), from before the imports to the first
name: for villanueva.faker it loads the bundled model (its export, on ONNX Runtime) and builds the
pool of the names it draws from; "new province" is a first call with the model already loaded,
which only builds a pool.
Calls per second are one name per call on a warm provider, the median of --runs rounds of --calls.
"""

import argparse
import functools
import os
import subprocess
import sys

import torch
from faker import Faker

from villanueva.faker import POOL_SIZE, Municipalities

from common import machine_line, median, row, table, timed

FRESH_PROCESSES = 3
COLD = """
import time
start = time.perf_counter()
from faker import Faker
{setup}
fake.{call}
print(time.perf_counter() - start)
"""
PROVIDER = "from villanueva.faker import Municipalities\nfake = Faker()\nfake.add_provider(Municipalities)"
CITY = 'fake = Faker("es_ES")'
NEW_PROVINCES = ("Sevilla", "Lugo", "Teruel")  # one first call each: a province's pool is built once


def cold_seconds(setup: str, call: str) -> float:
    """The median time to the first name of fresh processes, imports included."""
    code = COLD.format(setup=setup, call=call)
    times = [
        float(subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout)
        for _ in range(FRESH_PROCESSES)
    ]
    return median(times)


def calls_per_second(function, calls: int, runs: int) -> float:
    function()  # untimed: the pool, or Faker's own first-call work
    return median([calls / timed(lambda: [function() for _ in range(calls)])[1] for _ in range(runs)])


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("--runs", type=int, default=5, help="rounds of calls per side (default 5)")
    options.add_argument("--calls", type=int, default=20_000, help="calls per round (default 20,000)")
    args = options.parse_args()
    print(machine_line(torch.device("cpu")))
    print(f"load average {os.getloadavg()[0]:.2f} at start; pools of {POOL_SIZE:,} names")

    fake = Faker("es_ES")
    fake.add_provider(Municipalities)
    city = cold_seconds(CITY, "city()")
    first = {
        "municipality()": cold_seconds(PROVIDER, "municipality()"),
        'municipality(province="Girona")': cold_seconds(PROVIDER, 'municipality(province="Girona")'),
        "municipality(real=True)": cold_seconds(PROVIDER, "municipality(real=True)"),
    }
    fake.municipality()  # the model, loaded once in this process
    new_province = median([timed(fake.municipality, province=name)[1] for name in NEW_PROVINCES])

    table(
        f"First call of a fresh process (median of {FRESH_PROCESSES} processes)",
        "call",
        "seconds",
        "vs city()",
    )
    row("Faker es_ES `city()`", f"{city:.2f}", "1.0x")
    for title, seconds in first.items():
        row(f"`{title}`", f"{seconds:.2f}", f"{seconds / city:.1f}x")
    row("`municipality(province=...)`, new province, model loaded", f"{new_province:.2f}", "")

    sides = {
        "Faker es_ES `city()`": fake.city,
        "`municipality()`": fake.municipality,
        '`municipality(province="Girona")`': functools.partial(fake.municipality, province="Girona"),
        "`municipality(real=True)`": functools.partial(fake.municipality, real=True),
    }
    rates = {title: calls_per_second(function, args.calls, args.runs) for title, function in sides.items()}
    base = rates["Faker es_ES `city()`"]
    heading = f"Calls per second, one name per call (median of {args.runs} rounds of {args.calls:,})"
    table(heading, "call", "calls/s", "µs per call", "vs city()")
    for title, rate in rates.items():
        row(title, f"{rate:,.0f}", f"{1e6 / rate:.1f}", f"{rate / base:.2f}x")


if __name__ == "__main__":
    main()
