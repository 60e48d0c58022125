"""The shutdown notice, against a webhook receiver on 127.0.0.1 run by each test."""

import asyncio
import json
import logging
import os
import socket
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from {{ cookiecutter.package_name }}.environment import Secret
from {{ cookiecutter.package_name }}.notify import send_shutdown_notice, shutdown_payload

TOKEN = "T000-B000-sk-PROBE"  # webhook URLs carry a token in the path: it must never show
PAYLOAD = {"text": "my-app is shutting down: SIGTERM", "reason": "SIGTERM"}


class Received:
    """What the receiver got: the request head's lines and the body."""

    def __init__(self) -> None:
        self.head: list[str] = []
        self.body = b""
        self.arrived = asyncio.Event()  # the whole request is in
        self.closed = asyncio.Event()  # the client closed the connection


Answer = Callable[[asyncio.StreamWriter], Coroutine[Any, Any, None]]


def status(code: int) -> Answer:
    async def answer(writer: asyncio.StreamWriter) -> None:
        writer.write(f"HTTP/1.1 {code} Whatever\r\nContent-Length: 0\r\n\r\n".encode())
        await writer.drain()

    return answer


async def never(writer: asyncio.StreamWriter) -> None:
    await asyncio.Event().wait()


@asynccontextmanager
async def receiver(answer: Answer) -> AsyncIterator[tuple[str, Received]]:
    """Serve one webhook on 127.0.0.1; yield its URL (with TOKEN) and what it receives."""
    received = Received()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("ascii")
            received.head = head.split("\r\n")[:-2]
            length = next(
                int(line.split(":", 1)[1])
                for line in received.head
                if line.lower().startswith("content-length:")
            )
            received.body = await reader.readexactly(length)
            received.arrived.set()
            answering = asyncio.create_task(answer(writer))
            await reader.read()  # until the client closes, answered or not
            received.closed.set()
            answering.cancel()
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/services/{TOKEN}?x=1", received
    finally:
        server.close()
        await server.wait_closed()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


@pytest.fixture(autouse=True)
def debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)


@pytest.fixture(autouse=True)
def nothing_shows_the_url(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    assert TOKEN not in caplog.text
    assert "127.0.0.1" not in caplog.text


async def test_posts_the_payload_as_json_and_returns_true_on_2xx(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with receiver(status(204)) as (url, received):
        assert await send_shutdown_notice(Secret(url), PAYLOAD, timeout_s=5) is True
        await asyncio.wait_for(received.closed.wait(), 5)
    assert received.head[0] == f"POST /services/{TOKEN}?x=1 HTTP/1.1"
    fields = [line.split(":", 1) for line in received.head[1:]]
    headers = {name.lower(): value.strip() for name, value in fields}
    assert headers["content-type"] == "application/json"
    assert headers["connection"] == "close"
    assert headers["host"] == url.split("/")[2]
    assert json.loads(received.body) == PAYLOAD
    assert warnings(caplog) == []


@pytest.mark.parametrize("code", [301, 400, 404, 500, 503])
async def test_an_answer_other_than_2xx_is_false_and_one_warning(
    caplog: pytest.LogCaptureFixture, code: int
) -> None:
    async with receiver(status(code)) as (url, _):
        assert await send_shutdown_notice(Secret(url), PAYLOAD, timeout_s=5) is False
    [warning] = warnings(caplog)
    assert f"HTTP {code}" in warning


async def test_an_answer_that_is_not_http_is_false(caplog: pytest.LogCaptureFixture) -> None:
    async def garbage(writer: asyncio.StreamWriter) -> None:
        writer.write(b"SSH-2.0-OpenSSH\r\n")

    async with receiver(garbage) as (url, _):
        assert await send_shutdown_notice(Secret(url), PAYLOAD, timeout_s=5) is False
    [warning] = warnings(caplog)
    assert "not HTTP" in warning


async def test_a_refused_connection_is_false_and_one_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = Secret(f"http://127.0.0.1:{free_port()}/services/{TOKEN}")
    assert await send_shutdown_notice(url, PAYLOAD, timeout_s=5) is False
    [warning] = warnings(caplog)
    assert "refused" in warning


async def test_a_receiver_that_never_answers_is_given_up_on_in_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.get_running_loop()
    async with receiver(never) as (url, received):
        started = loop.time()
        assert await send_shutdown_notice(Secret(url), PAYLOAD, timeout_s=0.2) is False
        elapsed = loop.time() - started
        await asyncio.wait_for(received.closed.wait(), 5)  # and the connection is closed
    assert 0.2 <= elapsed < 1.2
    [warning] = warnings(caplog)
    assert "no answer within 0.2 s" in warning


async def test_tls_to_a_plain_http_receiver_is_false_and_names_tls(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def plain(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(plain, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        url = Secret(f"https://127.0.0.1:{port}/services/{TOKEN}")
        assert await send_shutdown_notice(url, PAYLOAD, timeout_s=5) is False
    [warning] = warnings(caplog)
    assert "TLS failed" in warning


async def test_cancelling_a_send_closes_its_connection() -> None:
    async with receiver(never) as (url, received):
        send = asyncio.create_task(send_shutdown_notice(Secret(url), PAYLOAD, timeout_s=30))
        await asyncio.wait_for(received.arrived.wait(), 5)
        send.cancel()
        with pytest.raises(asyncio.CancelledError):
            await send
        await asyncio.wait_for(received.closed.wait(), 5)


@pytest.mark.parametrize(
    "url", ["ftp://127.0.0.1/x", "http:///no-host", "not a url", "http://[::1/", "http://h:x/"]
)
async def test_a_url_that_is_not_http_is_false(caplog: pytest.LogCaptureFixture, url: str) -> None:
    assert await send_shutdown_notice(Secret(url + TOKEN), PAYLOAD, timeout_s=5) is False
    assert len(warnings(caplog)) == 1


def test_shutdown_payload() -> None:
    payload = shutdown_payload("my-app", "0.1.0", "prod", "task <a & b> failed", 12.34567)
    host = socket.gethostname()
    assert payload == {
        "text": f"my-app 0.1.0 (prod) on {host} is shutting down: task &lt;a &amp; b&gt; failed",
        "service": "my-app",
        "version": "0.1.0",
        "mode": "prod",
        "host": host,
        "pid": os.getpid(),
        "reason": "task <a & b> failed",
        "uptime_s": 12.346,
    }
    json.dumps(payload)  # JSON as it is
