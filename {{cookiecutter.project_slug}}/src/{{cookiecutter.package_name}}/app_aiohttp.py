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
import json
import socket
import time
from dataclasses import asdict

from aiohttp import web
from aiohttp.typedefs import Handler
{%- if cookiecutter.flavor == "caesari" %}
from caesari_aio import AsyncTaskManager as TaskManager
{%- endif %}

from .client import {{ cookiecutter.__prefix }}Client
from .environment import AppEnvironment
from .logs import log_access
from .server import PROBES, BaseServer
{%- if cookiecutter.flavor == "minimal" %}
from .task_manager import SimpleTaskManager as TaskManager
{%- endif %}

MAX_BODY_BYTES = 1024 * 1024  # more gets 413
ACCEPT_SETTLE_S = 0.001  # see drain()
NAME_EXPECTED = {"error": 'expected a JSON object {"name": "<printable, non-empty string>"}'}
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
        data = json.loads(await request.read())  # JSON is UTF-8, whatever the charset says
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
        data = None
    name = data.get("name") if isinstance(data, dict) else None
    if not isinstance(name, str) or not name or not name.isprintable():
        return web.json_response(NAME_EXPECTED, status=422)
    item = await request.app[SERVER].client.add_item(name)
    return web.json_response(asdict(item), status=201, headers={"Location": f"/items/{item.id}"})


@routes.get("/items/{item_id}")
async def get_item(request: web.Request) -> web.Response:
    item = await request.app[SERVER].client.get_item(request.match_info["item_id"])
    if item is None:
        return web.json_response({"error": "no such item"}, status=404)
    return web.json_response(asdict(item))


class {{ cookiecutter.__prefix }}Server(BaseServer):
    """Serves the aiohttp app on SERVER_IP:SERVER_PORT (see BaseServer).

    Runs on web.AppRunner(handle_signals=False) and a SockSite on our own
    socket, so aiohttp installs no signal handlers; the drain is
    runner.cleanup(), which stops accepting, closes idle connections and waits
    for requests in flight.
    """

    def __init__(
        self,
        env: AppEnvironment,
        client: {{ cookiecutter.__prefix }}Client,
        task_manager: TaskManager,
    ) -> None:
        super().__init__(env, client, task_manager)
        self.app = web.Application(middlewares=[self._track], client_max_size=MAX_BODY_BYTES)
        self.app[SERVER] = self
        self.app.add_routes(routes)
        # The entrypoint bounds the drain; aiohttp's own bound is the whole budget.
        self._runner = web.AppRunner(
            self.app, handle_signals=False, access_log=None, shutdown_timeout=env.SHUTDOWN_TIMEOUT
        )
        self._in_flight = 0
        self._idle = asyncio.Event()  # set while no request is in flight
        self._idle.set()

    @web.middleware
    async def _track(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Check the API key, count the request in flight, log it unless a probe."""
        started = time.perf_counter()
        status = 500  # if the handler fails
        self._in_flight += 1
        self._idle.clear()
        try:
            known = request.match_info.http_exception is None  # else 404 or 405 follows
            authorization = request.headers.get("Authorization", "")
            if known and request.path not in PROBES and not self.authorized(authorization):
                raise web.HTTPUnauthorized(headers={"WWW-Authenticate": "Bearer"})
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as error:
            status = error.status
            raise
        except asyncio.CancelledError:
            status = 0  # abandoned at shutdown: counted in one line, not logged as a request
            raise
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()
            if status and request.path not in PROBES:
                log_access(request.method, request.path, status, started)

    async def start(self, listening_socket: socket.socket) -> None:
        await self._runner.setup()
        await web.SockSite(self._runner, listening_socket).start()

    async def drain(self) -> None:
        for site in self._runner.sites:
            await site.stop()
        # A connection accepted just before the listener closed reaches aiohttp
        # a loop iteration or two later (uvloop): let it arrive, or cleanup()
        # would not close it and would wait its timeout.
        await asyncio.sleep(ACCEPT_SETTLE_S)
        # cleanup() stops reading from every connection, which would leave a
        # request whose body is still arriving unanswered: let those finish first.
        await self._idle.wait()
        await self._runner.cleanup()

    def abandon(self) -> int:
        return self._in_flight  # cancelled with the other tasks, after client.stop()
