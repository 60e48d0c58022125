"""Load figures: the hot path under fixed concurrency, and a drain under constant load.

Hot path: each subject serves GET /healthz, then the authenticated POST
/items, for SECONDS each at CONNECTIONS keep-alive connections, from wrk (one
thread: the other core is the subject's) or, where wrk is missing, from the
asyncio client in loadgen.py. Requests/s, p50 and p99 latency (ms); `errors`
counts failed requests and answers >= 400 (which would mean a broken setup).

Drain under load: loadgen.py's balancer-like client keeps CONNECTIONS busy
with POST /items; 0.5 s into the load the subject gets SIGTERM (DRAIN_DELAY=1
for the renders); the client stops sending once /readyz answers 503 or
fails. Counts the failed requests (refused, reset, 5xx) out of those sent.
"""

import json
import re
import shutil
import signal
import subprocess
import time

from envs import BENCH, bin_of
from procs import Run, Subject

CONNECTIONS = 32
ENDPOINTS = ("healthz", "items")
LOAD_BEFORE_TERM_S = 0.5
DRAIN_DELAY_S = 1
WRK_MISSING = (
    "wrk not found on PATH: the hot-path figures come from bench/loadgen.py instead, an asyncio"
    " client that shares the 2 cores with the subject (lower, noisier figures). For wrk:"
    " `apt-get install wrk` (Debian, Ubuntu), `brew install wrk` (macOS)."
)


def generator(choice: str) -> str:
    """ "wrk" if asked for (or "auto") and on PATH, else "asyncio" (with a note why)."""
    if choice == "asyncio":
        return "asyncio"
    if shutil.which("wrk"):
        return "wrk"
    if choice == "wrk":
        raise SystemExit("--load-generator wrk: " + WRK_MISSING.split(":")[0])
    print(WRK_MISSING)
    return "asyncio"


def hot(run: Run, endpoint: str, seconds: float, tool: str) -> dict[str, float]:
    """One load test of `endpoint` on a running subject: rps, p50_ms, p99_ms, errors."""
    if tool == "wrk":
        argv = ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--timeout", "5s"]
        argv += ["-s", str(BENCH / "wrk.lua"), f"http://127.0.0.1:{run.port}", "--", endpoint]
        out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
        found = re.search(r"^WRKJSON (.*)$", out, re.MULTILINE)
        assert found, out
        figures = json.loads(found[1])
        return {
            "rps": figures["requests"] / figures["duration_us"] * 1e6,
            "p50_ms": figures["p50_us"] / 1000,
            "p99_ms": figures["p99_us"] / 1000,
            "errors": figures["errors"] + figures["status_errors"],
        }
    argv = [str(bin_of("base")), str(BENCH / "loadgen.py"), "hot", str(run.port), endpoint]
    argv += [str(CONNECTIONS), str(seconds)]
    figures = json.loads(subprocess.run(argv, check=True, capture_output=True).stdout)
    return {key: figures[key] for key in ("rps", "p50_ms", "p99_ms", "errors")}


def measure_hot(
    subject: Subject, results: dict[str, list[float]], seconds: float, tool: str
) -> None:
    """Start `subject`, warm it up for 1 s (if `seconds` >= 5), then load each endpoint."""
    run = Run(subject)
    try:
        run.wait_ready()
        if seconds >= 5:
            hot(run, "items", 1, tool)  # warm-up: lazy imports, caches, the allocator
        for endpoint in ENDPOINTS:
            for key, value in hot(run, endpoint, seconds, tool).items():
                results[f"{endpoint}_{key}"].append(value)
        run.signal(signal.SIGTERM)
        run.wait()
    finally:
        run.kill()


def measure_drain_under_load(subject: Subject, results: dict[str, list[float]]) -> None:
    run = Run(subject, env={"DRAIN_DELAY": str(DRAIN_DELAY_S)})
    client = None
    try:
        run.wait_ready()
        argv = [str(bin_of("base")), str(BENCH / "loadgen.py"), "drain", str(run.port)]
        client = subprocess.Popen(
            [*argv, str(CONNECTIONS), "10"], stdout=subprocess.PIPE, text=True
        )
        assert client.stdout is not None
        assert client.stdout.readline().strip() == "LOADING", f"{subject.name}: no load"
        time.sleep(LOAD_BEFORE_TERM_S)
        elapsed, code = run.exit_ms(run.signal(signal.SIGTERM))
        figures = json.loads(client.stdout.read())
        client.wait()
        results["load_term_ms"].append(elapsed)
        results["load_exit"].append(code)
        results["load_sent"].append(figures["sent"])
        results["load_failed"].append(figures["failed"])
        for kind in ("refused", "reset", "5xx", "4xx"):
            results[f"load_failed_{kind}"].append(figures["kinds"].get(kind, 0))
    finally:
        run.kill()
        if client is not None and client.poll() is None:
            client.kill()
