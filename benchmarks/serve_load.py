"""A bounded load against `villanueva serve`, before and after requests were decoded together.

    python benchmarks/serve_load.py [--requests 2000] [--clients 16] [--runs 3] [--before REV] [RUN]

Each side's server runs in its own process (the bundled model, or RUN), as a user starts it:
*before* from the source at REV (default: the commit before the sampler was cut for batching, whose
server computed one request at a time under a lock), *after* from this checkout. Each client is a thread
with its own HTTP connection. The loads, each run `--runs` times per side (sides alternating):

- one client, then `--clients` clients, each request sampling 20 names;
- the same clients with one more that keeps asking for an impossible name (a constraint no
  candidate meets, the largest budget), for at most 30 s: the normal requests' latencies beside it;
- the mix of the page (sample 20 names, score 5 names, guess one name's province), `--clients`.

Printed: requests/s and the p50 and p99 latency of the normal requests (medians over the runs),
errors (any answer but 200), and the after side's resident memory after 1,000 and 10,000 requests
of the mix.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections import defaultdict
from io import BytesIO
from pathlib import Path

import httpx

SAMPLE = ("sample", "/api/sample", {"count": 20})
MIX = [
    SAMPLE,
    (
        "score",
        "/api/score",
        {"names": ["Villanueva de la Serena", "Zugarramurdi", "Vilanova", "Toro", "Lugo"]},
    ),
    ("guess", "/api/guess", {"names": ["Vilanova de Bellpuig"]}),
]
IMPOSSIBLE = ("impossible", "/api/sample", {"count": 5, "contains": ["qqq"], "budget": 100_000})
ROOT = Path(__file__).resolve().parent.parent


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(port: int, run: str | None, source: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "villanueva", "serve", "--port", str(port), *([run] if run else [])]
    environment = {**os.environ, "PYTHONPATH": str(source)}  # ahead of the installed checkout
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment
    )
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/runs", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"the server did not start: {server.stdout.read()}")


def load(base: str, requests: int, clients: int, kinds: list, hard: bool = False, most: float = 1e9) -> dict:
    """`requests` requests from `clients` clients, in turn of `kinds`, or as many as they send in
    `most` seconds; with `hard`, one more client asks for impossible names until they are done.
    Latencies by kind, errors, seconds."""
    latencies, errors, lock = defaultdict(list), [], threading.Lock()
    counter = iter(range(requests))
    finished = threading.Event()
    deadline = time.perf_counter() + most

    def send(session, kind, path, body) -> None:
        start = time.perf_counter()
        response = session.post(path, json=body)
        elapsed = time.perf_counter() - start
        with lock:
            latencies[kind].append(elapsed)
            if response.status_code != 200:
                errors.append(f"{kind}: {response.status_code} {response.text[:100]}")

    def client() -> None:
        with httpx.Client(base_url=base, timeout=120) as session:
            for number in counter:  # shared: each request number is taken once
                if time.perf_counter() > deadline:
                    break
                send(session, *kinds[number % len(kinds)])

    def hard_client() -> None:
        with httpx.Client(base_url=base, timeout=120) as session:
            while not finished.is_set():
                send(session, *IMPOSSIBLE)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    spoiler = threading.Thread(target=hard_client)
    if hard:
        spoiler.start()
        time.sleep(0.5)  # its first request is under way before the others start
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start
    finished.set()
    if hard:
        spoiler.join()
    return {"latencies": latencies, "errors": errors, "seconds": seconds}


def summary(result: dict) -> dict:
    """Requests/s and p50, p99 (ms) of the normal requests."""
    values = [v for kind, found in result["latencies"].items() if kind != "impossible" for v in found]
    cuts = statistics.quantiles(values, n=100)
    return {
        "requests/s": len(values) / result["seconds"],
        "p50": 1000 * cuts[49],
        "p99": 1000 * cuts[98],
        "errors": len(result["errors"]),
        "first error": result["errors"][0] if result["errors"] else "",
        "impossible": len(result["latencies"].get("impossible", [])),
    }


def before_source(revision: str | None, folder: Path) -> tuple[str, Path]:
    """The package's source at `revision` (default: before batching), unpacked in `folder`."""
    if revision is None:  # the parent of the commit that cut the sampler for batching
        cut = subprocess.run(
            ["git", "log", "-S", "class Sampler:", "--format=%H", "--", "src/villanueva/inference/sample.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        revision = f"{cut[-1]}^"
    commit = subprocess.run(
        ["git", "rev-parse", "--short", revision], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    archive = subprocess.run(["git", "archive", commit, "src"], cwd=ROOT, capture_output=True, check=True)
    with tarfile.open(fileobj=BytesIO(archive.stdout)) as tar:
        tar.extractall(folder, filter="data")
    return commit, folder / "src"


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("run", nargs="?", help="run directory (default: the bundled model)")
    options.add_argument("--requests", type=int, default=2000)
    options.add_argument("--clients", type=int, default=16)
    options.add_argument("--runs", type=int, default=3)
    options.add_argument("--before", help="the revision of the before side (default: before batching)")
    options.add_argument("--port", type=int, default=8917)
    args = options.parse_args()
    loads = {
        "1 client, sample 20": lambda base: load(base, args.requests // 2, 1, [SAMPLE]),
        f"{args.clients} clients, sample 20": lambda base: load(base, args.requests, args.clients, [SAMPLE]),
        # 30 s at most: before, each impossible request holds every other for its whole 18 s
        f"{args.clients} clients + 1 impossible": lambda base: load(
            base, args.requests, args.clients, [SAMPLE], hard=True, most=30
        ),
        f"{args.clients} clients, the page's mix": lambda base: load(
            base, args.requests // 2, args.clients, MIX
        ),
    }
    results, memory = defaultdict(list), {}
    with tempfile.TemporaryDirectory() as folder:
        commit, old = before_source(args.before, Path(folder))
        sides = {f"before ({commit})": old, "after": ROOT / "src"}
        for number in range(args.runs):
            for side, source in sides.items():
                server = start_server(args.port, args.run, source)
                try:
                    base = f"http://127.0.0.1:{args.port}"
                    load(base, 50, 1, MIX)  # warm up: the first requests load the graph's kernels
                    for name, measure in loads.items():
                        results[name, side].append(summary(measure(base)))
                        print(f"run {number + 1}, {side}, {name}: {results[name, side][-1]}", flush=True)
                    if number == 0 and side == "after":  # a fresh server after 1,000 and 10,000 requests
                        server.terminate(), server.wait(timeout=30)
                        server = start_server(args.port, args.run, source)
                        started = resident_mb(server.pid)
                        load(base, 1_000, args.clients, MIX)
                        thousand = resident_mb(server.pid)
                        load(base, 9_000, args.clients, MIX)
                        memory[side] = (started, thousand, resident_mb(server.pid))
                finally:
                    server.terminate()
                    server.wait(timeout=30)
    print(
        f"\n{args.requests:,} requests a load ({args.requests // 2:,} for one client and for the mix), "
        f"medians of {args.runs}"
    )
    print("| load | side | requests/s | p50 | p99 | errors |\n|---|---|---:|---:|---:|---:|")
    for (name, side), runs in results.items():
        median = {key: statistics.median(run[key] for run in runs) for key in ("requests/s", "p50", "p99")}
        errors = sum(run["errors"] for run in runs)
        print(
            f"| {name} | {side} | {median['requests/s']:,.1f} | {median['p50']:,.0f} ms "
            f"| {median['p99']:,.0f} ms | {errors} |"
        )
    print("\n| side | memory at start | after 1,000 requests | after 10,000 | growth |")
    print("|---|---:|---:|---:|---:|")
    for side, (started, thousand, ten_thousand) in memory.items():
        print(
            f"| {side} | {started:.0f} MB | {thousand:.0f} MB | {ten_thousand:.0f} MB "
            f"| {ten_thousand / thousand - 1:+.1%} |"
        )
    first = [run["first error"] for runs in results.values() for run in runs if run["first error"]]
    if first:
        print(f"first error: {first[0]}")


if __name__ == "__main__":
    main()
