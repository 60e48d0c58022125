"""The standard-library transport, in process: parsing, limits, routes and the drain order.

The API itself (auth, items, probes) is tested for every transport in test_api.py.
"""

import asyncio
from collections.abc import AsyncIterator

import pytest

from {{ cookiecutter.package_name }} import app, http11
from {{ cookiecutter.package_name }}.client import {{ cookiecutter.__prefix }}Client
from {{ cookiecutter.package_name }}.entrypoint import SupervisedTaskManager
from {{ cookiecutter.package_name }}.environment import get_app_environment
from {{ cookiecutter.package_name }}.http11 import Request, Response


@pytest.fixture
async def server() -> AsyncIterator[app.{{ cookiecutter.__prefix }}Server]:
    env = get_app_environment(
        {"MODE": "dev", "API_KEY": "k", "SERVER_PORT": "0", "DRAIN_DELAY": "0.2"}
    )
    tm = SupervisedTaskManager()
    server = app.{{ cookiecutter.__prefix }}Server(env, {{ cookiecutter.__prefix }}Client(env, tm), tm)
    await server.bind()
    task = tm.add_task(server.run_server(), name="server")
    async with asyncio.timeout(5):
        while not server.ready:  # noqa: ASYNC110 (readiness is a flag, not an event)
            await asyncio.sleep(0.01)
    yield server
    if not task.done():
        await server.exit_handler(None, None, None)
    await asyncio.wait({task}, timeout=5)
    assert not tm.failed


async def exchange(server: app.{{ cookiecutter.__prefix }}Server, data: bytes) -> bytes:
    """Send raw bytes on a new connection; return everything until the server closes it."""
    host, port = address(server)
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(data)
    async with asyncio.timeout(5):
        answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    return answer


AUTH = b"Authorization: Bearer k\r\n"


def address(server: app.{{ cookiecutter.__prefix }}Server) -> tuple[str, int]:
    assert server._socket is not None
    host, port = server._socket.getsockname()[:2]
    return host, port


async def draining(server: app.{{ cookiecutter.__prefix }}Server) -> None:
    """Wait until the drain has closed the listener (DRAIN_DELAY is over)."""
    async with asyncio.timeout(5):
        while not server._http._draining:  # noqa: ASYNC110 (a flag, not an event)
            await asyncio.sleep(0.01)


def status(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


@pytest.mark.parametrize(
    ("request_bytes", "code"),
    [
        (b"GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", 200),
        (b"GET /healthz?verbose=1 HTTP/1.0\r\n\r\n", 200),
        (b"GET /nope HTTP/1.1\r\nConnection: close\r\n\r\n", 404),
        (b"POST /healthz HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 405),
        (b"POST /items HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 411),
        (b"POST /items HTTP/1.1\r\nContent-Length: 1048577\r\n\r\n", 413),
        (b"POST /items HTTP/1.1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", 401),
        (b"GET /items/1/more HTTP/1.1\r\nConnection: close\r\n\r\n", 404),
        (b"GARBAGE\r\n\r\n", 400),
        (b"\x00\xff\xfe binary\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\nX: " + b"a" * 9000 + b"\r\n\r\n", 431),
        (b"\r\nGET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n", 200),
        (b"GET /a\x1bb HTTP/1.1\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\nX: a\x00b\r\n\r\n", 400),
        (b"\n\r\n\r\n", 400),
        (b"\r\n\r\n\r\n", 400),
        (b"GET /healthz HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\n", 400),
    ],
)
async def test_status_codes(
    server: app.{{ cookiecutter.__prefix }}Server,
    request_bytes: bytes,
    code: int,
) -> None:
    assert status(await exchange(server, request_bytes)) == code


async def test_head_has_no_body(server: app.{{ cookiecutter.__prefix }}Server) -> None:
    answer = await exchange(server, b"HEAD /healthz HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert answer.endswith(b"\r\n\r\n")
    assert b"Content-Length: 3" in answer


async def test_keep_alive_serves_several_requests(server: app.{{ cookiecutter.__prefix }}Server) -> None:
    one = b"GET /healthz HTTP/1.1\r\n\r\n"
    last = b"GET /readyz HTTP/1.1\r\nConnection: close\r\n\r\n"
    answer = await exchange(server, one + one + last)
    assert answer.count(b"HTTP/1.1 200 OK") == 3


async def test_a_route_added_to_the_table_is_served(server: app.{{ cookiecutter.__prefix }}Server) -> None:
    async def hello(request: Request) -> Response:
        return Response(200, f"hello {request.params['who']} {request.method}".encode())

    server.routes["GET", "/hello/{who}"] = hello
    request = b"GET /hello/you HTTP/1.1\r\n" + AUTH + b"Connection: close\r\n\r\n"
    answer = await exchange(server, request)
    assert answer.endswith(b"hello you GET")


async def test_a_failing_route_answers_500_and_the_server_goes_on(
    server: app.{{ cookiecutter.__prefix }}Server,
) -> None:
    async def broken(request: Request) -> Response:
        raise RuntimeError("route bug")

    server.routes["GET", "/broken"] = broken
    assert status(await exchange(server, b"GET /broken HTTP/1.0\r\n" + AUTH + b"\r\n")) == 500
    assert status(await exchange(server, b"GET /healthz HTTP/1.0\r\n\r\n")) == 200


async def test_drain_readiness_503_then_in_flight_finishes(
    server: app.{{ cookiecutter.__prefix }}Server,
) -> None:
    started = asyncio.Event()

    async def slow(request: Request) -> Response:
        started.set()
        await asyncio.sleep(0.3)
        return Response(200, b"slow done")

    server.routes["GET", "/slow"] = slow
    host, port = address(server)
    in_flight = asyncio.create_task(exchange(server, b"GET /slow HTTP/1.1\r\n" + AUTH + b"\r\n"))
    await asyncio.wait_for(started.wait(), timeout=5)
    shutdown = asyncio.create_task(server.exit_handler(None, None, None))
    await asyncio.sleep(0)
    answer = await exchange(server, b"GET /readyz HTTP/1.1\r\n\r\n")  # during DRAIN_DELAY
    assert status(answer) == 503
    assert (await in_flight).endswith(b"slow done")
    await asyncio.wait_for(shutdown, timeout=5)
    with pytest.raises(ConnectionRefusedError):
        await asyncio.open_connection(host, port)


async def test_a_stalled_half_request_gets_408_and_others_are_served(
    server: app.{{ cookiecutter.__prefix }}Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http11, "READ_TIMEOUT_S", 0.2)
    stalled = asyncio.create_task(exchange(server, b"GET /healthz HTTP/1.1\r\nHost: x"))
    assert status(await exchange(server, b"GET /healthz HTTP/1.0\r\n\r\n")) == 200
    assert status(await stalled) == 408


async def test_200_concurrent_keep_alive_connections(server: app.{{ cookiecutter.__prefix }}Server) -> None:
    host, port = address(server)
    streams = [await asyncio.open_connection(host, port) for _ in range(200)]
    try:
        for _, writer in streams:
            writer.write(b"GET /healthz HTTP/1.1\r\n\r\n")
        for reader, _ in streams:
            async with asyncio.timeout(5):
                assert (await reader.readuntil(b"ok\n")).startswith(b"HTTP/1.1 200")
    finally:
        for _, writer in streams:
            writer.close()
    assert status(await exchange(server, b"GET /healthz HTTP/1.0\r\n\r\n")) == 200


async def test_a_client_leaving_mid_response_does_not_hurt_the_server(
    server: app.{{ cookiecutter.__prefix }}Server,
) -> None:
    started = asyncio.Event()
    finished = asyncio.Event()

    async def slow(request: Request) -> Response:
        started.set()
        await asyncio.sleep(0.1)
        finished.set()
        return Response(200, b"x" * 1_000_000)

    server.routes["GET", "/slow"] = slow
    host, port = address(server)
    _, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET /slow HTTP/1.1\r\n" + AUTH + b"\r\n")
    await asyncio.wait_for(started.wait(), timeout=5)
    writer.transport.abort()  # gone before the answer
    await asyncio.wait_for(finished.wait(), timeout=5)
    assert status(await exchange(server, b"GET /healthz HTTP/1.0\r\n\r\n")) == 200


async def test_an_idle_keep_alive_connection_is_closed_quietly(
    server: app.{{ cookiecutter.__prefix }}Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http11, "IDLE_TIMEOUT_S", 0.2)
    answer = await exchange(server, b"GET /healthz HTTP/1.1\r\n\r\n")
    assert answer.count(b"HTTP/1.1") == 1  # the 200, then no unsolicited 408


async def test_a_client_that_never_reads_is_dropped(
    server: app.{{ cookiecutter.__prefix }}Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http11, "WRITE_TIMEOUT_S", 0.2)

    async def big(request: Request) -> Response:
        return Response(200, b"x" * 50_000_000)

    server.routes["GET", "/big"] = big
    host, port = address(server)
    _, writer = await asyncio.open_connection(host, port)
    writer.write(b"GET /big HTTP/1.1\r\n" + AUTH + b"\r\n")  # and never read
    async with asyncio.timeout(5):
        while server._http._connections:  # noqa: ASYNC110 (the set empties when it is dropped)
            await asyncio.sleep(0.05)
    writer.close()
    assert status(await exchange(server, b"GET /healthz HTTP/1.0\r\n\r\n")) == 200


async def test_a_pipelining_client_does_not_starve_the_others(
    server: app.{{ cookiecutter.__prefix }}Server,
) -> None:
    handled = 0

    async def count(request: Request) -> Response:
        nonlocal handled
        handled += 1
        return Response(200)

    server.routes["GET", "/count"] = count
    host, port = address(server)
    _, hog = await asyncio.open_connection(host, port)
    hog.write((b"GET /count HTTP/1.1\r\n" + AUTH + b"\r\n") * 5000)  # and never read the answers
    async with asyncio.timeout(5):
        while not handled:  # noqa: ASYNC110 (a counter, not an event)
            await asyncio.sleep(0)
    assert status(await exchange(server, b"GET /readyz HTTP/1.0\r\n\r\n")) == 200
    assert handled < 100  # answered between the hog's requests, not after its backlog
    hog.close()


async def test_a_body_is_read_by_content_length_and_routed_with_params(
    server: app.{{ cookiecutter.__prefix }}Server,
) -> None:
    body = b'{"name": "first"}'
    post = b"POST /items HTTP/1.1\r\n" + AUTH + b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    get = b"GET /items/1 HTTP/1.1\r\n" + AUTH + b"Connection: close\r\n\r\n"
    answer = await exchange(server, post + get)  # both on one keep-alive connection
    created, fetched = answer.split(b"HTTP/1.1 ")[1:]
    assert created.startswith(b"201")
    assert b"Location: /items/1\r\n" in created
    assert fetched.startswith(b"200")
    assert fetched.endswith(b'{"id": "1", "name": "first"}\n')


async def test_expect_100_continue_is_answered_before_the_body(
    server: app.{{ cookiecutter.__prefix }}Server,
) -> None:
    reader, writer = await asyncio.open_connection(*address(server))
    writer.write(
        b"POST /items HTTP/1.1\r\n" + AUTH + b"Content-Length: 12\r\nExpect: 100-continue\r\n\r\n"
    )
    async with asyncio.timeout(5):
        assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
        writer.write(b'{"name": "x"}'[:12])  # 12 bytes: not JSON, but a whole body
        assert status(await reader.readuntil(b"\r\n\r\n")) == 422
    writer.close()
    await writer.wait_closed()


async def test_a_body_still_arriving_counts_as_in_flight_during_the_drain(
    server: app.{{ cookiecutter.__prefix }}Server,
) -> None:
    body = b'{"name": "late"}'
    reader, writer = await asyncio.open_connection(*address(server))
    writer.write(b"POST /items HTTP/1.1\r\n" + AUTH + b"Content-Length: %d\r\n\r\n" % len(body))
    writer.write(body[:5])
    await writer.drain()
    async with asyncio.timeout(5):
        while not any(server._http._connections.values()):  # noqa: ASYNC110 (a flag)
            await asyncio.sleep(0.01)
    shutdown = asyncio.create_task(server.exit_handler(None, None, None))
    await draining(server)
    done, _ = await asyncio.wait({shutdown}, timeout=0.3)
    assert not done  # the drain waits for the body
    writer.write(body[5:])
    async with asyncio.timeout(5):
        assert status(await reader.read()) == 201
        await shutdown
    writer.close()
    await writer.wait_closed()


async def test_a_wrong_method_gets_405_with_allow(server: app.{{ cookiecutter.__prefix }}Server) -> None:
    answer = await exchange(server, b"DELETE /items HTTP/1.1\r\nConnection: close\r\n\r\n")
    assert status(answer) == 405
    assert b"Allow: POST\r\n" in answer


async def test_abandon_drops_connections_and_counts_requests_in_flight(
    server: app.{{ cookiecutter.__prefix }}Server,
) -> None:
    started = asyncio.Event()

    async def stuck(request: Request) -> Response:
        started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    server.routes["GET", "/stuck"] = stuck
    reader, writer = await asyncio.open_connection(*address(server))
    writer.write(b"GET /stuck HTTP/1.1\r\n" + AUTH + b"\r\n")
    idle = await asyncio.open_connection(*address(server))
    await asyncio.wait_for(started.wait(), timeout=5)
    shutdown = asyncio.create_task(server.exit_handler(None, None, None))
    await draining(server)
    shutdown.cancel()
    with pytest.raises(asyncio.CancelledError):
        await shutdown
    async with asyncio.timeout(5):
        assert await reader.read() == b""  # dropped without an answer
        assert await idle[0].read() == b""
    writer.close()
    idle[1].close()
