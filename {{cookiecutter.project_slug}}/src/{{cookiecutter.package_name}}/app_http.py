"""Transport layer: {{ cookiecutter.__prefix }}Server, the example API on a small standard-library HTTP server.

Your routes are the `self.routes` table: (method, path) -> async handler, with
`{name}` path segments in `request.params`. Every route but the probes needs
`Authorization: Bearer <API_KEY>`. GET /healthz answers 200 while the process
runs; GET /readyz answers 200 while serving and 503 once shutdown has begun,
so load balancers stop sending traffic before the listener closes. The
HTTP/1.1 mechanics live in http11.py.
"""

import asyncio
import json
import socket
from dataclasses import asdict, replace
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
from .http11 import HttpServer, Request, Response, Routes, json_response, route
{%- if cookiecutter.flavor == "minimal" %}
from .task_manager import SimpleTaskManager as TaskManager
{%- endif %}

logger = get_logger(__name__)
PROBES = ("/healthz", "/readyz")  # open without the API key, and left out of the access log
NAME_EXPECTED = {"error": 'expected a JSON object {"name": "<non-empty string>"}'}


class {{ cookiecutter.__prefix }}Server:
    """Serves the API on SERVER_IP:SERVER_PORT; drains it on shutdown.

    bind() makes the listening socket, run_server() serves until
    exit_handler() has drained: readiness 503, wait DRAIN_DELAY, stop
    accepting, let requests in flight finish, close idle connections.
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
        self.routes: Routes = {
            ("GET", "/healthz"): self.healthz,
            ("GET", "/readyz"): self.readyz,
            ("POST", "/items"): self.create_item,
            ("GET", "/items/{item_id}"): self.get_item,
        }
        self.ready = False
        self.shutdown_step = "not started"  # names the step a missed deadline interrupted
        self.stop_reason = ""
        self._http = HttpServer(self.dispatch, quiet_paths=PROBES)
        self._socket: socket.socket | None = None
        self._socket_taken = False
        self._drained = asyncio.Event()

    async def healthz(self, request: Request) -> Response:
        return Response(HTTPStatus.OK, b"ok\n")

    async def readyz(self, request: Request) -> Response:
        if self.ready:
            return Response(HTTPStatus.OK, b"ready\n")
        return Response(HTTPStatus.SERVICE_UNAVAILABLE, b"shutting down\n")

    async def create_item(self, request: Request) -> Response:
        try:
            data = json.loads(request.body)
        except ValueError:  # not JSON, or not UTF-8
            data = None
        name = data.get("name") if isinstance(data, dict) else None
        if not isinstance(name, str) or not name:
            return json_response(HTTPStatus.UNPROCESSABLE_ENTITY, NAME_EXPECTED)
        item = await self.client.add_item(name)
        return json_response(HTTPStatus.CREATED, asdict(item), {"Location": f"/items/{item.id}"})

    async def get_item(self, request: Request) -> Response:
        item = await self.client.get_item(request.params["item_id"])
        if item is None:
            return json_response(HTTPStatus.NOT_FOUND, {"error": "no such item"})
        return json_response(HTTPStatus.OK, asdict(item))

    async def dispatch(self, request: Request) -> Response:
        """Route `request`, check its API key, run its handler."""
        found = route(self.routes, request)
        if isinstance(found, Response):
            response = found
        elif request.path not in PROBES and not self._authorized(request):
            response = Response(HTTPStatus.UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
        else:
            handler, params = found
            try:
                response = await handler(replace(request, params=params))
            except Exception:
                logger.exception("Handler for %s %s failed", request.method, request.path)
                response = Response(HTTPStatus.INTERNAL_SERVER_ERROR, b"internal error\n")
        return response

    def _authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and self.env.API_KEY.matches(token)

    def request_stop(self, reason: str = "a stop request") -> None:
        """Ask the service to stop; the shutdown itself runs in exit_handler().

        `reason` (the signal's name, from the graceful-exit helper) is kept in
        `stop_reason` for the shutdown notice; the first request's wins.
        """
        self.ready = False
        self.stop_reason = self.stop_reason or reason
        self.tm.stop_signal.set()

    async def bind(self) -> None:
        """Make the listening socket on SERVER_IP:SERVER_PORT; accept nothing yet.

        Raises OSError if the address cannot be bound (in use, not on this host).
        """
        ip = self.env.SERVER_IP
        family = socket.AF_INET6 if ":" in ip else socket.AF_INET
        self._socket = socket.create_server((ip, self.env.SERVER_PORT), family=family)

    async def run_server(self) -> None:
        """Serve on the socket from bind() until exit_handler() has drained."""
        assert self._socket is not None, "bind() first"
        if not self._drained.is_set():  # else exit_handler() ran before we started
            self._socket_taken = True  # from here the listener owns (and closes) the socket
            host, port = await self._http.start(self._socket)  # stops at once if drained
            if not self._drained.is_set():
                self.ready = True
                logger.info("Listening on http://%s:%d", f"[{host}]" if ":" in host else host, port)
        await self._drained.wait()

    async def exit_handler(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Drain the transport; the entrypoint then stops the client and the tasks.

        Cancelled (the drain's share of SHUTDOWN_TIMEOUT is spent), it drops the
        connections still open, logs how many requests it abandoned, and
        re-raises the CancelledError.
        """
        self.ready = False
        try:
            if self._http.started:  # else nobody was sent here: no need to wait
                self.shutdown_step = f"DRAIN_DELAY ({self.env.DRAIN_DELAY:g} s)"
                await asyncio.sleep(self.env.DRAIN_DELAY)
            self.shutdown_step = "requests in flight"
            await self._http.drain()
        except asyncio.CancelledError:
            logger.error("Abandoned %d requests in flight", self._http.abandon())
            raise
        finally:
            self._drained.set()
            if self._socket is not None and not self._socket_taken:
                self._socket.close()  # bound, never served
