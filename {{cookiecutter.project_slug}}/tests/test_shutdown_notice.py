"""The shutdown notice from the running service: when it is sent, what it says, its bounds.

A webhook receiver runs in this process on 127.0.0.1 (a thread); the service is
a real process stopped by real signals.
"""

import json
import signal
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from helpers import StartService

TOKEN = "T000-B000-sk-PROBE"  # webhook URLs carry a token: it must never show


class Receiver(ThreadingHTTPServer):
    """Records the JSON body of every POST; answers 200."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.posts: list[dict[str, object]] = []
        self.arrived = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks/{TOKEN}"


class Handler(BaseHTTPRequestHandler):
    server: Receiver

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.posts.append(json.loads(body))
        self.server.arrived.set()
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the test output to the service's


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_sigterm_in_prod_sends_one_notice_naming_the_signal(
    start_service: StartService, receiver: Receiver
) -> None:
    service = start_service({"MODE": "prod", "NOTIFY_URL": receiver.url, "LOG_LEVEL": "DEBUG"})
    service.wait_until_listening()
    service.send_signal(signal.SIGTERM)
    assert service.wait(timeout=5) == 0, service.output
    [notice] = receiver.posts
    assert notice["reason"] == "SIGTERM"
    assert notice["mode"] == "prod"
    assert notice["service"] == "{{ cookiecutter.project_slug }}"
    assert "SIGTERM" in str(notice["text"])
    assert {"version", "host", "pid", "uptime_s"} <= notice.keys()
    assert TOKEN not in service.output


def test_a_crashing_task_is_the_notice_s_reason(
    start_service: StartService, receiver: Receiver
) -> None:
    service = start_service({"MODE": "staging", "NOTIFY_URL": receiver.url}, "crash-task")
    assert service.wait() == 1, service.output
    [notice] = receiver.posts
    assert "crasher" in str(notice["reason"])


def test_nothing_is_sent_in_dev(start_service: StartService, receiver: Receiver) -> None:
    service = start_service({"MODE": "dev", "NOTIFY_URL": receiver.url})
    service.wait_until_listening()
    service.send_signal(signal.SIGTERM)
    assert service.wait(timeout=5) == 0, service.output
    assert receiver.posts == []


def test_a_receiver_that_never_answers_is_one_warning_even_with_a_short_deadline(
    start_service: StartService,
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (backlog), never answers
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hooks/{TOKEN}"
        service = start_service({"MODE": "prod", "NOTIFY_URL": url, "SHUTDOWN_TIMEOUT": "1"})
        service.wait_until_listening()
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=5) == 0, service.output
    warnings = [line for line in service.output.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, service.output
    assert TOKEN not in service.output


def test_a_receiver_not_listening_is_one_warning_and_exit_0(start_service: StartService) -> None:
    with socket.socket() as unused:  # a port nobody listens on
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}/hooks/{TOKEN}"
    service = start_service({"MODE": "prod", "NOTIFY_URL": url, "SHUTDOWN_TIMEOUT": "10"})
    service.wait_until_listening()
    stopped_at = time.monotonic()
    service.send_signal(signal.SIGTERM)
    assert service.wait(timeout=5) == 0, service.output
    assert time.monotonic() - stopped_at < 2.5  # a liveness bound: the notice waits 2 s at most
    warnings = [line for line in service.output.splitlines() if "WARNING" in line]
    assert len(warnings) == 1, service.output
    assert "notice" in warnings[0]
    assert TOKEN not in service.output
