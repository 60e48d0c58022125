"""Lifecycle and hot-path figures of the three renders, beside the floors, the plain
runners serving the same apps, and the lifecycle libraries.

    .venv/bin/python bench/run.py [--quick] [--runs 10] [--json bench/results/latest.json]

(from the virtualenv of the README's test command: it brings uv and cookiecutter)

Makes its virtualenvs under bench/.venv/ (see envs.py), renders the minimal
flavor once per transport and installs each render into its own, then, all in
one run and always in alternating order (A B C ... A B C ..., the first
subject rotating each round):

1. lifecycle (lifecycle.py), `--runs` rounds: ready_ms, rss_kb, idle term_ms
   and its exit code, drain_ms with 50 requests in flight, crash_ms, force_ms;
2. hot path (load.py), `--load-rounds` rounds: requests/s and p50/p99 latency
   of GET /healthz and of the authenticated POST /items, `--load-seconds` each
   at 32 connections (wrk, else an asyncio client);
3. drain under load (load.py), `--load-runs` rounds: failed requests out of
   those sent when SIGTERM comes mid-load (DRAIN_DELAY=1 for the renders).

Prints medians with [min-max] and the ratios of each render to the plain
runner serving the same app, checks the targets, and writes JSON. Subjects
(procs.py): floor-hard, floor-clean (asyncio + uvloop, nothing else), uvicorn,
aiorun, aiomisc (each with the same trivial handler), render-http,
render-fastapi, render-aiohttp, uvicorn-cli (`uvicorn plain_fastapi:app`, the
fastapi render's FastAPI app) and aiohttp-run_app (`web.run_app` of the
aiohttp render's Application). Every subject logs at WARNING, so no subject
writes access lines: the renders' access log (one INFO line per request) is
off, as is the plain runners'. --quick (under 2 minutes once the virtualenvs
exist): 1 round of each, 2 s of load and no warm-up, a 1 s slow cleanup.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import envs
import load
import report
from lifecycle import MEASURES
from procs import SUBJECTS, Subject

Raw = dict[str, dict[str, list[float]]]
BEGAN = time.monotonic()


def progress(what: str) -> None:
    print(f"[{time.monotonic() - BEGAN:4.0f} s] {what}", file=sys.stderr)


def rotated(subjects: list[Subject], number: int) -> Iterator[Subject]:
    """The subjects in order, starting at the `number`th (mod their count)."""
    start = number % len(subjects)
    yield from subjects[start:] + subjects[:start]


def lifecycle_rounds(raw: Raw, runs: int) -> None:
    for number in range(runs):
        progress(f"lifecycle {number + 1}/{runs}")
        for metric, measure in MEASURES.items():
            for subject in rotated(SUBJECTS, number):
                if metric in subject.metrics:
                    measure(subject, raw[subject.name])


def hot_rounds(raw: Raw, rounds: int, seconds: float, tool: str) -> None:
    hot = [subject for subject in SUBJECTS if subject.hot]
    for number in range(rounds):
        progress(f"hot path {number + 1}/{rounds} ({tool})")
        for subject in rotated(hot, number):
            load.measure_hot(subject, raw[subject.name], seconds, tool)


def drain_load_rounds(raw: Raw, rounds: int) -> None:
    under_load = [subject for subject in SUBJECTS if subject.under_load]
    for number in range(rounds):
        progress(f"drain under load {number + 1}/{rounds}")
        for subject in rotated(under_load, number):
            load.measure_drain_under_load(subject, raw[subject.name])


def import_ms(transport: str, samples: int) -> float:
    """Cumulative import time of my_app.entrypoint in a render (median, -X importtime)."""
    times = []
    for _ in range(samples):
        result = subprocess.run(
            [str(envs.bin_of(transport)), "-X", "importtime", "-c", "import my_app.entrypoint"],
            check=True,
            capture_output=True,
            text=True,
        )
        line = next(
            x for x in result.stderr.splitlines() if x.rstrip().endswith("| my_app.entrypoint")
        )
        times.append(int(line.split("|")[1]) / 1000)
    return statistics.median(times)


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "sum": sum(values),
        "n": len(values),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="1 round each, 2 s of load")
    parser.add_argument("--runs", type=int, default=10, help="lifecycle rounds")
    parser.add_argument("--load-rounds", type=int, default=3, help="hot-path rounds")
    parser.add_argument("--load-seconds", type=int, default=10, help="per subject and endpoint")
    parser.add_argument("--load-runs", type=int, default=10, help="drain-under-load rounds")
    parser.add_argument("--load-generator", choices=["auto", "wrk", "asyncio"], default="auto")
    parser.add_argument("--no-setup", action="store_true", help="reuse bench/.venv/ as it is")
    parser.add_argument("--json", type=Path, default=envs.BENCH / "results" / "latest.json")
    options = parser.parse_args()
    if options.quick:
        options.runs = options.load_rounds = options.load_runs = 1
        options.load_seconds = 2
        os.environ["BENCH_CLEANUP_S"] = "1"
    tool = load.generator(options.load_generator)

    if not options.no_setup:
        progress("setting up bench/.venv/ and rendering each transport")
        envs.setup()
    raw: Raw = {subject.name: defaultdict(list) for subject in SUBJECTS}
    lifecycle_rounds(raw, options.runs)
    hot_rounds(raw, options.load_rounds, options.load_seconds, tool)
    drain_load_rounds(raw, options.load_runs)

    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "load_average": os.getloadavg(),
        },
        "versions": envs.versions(),
        "options": {
            key: getattr(options, key)
            for key in ("quick", "runs", "load_rounds", "load_seconds", "load_runs")
        },
        "load_generator": tool,
        "connections": load.CONNECTIONS,
        "subjects": {
            name: {key: summary(v) for key, v in values.items()} for name, values in raw.items()
        },
        "import_ms": {t: import_ms(t, 1 if options.quick else 5) for t in envs.TRANSPORTS},
    }
    results["raw"] = raw
    results["ratios"] = report.ratios(results["subjects"])
    results["targets"] = report.targets(results["subjects"])
    report.print_all(results)
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nJSON: {options.json}")


if __name__ == "__main__":
    main()
