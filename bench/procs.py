"""The subjects, and one subject's process (Run).

Every subject listens on 127.0.0.1:PORT and answers GET /healthz, GET /readyz,
POST /items and GET /items/slow (0.2 s); the floors and the alternatives answer
200 "ok" to anything (bench/subjects/common.py), the renders and the plain
runners serve the render's API. All log at WARNING: no access lines. Each
prints "SLOW" as a slow request starts and "CRASH <time>" as the task raises.
"""

import http.client
import os
import re
import signal
import socket
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from envs import BENCH, bin_of

SUBJECTS_DIR = BENCH / "subjects"
TIMEOUT_S = 15.0
API_KEY = "bench"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
SERVICE_ENV = {"MODE": "prod", "API_KEY": API_KEY, "LOG_LEVEL": "WARNING", "LOG_FORMAT": "text"}
LIFECYCLE = frozenset({"term", "drain", "force"})


@dataclass(frozen=True)
class Subject:
    name: str
    venv: str  # under bench/.venv/
    argv: tuple[str, ...]  # argv[0] is in the venv's bin/; "{port}" is replaced
    metrics: frozenset[str]  # which of term, drain, crash, force it takes part in
    hot: bool = False  # in the hot-path load test
    under_load: bool = False  # in the drain-under-load test
    plain: str = ""  # for a render: the plain runner serving the same app
    env: tuple[tuple[str, str], ...] = ()  # added to its environment


def _subject(name: str, venv: str, *argv: str, crash: bool = True, **kwargs: object) -> Subject:
    metrics = LIFECYCLE | {"crash"} if crash else LIFECYCLE
    return Subject(name, venv, argv, metrics, **kwargs)  # type: ignore[arg-type]


SUBJECTS = [
    Subject(
        "floor-hard", "base", ("python", "floor.py", "hard"), frozenset({"term", "crash", "drain"})
    ),
    Subject(
        "floor-clean",
        "base",
        ("python", "floor.py", "clean"),
        frozenset({"term", "crash", "drain"}),
        hot=True,
    ),
    _subject("uvicorn", "base", "python", "uvicorn_app.py", crash=False, hot=True),
    _subject("aiorun", "base", "python", "aiorun_app.py"),
    _subject("aiomisc", "base", "python", "aiomisc_app.py"),
    _subject("render-http", "http", "python", "render.py", hot=True, under_load=True),
    _subject(
        "render-fastapi",
        "fastapi",
        "python",
        "render.py",
        hot=True,
        under_load=True,
        plain="uvicorn-cli",
    ),
    _subject(
        "uvicorn-cli",
        "fastapi",
        *("uvicorn", "plain_fastapi:app", "--host", "127.0.0.1", "--port", "{port}"),
        *("--log-level", "warning"),
        crash=False,
        hot=True,
        under_load=True,
    ),
    _subject(
        "render-aiohttp",
        "aiohttp",
        "python",
        "render.py",
        hot=True,
        under_load=True,
        plain="aiohttp-run_app",
    ),
    _subject(
        "aiohttp-run_app",
        "aiohttp",
        "python",
        "plain_aiohttp.py",
        crash=False,
        hot=True,
        under_load=True,
    ),
]
BY_NAME = {subject.name: subject for subject in SUBJECTS}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(port: int, path: str, timeout: float = 5, headers: dict[str, str] | None = None) -> int:
    """GET `path` on a new connection; return the status."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


class Run:
    """One subject process; its stdout is read in the background for CRASH lines."""

    def __init__(
        self, subject: Subject, mode: str = "serve", env: dict[str, str] | None = None
    ) -> None:
        self.subject = subject
        self.port = free_port()
        environ = {**os.environ, **SERVICE_ENV, **dict(subject.env), **(env or {})}
        environ.update(PORT=str(self.port), SERVER_PORT=str(self.port), BENCH_MODE=mode)
        environ.update(PYTHONPATH=str(SUBJECTS_DIR))
        argv = [a.replace("{port}", str(self.port)) for a in subject.argv]
        argv[0] = str(bin_of(subject.venv, argv[0]))
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            argv,
            cwd=SUBJECTS_DIR,
            env=environ,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        self.crashed_at: float | None = None
        self.slow_started = 0
        self._slow = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("CRASH "):
                self.crashed_at = float(line.split()[1])
            elif line.startswith("SLOW"):
                with self._slow:
                    self.slow_started += 1
                    self._slow.notify_all()

    def wait_slow(self, count: int) -> None:
        """Wait until `count` slow requests have started in the subject."""
        with self._slow:
            if not self._slow.wait_for(lambda: self.slow_started >= count, TIMEOUT_S):
                raise RuntimeError(f"{self.subject.name}: {self.slow_started} of {count} started")

    def wait_ready(self) -> float:
        """Poll GET /healthz until 200; return ms since spawn."""
        deadline = self.started + TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                if get(self.port, "/healthz", timeout=1) == 200:
                    return (time.monotonic() - self.started) * 1000
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.subject.name} exited before it was ready") from None
                time.sleep(0.001)
        raise RuntimeError(f"{self.subject.name} not ready in time")

    def rss_kb(self) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status)[1])  # type: ignore[index]

    def signal(self, signum: int = signal.SIGTERM) -> float:
        """Send `signum`; return when (monotonic seconds)."""
        sent = time.monotonic()
        self.process.send_signal(signum)
        return sent

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
