"""A bounded load against `villanueva serve`: concurrent clients sending a mix of requests.

    python benchmarks/serve_load.py [--requests 5000] [--clients 16] [--port 8917] [RUN]

The server runs in its own process (the bundled model, or RUN), as a user starts it. Each client
is a thread with its own HTTP connection, sending in turn: sample 20 names, score 5 names, guess
one name's province. Printed: requests/s, p50 and p99 latency per kind of request, errors (any
answer but 200), and the server's resident memory before and after.
"""

import argparse
import statistics
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx

REQUESTS = [
    ("sample", "/api/sample", {"count": 20}),
    (
        "score",
        "/api/score",
        {"names": ["Villanueva de la Serena", "Zugarramurdi", "Vilanova", "Toro", "Lugo"]},
    ),
    ("guess", "/api/guess", {"names": ["Vilanova de Bellpuig"]}),
]


def resident_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def start_server(port: int, run: str | None) -> subprocess.Popen:
    command = [sys.executable, "-m", "villanueva", "serve", "--port", str(port), *([run] if run else [])]
    server = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/runs", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"the server did not start: {server.stdout.read()}")


def main() -> None:
    options = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    options.add_argument("run", nargs="?", help="run directory (default: the bundled model)")
    options.add_argument("--requests", type=int, default=5000)
    options.add_argument("--clients", type=int, default=16)
    options.add_argument("--port", type=int, default=8917)
    args = options.parse_args()
    server = start_server(args.port, args.run)
    base = f"http://127.0.0.1:{args.port}"
    try:
        before = resident_mb(server.pid)
        latencies, errors, lock = defaultdict(list), [], threading.Lock()
        counter = iter(range(args.requests))

        def client() -> None:
            with httpx.Client(base_url=base, timeout=120) as session:
                for number in counter:  # shared: each request number is taken once
                    kind, path, body = REQUESTS[number % len(REQUESTS)]
                    start = time.perf_counter()
                    response = session.post(path, json=body)
                    elapsed = time.perf_counter() - start
                    with lock:
                        latencies[kind].append(elapsed)
                        if response.status_code != 200:
                            errors.append(f"{kind}: {response.status_code} {response.text[:100]}")

        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - start
        after = resident_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    total = sum(map(len, latencies.values()))
    print(f"{total:,} requests, {args.clients} clients, {seconds:.1f} s: {total / seconds:,.1f} requests/s")
    print("| request | count | p50 | p99 |\n|---|---:|---:|---:|")
    for kind, values in latencies.items():
        p50, p99 = (1000 * statistics.quantiles(values, n=100)[q] for q in (49, 98))
        print(f"| {kind} | {len(values):,} | {p50:.0f} ms | {p99:.0f} ms |")
    print(f"errors: {len(errors)}" + (f" (first: {errors[0]})" if errors else ""))
    print(f"server memory: {before:.0f} MB before, {after:.0f} MB after")


if __name__ == "__main__":
    main()
