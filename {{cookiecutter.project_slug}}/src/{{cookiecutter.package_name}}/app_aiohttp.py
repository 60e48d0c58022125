"""Transport layer: {{ cookiecutter.__prefix }}Server, the example API on aiohttp.

Your routes go on `routes` below; handlers reach the business logic as
`request.app[SERVER].client`. Every route but the probes needs
`Authorization: Bearer <API_KEY>` (checked once, in the middleware). GET
/healthz answers 200 while the process runs; GET /readyz answers 200 while
serving and 503 once shutdown has begun. Startup work belongs in the client's
initialize(), not in aiohttp's on_startup/cleanup_ctx: the entrypoint owns
startup and shutdown, with one deadline for both.
"""

import asyncio
import socket
import time
from dataclasses import asdict
{%- if cookiecutter.flavor == "minimal" %}
from logging import getLogger as get_logger
{%- endif %}
from types import TracebackType

from aiohttp import web
from aiohttp.typedefs import Handler
{%- if cookiecutter.flavor == "caesari" %}
from caesari_aio import AsyncTaskManager as TaskManager
from caesari_logger.std_logger import get_logger
{%- endif %}

from .client import {{ cookiecutter.__prefix }}Client
from .environment import AppEnvironment
from .logs import log_access
{%- if cookiecutter.flavor == "minimal" %}
from .task_manager import SimpleTaskManager as TaskManager
{%- endif %}

logger = get_logger(__name__)
PROBES = ("/healthz", "/readyz")  # open without the API key, and left out of the access log
MAX_BODY_BYTES = 1024 * 1024  # more gets 413
ACCEPT_SETTLE_S = 0.001  # see exit_handler()
NAME_EXPECTED = {"error": 'expected a JSON object {"name": "<non-empty string>"}'}
SERVER: web.AppKey["{{ cookiecutter.__prefix }}Server"] = web.AppKey("server")
routes = web.RouteTableDef()


@routes.get("/healthz")
async def healthz(request: web.Request) -> web.Response:
    return web.Response(text="ok\n")


@routes.get("/readyz")
async def readyz(request: web.Request) -> web.Response:
    if request.app[SERVER].ready:
        return web.Response(text="ready\n")
    return web.Response(status=503, text="shutting down\n")


@routes.post("/items")
async def create_item(request: web.Request) -> web.Response:
    try:
        data = await request.json()
    except ValueError:  # not JSON, or not UTF-8
        data = None
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name:
        return web.json_response(NAME_EXPECTED, status=422)
    item = await request.app[SERVER].client.add_item(name)
    return web.json_response(asdict(item), status=201, headers={"Location": f"/items/{item.id}"})


@routes.get("/items/{item_id}")
async def get_item(request: web.Request) -> web.Response:
    item = await request.app[SERVER].client.get_item(request.match_info["item_id"])
    if item is None:
        return web.json_response({"error": "no such item"}, status=404)
    return web.json_response(asdict(item))


class {{ cookiecutter.__prefix }}Server:
    """Serves the aiohttp app on SERVER_IP:SERVER_PORT; drains it on shutdown.

    Runs on web.AppRunner(handle_signals=False) and a SockSite on our own
    socket, so aiohttp installs no signal handlers. exit_handler() drains:
    readiness 503, wait DRAIN_DELAY, then runner.cleanup(), which stops
    accepting, closes idle connections and waits for requests in flight.
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
        self.ready = False
        self.shutdown_step = "not started"  # names the step a missed deadline interrupted
        self.stop_reason = ""
        self.app = web.Application(middlewares=[self._track], client_max_size=MAX_BODY_BYTES)
        self.app[SERVER] = self
        self.app.add_routes(routes)
        # The entrypoint bounds the drain; aiohttp's own bound is the whole budget.
        self._runner = web.AppRunner(
            self.app, handle_signals=False, access_log=None, shutdown_timeout=env.SHUTDOWN_TIMEOUT
        )
        self._socket: socket.socket | None = None
        self._socket_taken = False
        self._serving = False
        self._drained = asyncio.Event()
        self._in_flight = 0

    @web.middleware
    async def _track(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Check the API key, count the request in flight, log it unless a probe."""
        started = time.perf_counter()
        status = 500  # if the handler fails
        self._in_flight += 1
        try:
            known = request.match_info.http_exception is None  # else 404 or 405 follows
            if known and request.path not in PROBES and not self._authorized(request):
                raise web.HTTPUnauthorized(headers={"WWW-Authenticate": "Bearer"})
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        finally:
            self._in_flight -= 1
            if request.path not in PROBES:
                log_access(request.method, request.path, status, started)

    def _authorized(self, request: web.Request) -> bool:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
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
            self._socket_taken = True  # from here aiohttp's listener owns (and closes) it
            host, port = self._socket.getsockname()[:2]
            await self._runner.setup()
            await web.SockSite(self._runner, self._socket).start()
            if self._drained.is_set():  # exit_handler() ran while aiohttp started
                await self._runner.cleanup()
            else:
                self._serving = True
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

        Cancelled (the drain's share of SHUTDOWN_TIMEOUT is spent), it logs how
        many requests were still in flight and re-raises; they are cancelled
        with the other tasks.
        """
        self.ready = False
        try:
            if self._serving:
                self.shutdown_step = f"DRAIN_DELAY ({self.env.DRAIN_DELAY:g} s)"
                await asyncio.sleep(self.env.DRAIN_DELAY)
                self.shutdown_step = "requests in flight"
                for site in self._runner.sites:
                    await site.stop()
                # A connection accepted just before the listener closed reaches
                # aiohttp a loop iteration or two later (uvloop): let it arrive,
                # or cleanup() would not close it and would wait its timeout.
                await asyncio.sleep(ACCEPT_SETTLE_S)
                await self._runner.cleanup()
        except asyncio.CancelledError:
            logger.error("Abandoned %d requests in flight", self._in_flight)
            raise
        finally:
            self._drained.set()
            if self._socket is not None and not self._socket_taken:
                self._socket.close()  # bound, never served
