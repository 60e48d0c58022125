"""Run the service as a real process and talk HTTP to it."""

import http.client
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Protocol

import pytest

SCRIPT = Path(sys.executable).with_name("run-{{ cookiecutter.project_slug }}")
FAULTS = Path(__file__).with_name("faults.py")
LISTENING = re.compile(r"Listening on http://(\S+):(\d+)")
# A liveness bound for anything that includes starting the interpreter and importing
# the service (a framework import can take seconds on a loaded machine); it catches
# hangs, it measures nothing.
STARTUP_S = 20.0
BASE_ENV = {"MODE": "dev", "API_KEY": "test-key", "SERVER_PORT": "0", "SHUTDOWN_TIMEOUT": "1"}


class Service:
    """The service as a child process; its stdout and stderr collected line by line."""

    def __init__(self, argv: list[str], env: Mapping[str, str]) -> None:
        self.process = subprocess.Popen(
            argv,
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()
        with self._changed:
            self._changed.notify_all()

    @property
    def output(self) -> str:
        with self._changed:
            return "".join(self.lines)

    def wait_for_line(
        self, pattern: str | re.Pattern[str], timeout: float = STARTUP_S
    ) -> re.Match[str]:
        """Return the first output line matching `pattern`; fail after `timeout` seconds."""
        compiled = re.compile(pattern)
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for line in self.lines:
                    if match := compiled.search(line):
                        return match
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._reader.is_alive():
                    pytest.fail(f"no line matching {compiled.pattern!r}:\n{''.join(self.lines)}")
                self._changed.wait(remaining)

    def wait_until_listening(self, timeout: float = STARTUP_S) -> tuple[str, int]:
        """Wait for the startup line; return the address really bound."""
        match = self.wait_for_line(LISTENING, timeout)
        return match[1], int(match[2])

    def send_signal(self, sig: signal.Signals) -> None:
        self.process.send_signal(sig)

    def wait(self, timeout: float = STARTUP_S) -> int:
        """Wait for the process to exit; return its exit code. Fail if it hangs."""
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            pytest.fail(f"still running after {timeout} s:\n{self.output}")
        self._reader.join(timeout)
        return code


def get(host: str, port: int, path: str, timeout: float = 5) -> tuple[int, bytes]:
    """GET `path` on a fresh connection, without the API key; return the status and body."""
    status, _, body = call(host, port, "GET", path, key=None, timeout=timeout)
    return status, body


def call(
    host: str,
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    key: str | None = BASE_ENV["API_KEY"],
    timeout: float = 5,
) -> tuple[int, http.client.HTTPMessage, bytes]:
    """Send one request on a fresh connection, with `key` as the bearer token if given.

    Returns the status, the response headers and the body.
    """
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request(method, path, body, headers)
        response = connection.getresponse()
        return response.status, response.headers, response.read()
    finally:
        connection.close()


class StartService(Protocol):
    def __call__(
        self,
        env: Mapping[str, str] | None = None,
        *faults: str,
        args: Sequence[str] = (),
        python_args: Sequence[str] = (),
        wrapper_args: Sequence[str] = (),
    ) -> Service:
        """Start the service on the event loop under test, with `faults` injected.

        Without faults, options or a forced loop this is `run-{{ cookiecutter.project_slug }} [args]`;
        otherwise `python [python_args] faults.py [wrapper_args] [faults] -- [args]`.
        """
        ...
