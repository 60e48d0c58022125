"""Lifecycle latency and footprint of the rendered service, side by side with the alternatives.

    .venv/bin/python bench/run.py [--runs 10] [--no-suite] [--json bench/results/latest.json]

(from the virtualenv of the README's test command: it brings uv and cookiecutter)

Makes its own virtualenv (bench/.venv, with uv), renders the minimal flavor with
cookiecutter, installs it there next to uvicorn, aiorun and aiomisc (none of
which becomes a dependency of the template or of rendered projects), then runs
every subject in turn, A B C ... A B C ..., `--runs` times, and prints medians
with min and max, ratios to both floors, and JSON. The subjects live in
bench/subjects/; all listen on 127.0.0.1 and serve the same GET /slow (0.2 s).

Metrics (ms unless named otherwise):
  ready_ms   spawn -> GET /healthz answers 200
  rss_kb     resident memory once ready
  term_ms    SIGTERM -> exited, idle
  drain_ms   SIGTERM with 50 requests to /slow in flight -> exited (and how many got 200)
  crash_ms   the injected task raises -> exited (and the exit code)
  force_ms   3 s cleanup: SIGINT, a second SIGINT 300 ms later -> exited (and the exit code)
plus the service's import time (-X importtime), render time per flavor and
the template test suite's wall time.
"""

import argparse
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import tomllib
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from pathlib import Path

BENCH = Path(__file__).resolve().parent
TEMPLATE = BENCH.parent
SUBJECTS_DIR = BENCH / "subjects"
VENV = BENCH / ".venv"
PYTHON = VENV / "bin" / "python"
ALTERNATIVES = ["uvicorn", "aiorun", "aiomisc", "uvloop", "cookiecutter"]
TIMEOUT_S = 15.0

# subject -> (argv after the venv's python, metrics it takes part in)
SUBJECTS: dict[str, tuple[list[str], set[str]]] = {
    "floor-hard": (["floor.py", "hard"], {"ready", "term", "crash", "drain"}),
    "floor-clean": (["floor.py", "clean"], {"ready", "term", "crash", "drain"}),
    "uvicorn": (["uvicorn_app.py"], {"ready", "term", "drain", "force"}),
    "aiorun": (["aiorun_app.py"], {"ready", "term", "crash", "drain", "force"}),
    "aiomisc": (["aiomisc_app.py"], {"ready", "term", "crash", "drain", "force"}),
    "service": (["service.py"], {"ready", "term", "crash", "drain", "force"}),
}
SERVICE_ENV = {"MODE": "prod", "API_KEY": "bench", "LOG_LEVEL": "WARNING"}


def sh(*argv: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], check=True, text=True, **kwargs)  # type: ignore[call-overload, no-any-return]


def setup() -> Path:
    """Make the venv, render the minimal flavor and install everything; return the render."""
    uv = [sys.executable, "-m", "uv"]
    if not PYTHON.exists():
        sh(*uv, "venv", "--quiet", "--python", sys.executable, VENV)
    group = tomllib.loads((TEMPLATE / "pyproject.toml").read_text())["dependency-groups"]["test"]
    sh(*uv, "pip", "install", "--quiet", "--python", PYTHON, *ALTERNATIVES, *group)
    out = BENCH / ".render"
    shutil.rmtree(out, ignore_errors=True)
    sh(PYTHON, "-m", "cookiecutter", "--no-input", TEMPLATE, "-o", out)
    sh(
        *uv,
        "pip",
        "install",
        "--quiet",
        "--reinstall-package",
        "my-app",
        "--python",
        PYTHON,
        out / "my-app",
    )
    return out / "my-app"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(port: int, path: str, timeout: float = 5) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class Run:
    """One subject process; its stdout is read in the background for CRASH lines."""

    def __init__(self, subject: str, mode: str = "serve") -> None:
        argv, _ = SUBJECTS[subject]
        self.port = free_port()
        env = {**os.environ, **SERVICE_ENV, "PORT": str(self.port), "BENCH_MODE": mode}
        env.update(SERVER_PORT=str(self.port), PYTHONPATH=str(SUBJECTS_DIR))
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [str(PYTHON), *argv],
            cwd=SUBJECTS_DIR,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.crashed_at: float | None = None
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("CRASH "):
                self.crashed_at = float(line.split()[1])

    def wait_ready(self) -> float:
        """Poll GET /healthz until 200; return ms since spawn."""
        deadline = self.started + TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if get(self.port, "/healthz", timeout=1) == 200:
                    return (time.monotonic() - self.started) * 1000
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError("exited before it was ready") from None
                time.sleep(0.001)
        raise RuntimeError("not ready in time")

    def rss_kb(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status)[1])  # type: ignore[index]

    def wait(self) -> tuple[float, int]:
        """Wait for the exit; return when it happened (monotonic seconds) and the exit code.

        A blocking wait: Popen.wait(timeout) polls with sleeps of up to 50 ms, which
        would quantize the figures. A timer kills a hung subject instead.
        """
        watchdog = threading.Timer(TIMEOUT_S, self.process.kill)
        watchdog.start()
        try:
            code = self.process.wait()
        finally:
            watchdog.cancel()
        return time.monotonic(), code

    def exit_ms(self, since: float) -> tuple[float, int]:
        """Wait for the exit; return ms since `since` (monotonic seconds) and the exit code."""
        exited, code = self.wait()
        return (exited - since) * 1000, code

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def measure_idle(subject: str, results: dict[str, list[float]]) -> None:
    run = Run(subject)
    try:
        results["ready_ms"].append(run.wait_ready())
        results["rss_kb"].append(run.rss_kb())
        sent = time.monotonic()
        run.process.send_signal(signal.SIGTERM)
        results["term_ms"].append(run.exit_ms(sent)[0])
    finally:
        run.kill()


def measure_drain(subject: str, results: dict[str, list[float]]) -> None:
    run = Run(subject)
    try:
        run.wait_ready()
        with ThreadPoolExecutor(50) as pool:
            replies = [pool.submit(get, run.port, "/slow") for _ in range(50)]
            time.sleep(0.05)  # let all 50 reach the server: they take 0.2 s each
            sent = time.monotonic()
            run.process.send_signal(signal.SIGTERM)
            elapsed, _ = run.exit_ms(sent)
            ok = 0
            for reply in replies:
                with suppress(OSError):
                    ok += reply.result() == 200
        results["drain_ms"].append(elapsed)
        results["drain_ok"].append(ok)
    finally:
        run.kill()


def measure_crash(subject: str, results: dict[str, list[float]]) -> None:
    run = Run(subject, "crash")
    try:
        exited, code = run.wait()
        run._reader.join(1)
        assert run.crashed_at is not None, f"{subject}: no CRASH line"
        results["crash_ms"].append((exited - run.crashed_at) * 1000)
        results["crash_exit"].append(code)
    finally:
        run.kill()


def measure_force(subject: str, results: dict[str, list[float]]) -> None:
    run = Run(subject, "cleanup")
    try:
        run.wait_ready()
        sent = time.monotonic()
        run.process.send_signal(signal.SIGINT)
        time.sleep(0.3)
        run.process.send_signal(signal.SIGINT)
        elapsed, code = run.exit_ms(sent)
        results["force_ms"].append(elapsed)
        results["force_exit"].append(code)
    finally:
        run.kill()


MEASURES: dict[str, Callable[[str, dict[str, list[float]]], None]] = {
    "term": measure_idle,
    "drain": measure_drain,
    "crash": measure_crash,
    "force": measure_force,
}


def import_ms() -> float:
    """The cumulative import time of my_app.entrypoint (median of 5)."""
    times = []
    for _ in range(5):
        result = sh(
            PYTHON, "-X", "importtime", "-c", "import my_app.entrypoint", capture_output=True
        )
        line = next(
            x for x in result.stderr.splitlines() if x.rstrip().endswith("| my_app.entrypoint")
        )
        times.append(int(line.split("|")[1]) / 1000)
    return statistics.median(times)


def render_ms(flavor: str) -> float:
    """Median wall time of an in-process cookiecutter render with hooks (of 5)."""
    script = (
        "import sys, tempfile, time\n"
        "from cookiecutter.main import cookiecutter\n"
        "times = []\n"
        "for _ in range(5):\n"
        "    with tempfile.TemporaryDirectory() as out:\n"
        "        start = time.perf_counter()\n"
        f"        cookiecutter({str(TEMPLATE)!r}, no_input=True, output_dir=out,"
        f" extra_context={{'flavor': {flavor!r}}})\n"
        "        times.append(time.perf_counter() - start)\n"
        "print(sorted(times)[2] * 1000)\n"
    )
    return float(sh(PYTHON, "-c", script, capture_output=True).stdout)


def suite_s() -> float:
    start = time.monotonic()
    subprocess.run(
        [str(PYTHON), "-m", "pytest", "-q"], cwd=TEMPLATE, check=True, capture_output=True
    )
    return time.monotonic() - start


def summary(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument(
        "--no-suite", action="store_true", help="skip timing the template test suite"
    )
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "latest.json")
    options = parser.parse_args()

    print("setting up bench/.venv and rendering the minimal flavor ...", file=sys.stderr)
    setup()
    raw: dict[str, dict[str, list[float]]] = {name: defaultdict(list) for name in SUBJECTS}
    for number in range(options.runs):
        print(f"run {number + 1}/{options.runs}", file=sys.stderr)
        for metric, measure in MEASURES.items():
            for subject, (_, metrics) in SUBJECTS.items():  # A B C ... within each metric
                if metric in metrics:
                    measure(subject, raw[subject])

    report: dict[str, object] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "runs": options.runs,
        "subjects": {
            name: {key: summary(v) for key, v in values.items()} for name, values in raw.items()
        },
        "service_import_ms": import_ms(),
        "render_ms": {flavor: render_ms(flavor) for flavor in ("minimal", "caesari")},
    }
    if not options.no_suite:
        print("timing the template test suite ...", file=sys.stderr)
        report["suite_s"] = suite_s()
    print_table(report)
    options.json.parent.mkdir(parents=True, exist_ok=True)
    options.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nJSON: {options.json}")


def print_table(report: dict[str, object]) -> None:
    subjects: dict[str, dict[str, dict[str, float]]] = report["subjects"]  # type: ignore[assignment]
    columns = [
        "ready_ms",
        "rss_kb",
        "term_ms",
        "drain_ms",
        "drain_ok",
        "crash_ms",
        "crash_exit",
        "force_ms",
        "force_exit",
    ]
    print(f"\n{'median [min-max]':<12}" + "".join(f"{c:>22}" for c in columns))
    for name, metrics in subjects.items():
        cells = []
        for column in columns:
            if column in metrics:
                m = metrics[column]
                cells.append(f"{m['median']:.0f} [{m['min']:.0f}-{m['max']:.0f}]")
            else:
                cells.append("n/a")
        print(f"{name:<12}" + "".join(f"{c:>22}" for c in cells))
    for floor in ("floor-hard", "floor-clean"):
        print(f"\nratio to {floor}")
        for name, metrics in subjects.items():
            ratios = []
            for column in ("ready_ms", "rss_kb", "term_ms", "crash_ms"):
                if column in metrics and column in subjects[floor]:
                    ratios.append(
                        f"{column} {metrics[column]['median'] / subjects[floor][column]['median']:.2f}x"
                    )
            print(f"  {name:<12}" + "  ".join(ratios))
    print(
        f"\nservice import time: {report['service_import_ms']:.1f} ms (-X importtime, cumulative)"
    )
    print("render: " + ", ".join(f"{k} {v:.0f} ms" for k, v in report["render_ms"].items()))  # type: ignore[attr-defined]
    if "suite_s" in report:
        print(f"template test suite: {report['suite_s']:.0f} s")


if __name__ == "__main__":
    main()
