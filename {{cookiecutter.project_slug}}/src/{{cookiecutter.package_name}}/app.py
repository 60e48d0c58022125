"""Transport layer: {{ cookiecutter.__prefix }}Server, a small HTTP/1.1 server with health probes.

It is the placeholder you replace with your real transport. Routes live in one
table, `server.routes` (path -> async handler). GET /healthz answers 200 while
the process runs; GET /readyz answers 200 while serving and 503 once shutdown
has begun, so load balancers stop sending traffic before the listener closes.
"""

import asyncio
import re
import socket
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from http import HTTPStatus
{%- if cookiecutter.flavor == "minimal" %}
from logging import getLogger as get_logger
{%- endif %}
from types import TracebackType
{%- if cookiecutter.flavor == "caesari" %}

from caesari_aio import AsyncTaskManager as TaskManager
from caesari_logger.std_logger import get_logger
{%- endif %}

from .client import {{ cookiecutter.__prefix }}Client
from .environment import AppEnvironment
{%- if cookiecutter.flavor == "minimal" %}
from .task_manager import SimpleTaskManager as TaskManager
{%- endif %}

logger = get_logger(__name__)

MAX_HEAD_BYTES = 8 * 1024  # request line and headers; more gets 431
IDLE_TIMEOUT_S = 30.0  # a keep-alive connection with no request is closed quietly
READ_TIMEOUT_S = 10.0  # for the rest of a request head once it has begun; else 408
WRITE_TIMEOUT_S = 5.0  # for a client to take a response; else the connection is dropped
REQUEST_LINE = re.compile(r"([A-Z]+) (/[!-~]*) HTTP/1\.([01])")  # visible ASCII target
HEADER = re.compile(r"([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*([\t\x20-\x7e\x80-\xff]*?)[ \t]*")


@dataclass(frozen=True)
class Request:
    method: str
    path: str  # without the query string
    headers: dict[str, str]  # names in lower case


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes = b""
    content_type: str = "text/plain; charset=utf-8"


Handler = Callable[[Request], Awaitable[Response]]


class {{ cookiecutter.__prefix }}Server:
    """Serves HTTP on SERVER_IP:SERVER_PORT and runs the shutdown sequence.

    run_server() listens until exit_handler() has closed the listener.
    exit_handler() shuts down in this order: readiness 503, wait DRAIN_DELAY,
    close the listener, let requests in flight finish, close idle connections,
    client.stop(), cancel the task manager's tasks. Connection handlers end by
    returning, never by being cancelled.
    """

    def __init__(
        self,
        env: AppEnvironment,
        client: {{ cookiecutter.__prefix }}Client,
        task_manager: TaskManager,
    ) -> None:
        self.env = env
        self.client = client
        self.tm = task_manager
        self.routes: dict[str, Handler] = {"/healthz": self.healthz, "/readyz": self.readyz}
        self.ready = False
        self.shutdown_step = "not started"  # names the step a missed deadline interrupted
        self._listener: asyncio.Server | None = None
        self._listener_closed = False
        self._closed = asyncio.Event()  # set by exit_handler() once the transport is down
        self._connections: dict[asyncio.StreamWriter, bool] = {}  # -> a request is in flight
        self._no_connections = asyncio.Event()
        self._no_connections.set()

    def request_stop(self) -> None:
        """Ask the service to stop; the shutdown itself runs in exit_handler()."""
        self.tm.stop_signal.set()

    async def healthz(self, request: Request) -> Response:
        return Response(HTTPStatus.OK, b"ok\n")

    async def readyz(self, request: Request) -> Response:
        if self.ready:
            return Response(HTTPStatus.OK, b"ready\n")
        return Response(HTTPStatus.SERVICE_UNAVAILABLE, b"shutting down\n")

    async def run_server(self) -> None:
        """Listen and serve until exit_handler() has closed the listener.

        Raises OSError if SERVER_IP:SERVER_PORT cannot be bound.
        """
        # Bound here rather than by start_server(host, port): that would resolve
        # the address on a thread pool (uvloop keeps its threads for good), and a
        # signal delivered to such a thread can arrive while GracefulExit swaps
        # handlers with the signals blocked in the main thread only.
        ip = self.env.SERVER_IP
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        listening_socket = socket.create_server((ip, self.env.SERVER_PORT), family=family)
        self._listener = await asyncio.start_server(
            self._serve_connection, sock=listening_socket, limit=MAX_HEAD_BYTES
        )
        try:
            if not self._closed.is_set():  # else exit_handler() ran while we were binding
                host, port = self._listener.sockets[0].getsockname()[:2]
                self.ready = True
                logger.info("Listening on http://%s:%d", f"[{host}]" if ":" in host else host, port)
            await self._closed.wait()
        finally:
            self._listener.close()

    async def exit_handler(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Run the shutdown sequence once; does not wait for the cancelled tasks.

        Raises what client.stop() raised, after cancelling the tasks.
        """
        self.ready = False
        if self._listener is not None:
            self.shutdown_step = f"DRAIN_DELAY ({self.env.DRAIN_DELAY:g} s)"
            await asyncio.sleep(self.env.DRAIN_DELAY)
            self.shutdown_step = "closing connections (requests in flight)"
            self._listener.close()
            self._listener_closed = True
            for writer, in_flight in self._connections.items():
                if not in_flight:
                    writer.close()  # idle: its handler sees EOF and returns
            await self._no_connections.wait()
            await self._listener.wait_closed()
        self._closed.set()
        try:
            self.shutdown_step = "client.stop()"
            await self.client.stop()
        finally:
            self.shutdown_step = "cancelling tasks"
            self.tm.cancel_all_tasks()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._connections[writer] = False
        self._no_connections.clear()
        try:
            while not self._listener_closed:
                if not await self._serve_request(reader, writer):
                    break
                await asyncio.sleep(0)  # pipelined requests: let other connections run
        except (ConnectionError, TimeoutError):
            writer.transport.abort()  # gone, or not taking responses: drop unsent data
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
            return False  # closed by the client, or by exit_handler() while idle
        try:
            async with asyncio.timeout(READ_TIMEOUT_S):
                head = first + await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False
        except asyncio.LimitOverrunError:
            await self._send(writer, Response(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE), False)
            return False
        except TimeoutError:
            await self._send(writer, Response(HTTPStatus.REQUEST_TIMEOUT), False)
            return False
        request = _parse_head(head)
        if request is None:
            await self._send(writer, Response(HTTPStatus.BAD_REQUEST, b"malformed\n"), False)
            return False
        self._connections[writer] = True
        try:
            response = await self._dispatch(request)
        finally:
            self._connections[writer] = False
        # Bodies are not read: a request that has one ends its connection.
        keep_alive = (
            request.headers.get("connection", "").lower() != "close"
            and "transfer-encoding" not in request.headers
            and request.headers.get("content-length", "0") == "0"
            and self.ready  # while draining, send clients elsewhere
        )
        await self._send(writer, response, keep_alive, head_only=request.method == "HEAD")
        logger.debug("%s %s %d", request.method, request.path, response.status)
        return keep_alive

    async def _dispatch(self, request: Request) -> Response:
        handler = self.routes.get(request.path)
        if handler is None:
            return Response(HTTPStatus.NOT_FOUND, b"not found\n")
        if request.method not in ("GET", "HEAD"):
            return Response(HTTPStatus.METHOD_NOT_ALLOWED, b"method not allowed\n")
        try:
            return await handler(request)
        except Exception:
            logger.exception("Handler for %s failed", request.path)
            return Response(HTTPStatus.INTERNAL_SERVER_ERROR, b"internal error\n")

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        response: Response,
        keep_alive: bool,
        head_only: bool = False,
    ) -> None:
        status = HTTPStatus(response.status)
        head = (
            f"HTTP/1.1 {status.value} {status.phrase}\r\n"
            f"Content-Type: {response.content_type}\r\n"
            f"Content-Length: {len(response.body)}\r\n"
            f"Connection: {'keep-alive' if keep_alive else 'close'}\r\n"
            + ("Allow: GET, HEAD\r\n" if status == HTTPStatus.METHOD_NOT_ALLOWED else "")
            + "\r\n"
        )
        writer.write(head.encode("latin-1") + (b"" if head_only else response.body))
        async with asyncio.timeout(WRITE_TIMEOUT_S):
            await writer.drain()


def _parse_head(head: bytes) -> Request | None:
    """Parse a request head (request line and headers); None if it is malformed."""
    # Empty lines before the request line are ignored, as RFC 9112 asks.
    lines = head.lstrip(b"\r\n").decode("latin-1").split("\r\n")[:-2]
    if not lines:
        return None
    request_line, *header_lines = lines
    match = REQUEST_LINE.fullmatch(request_line)
    if match is None:
        return None
    method, target, minor_version = match.groups()
    headers: dict[str, str] = {}
    for line in header_lines:
        field = HEADER.fullmatch(line)
        if field is None:
            return None
        name = field[1].lower()
        if name in headers and name in ("content-length", "transfer-encoding"):
            return None  # conflicting framing: the way to request smuggling
        headers[name] = field[2]
    length = headers.get("content-length", "0")
    if not (length.isascii() and length.isdigit()):
        return None
    if minor_version == "0" and headers.get("connection", "").lower() != "keep-alive":
        headers["connection"] = "close"
    return Request(method, target.partition("?")[0], headers)
