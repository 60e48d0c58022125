"""HTTP/1.1 mechanics for app.py: requests in, responses out, and the drain.

A deliberately small server on asyncio streams, for the placeholder transport.
It reads a request head (at most MAX_HEAD_BYTES, else 431) and a body by
Content-Length (at most MAX_BODY_BYTES, else 413; chunked bodies get 411),
answers `Expect: 100-continue`, routes by method and path with `{name}`
segments (404, 405 with Allow), and keeps connections alive. It never cancels
a connection handler: draining closes idle connections and lets the ones with
a request in flight (its body still arriving included) finish; abandon() drops
what is left.
"""

import asyncio
import json
import re
import socket
import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from contextlib import suppress
from dataclasses import dataclass, field
from http import HTTPStatus

from .logs import log_access

MAX_HEAD_BYTES = 8 * 1024  # request line and headers; more gets 431
MAX_BODY_BYTES = 1024 * 1024  # more gets 413
IDLE_TIMEOUT_S = 30.0  # a keep-alive connection with no request is closed quietly
READ_TIMEOUT_S = 10.0  # for the rest of a request once it has begun; else 408
WRITE_TIMEOUT_S = 5.0  # for a client to take a response; else the connection is dropped
LINGER_S = 2.0  # after a 411, 413 or 431, how long to drop what the client still sends
MAX_LINGER_BYTES = 16 * 1024 * 1024  # and how much of it, at most
REQUEST_LINE = re.compile(r"([A-Z]+) (/[!-~]*) HTTP/1\.([01])")  # visible ASCII target
HEADER = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\t\x20-\x7e\x80-\xff]*?)[ \t]*")
SEGMENT = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query string
    headers: dict[str, str]  # names in lower case
    body: bytes = b""
    params: dict[str, str] = field(default_factory=dict)  # the route's {name} segments


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"
    headers: Mapping[str, str] = field(default_factory=dict)


def json_response(status: int, data: object, headers: Mapping[str, str] | None = None) -> Response:
    """A Response carrying `data` as JSON."""
    body = json.dumps(data).encode() + b"\n"
    return Response(status, body, "application/json", headers or {})


Handler = Callable[[Request], Awaitable[Response]]
Routes = dict[tuple[str, str], Handler]  # (method, path pattern) -> handler


def route(routes: Routes, request: Request) -> tuple[Handler, dict[str, str]] | Response:
    """Find the handler for `request` and its {name} values, or the 404 or 405 to send."""
    allowed: list[str] = []
    for (method, pattern), handler in routes.items():
        regex = "/".join(
            f"(?P<{m[1]}>[^/]+)" if (m := SEGMENT.fullmatch(part)) else re.escape(part)
            for part in pattern.split("/")
        )
        if match := re.fullmatch(regex, request.path):
            if request.method == method or (request.method == "HEAD" and method == "GET"):
                return handler, match.groupdict()
            allowed.append(method)
    if not allowed:
        return Response(HTTPStatus.NOT_FOUND, b"not found\n")
    allow = {"Allow": ", ".join(allowed)}
    return Response(HTTPStatus.METHOD_NOT_ALLOWED, b"method not allowed\n", headers=allow)


class HttpServer:
    """Serves `dispatch` on a listening socket until drained.

    start() accepts connections; drain() stops accepting, closes idle
    connections and waits for the requests in flight; abandon() drops the
    connections still open and returns how many had a request in flight.
    Every request answered gets an access log line, except on `quiet_paths`.
    """

    def __init__(self, dispatch: Handler, quiet_paths: Collection[str] = ()) -> None:
        self.dispatch = dispatch
        self.quiet_paths = quiet_paths
        self._listener: asyncio.Server | None = None
        self._draining = False
        self._abandoned = False
        self._connections: dict[asyncio.StreamWriter, bool] = {}  # -> a request is in flight
        self._no_connections = asyncio.Event()
        self._no_connections.set()

    async def start(self, listening_socket: socket.socket) -> None:
        """Accept connections on `listening_socket` (closed by drain())."""
        self._listener = await asyncio.start_server(
            self._serve_connection, sock=listening_socket, limit=MAX_HEAD_BYTES
        )

    async def drain(self) -> None:
        """Stop accepting, close idle connections, wait until none is left."""
        assert self._listener is not None, "start() first"
        self._draining = True
        self._listener.close()
        for writer, in_flight in self._connections.items():
            if not in_flight:
                writer.close()  # idle: its handler sees EOF and returns
        await self._no_connections.wait()
        await self._listener.wait_closed()

    def abandon(self) -> int:
        """Drop every connection still open; return how many had a request in flight."""
        self._abandoned = True
        in_flight = sum(self._connections.values())
        for writer in self._connections:
            writer.transport.abort()
        return in_flight

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._connections[writer] = False
        self._no_connections.clear()
        try:
            while not self._draining:
                if not await self._serve_request(reader, writer):
                    break
                await asyncio.sleep(0)  # pipelined requests: let other connections run
        except (ConnectionError, TimeoutError):
            writer.transport.abort()  # gone, or not taking responses: drop unsent data
        except asyncio.CancelledError:
            if not self._abandoned:
                raise
            # Abandoned at shutdown, then cancelled: end by returning, because a
            # cancelled connection handler makes asyncio log a traceback (3.11, 3.12).
        finally:
            del self._connections[writer]
            if not self._connections:
                self._no_connections.set()
            writer.close()
            with suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Read one request and answer it; return whether to keep the connection."""
        try:
            async with asyncio.timeout(IDLE_TIMEOUT_S):
                first = await reader.read(1)
        except TimeoutError:
            return False
        if not first:
            return False  # closed by the client, or by drain() while idle
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                head = first + await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        except asyncio.LimitOverrunError:
            await _send(writer, Response(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE), False)
            await _linger(reader, writer)
            return False
        except TimeoutError:
            await _send(writer, Response(HTTPStatus.REQUEST_TIMEOUT), False)
            return False
        request = _parse_head(head)
        if isinstance(request, Response):
            await _send(writer, request, False)
            return False
        started = time.perf_counter()
        self._connections[writer] = True  # in flight from here: the drain waits for it
        try:
            request, error = await _read_body(reader, writer, request)
            response = error or await self.dispatch(request)
        finally:
            self._connections[writer] = False
        keep_alive = (
            error is None
            and request.headers.get("connection", "").lower() != "close"
            and not self._draining  # while draining, send clients elsewhere
        )
        await _send(writer, response, keep_alive, head_only=request.method == "HEAD")
        if request.path not in self.quiet_paths:
            log_access(request.method, request.path, response.status, started)
        if error is not None:
            await _linger(reader, writer)
        return keep_alive


async def _read_body(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: Request
) -> tuple[Request, Response | None]:
    """Return `request` with its body, or with the error to send (then close)."""
    if "transfer-encoding" in request.headers:
        return request, Response(HTTPStatus.LENGTH_REQUIRED, b"send a Content-Length\n")
    length = int(request.headers.get("content-length", "0"))
    if length > MAX_BODY_BYTES:
        return request, Response(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, b"body too large\n")
    if length == 0:
        return request, None
    if request.headers.get("expect", "").lower() == "100-continue":
        writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
    try:
        async with asyncio.timeout(READ_TIMEOUT_S):
            body = await reader.readexactly(length)
    except TimeoutError:
        return request, Response(HTTPStatus.REQUEST_TIMEOUT)
    except asyncio.IncompleteReadError as error:
        raise ConnectionResetError("the client left mid-body") from error
    return Request(request.method, request.path, request.headers, body), None


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """After an answer sent with the request unread: end our side, then read and drop
    what the client still sends (bounded), so that closing does not reset the
    connection before the client has read the answer."""
    with suppress(ConnectionError, TimeoutError, OSError):
        if writer.can_write_eof():
            writer.write_eof()
        async with asyncio.timeout(LINGER_S):
            dropped = 0
            while dropped < MAX_LINGER_BYTES and (chunk := await reader.read(64 * 1024)):
                dropped += len(chunk)


async def _send(
    writer: asyncio.StreamWriter, response: Response, keep_alive: bool, head_only: bool = False
) -> None:
    status = HTTPStatus(response.status)
    headers = {
        "Content-Type": response.content_type,
        "Content-Length": str(len(response.body)),
        "Connection": "keep-alive" if keep_alive else "close",
        **response.headers,
    }
    head = f"HTTP/1.1 {status.value} {status.phrase}\r\n"
    head += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    writer.write(head.encode("latin-1") + (b"" if head_only else response.body))
    async with asyncio.timeout(WRITE_TIMEOUT_S):
        await writer.drain()


def _parse_head(head: bytes) -> Request | Response:
    """Parse a request head (request line and headers), or return the 400 to send."""
    bad = Response(HTTPStatus.BAD_REQUEST, b"malformed\n")
    # Empty lines before the request line are ignored, as RFC 9112 asks.
    lines = head.lstrip(b"\r\n").decode("latin-1").split("\r\n")[:-2]
    if not lines:
        return bad
    request_line, *header_lines = lines
    match = REQUEST_LINE.fullmatch(request_line)
    if match is None:
        return bad
    method, target, minor_version = match.groups()
    headers: dict[str, str] = {}
    for line in header_lines:
        header = HEADER.fullmatch(line)
        if header is None:
            return bad
        name = header[1].lower()
        if name in headers and name in ("content-length", "transfer-encoding"):
            return bad  # conflicting framing: the way to request smuggling
        headers[name] = header[2]
    length = headers.get("content-length", "0")
    if not (length.isascii() and length.isdigit()):
        return bad
    if minor_version == "0" and headers.get("connection", "").lower() != "keep-alive":
        headers["connection"] = "close"
    return Request(method, target.partition("?")[0], headers)
