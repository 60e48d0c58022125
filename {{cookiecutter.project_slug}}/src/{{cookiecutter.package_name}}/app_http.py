"""Transport layer: {{ cookiecutter.__prefix }}Server, the example API on a small standard-library HTTP server.

Your routes are the `self.routes` table: (method, path) -> async handler, with
`{name}` path segments in `request.params`. Every route but the probes needs
`Authorization: Bearer <API_KEY>`. GET /healthz answers 200 while the process
runs; GET /readyz answers 200 while serving and 503 once shutdown has begun,
so load balancers stop sending traffic before the listener closes. The
HTTP/1.1 mechanics live in http11.py.
"""

import json
import socket
from dataclasses import asdict, replace
from http import HTTPStatus
{%- if cookiecutter.flavor == "minimal" %}
from logging import getLogger as get_logger
{%- endif %}
{%- if cookiecutter.flavor == "caesari" %}

from caesari_aio import AsyncTaskManager as TaskManager
from caesari_logger.std_logger import get_logger
{%- endif %}

from .client import {{ cookiecutter.__prefix }}Client
from .environment import AppEnvironment
from .http11 import HttpServer, Request, Response, Routes, json_response, route
from .server import PROBES, BaseServer
{%- if cookiecutter.flavor == "minimal" %}
from .task_manager import SimpleTaskManager as TaskManager
{%- endif %}

logger = get_logger(__name__)
NAME_EXPECTED = {"error": 'expected a JSON object {"name": "<printable, non-empty string>"}'}


class {{ cookiecutter.__prefix }}Server(BaseServer):
    """Serves the API on SERVER_IP:SERVER_PORT with http11.HttpServer (see BaseServer)."""

    def __init__(
        self,
        env: AppEnvironment,
        client: {{ cookiecutter.__prefix }}Client,
        task_manager: TaskManager,
    ) -> None:
        super().__init__(env, client, task_manager)
        self.routes: Routes = {
            ("GET", "/healthz"): self.healthz,
            ("GET", "/readyz"): self.readyz,
            ("POST", "/items"): self.create_item,
            ("GET", "/items/{item_id}"): self.get_item,
        }
        self._http = HttpServer(self.dispatch, quiet_paths=PROBES)

    async def healthz(self, request: Request) -> Response:
        return Response(HTTPStatus.OK, b"ok\n")

    async def readyz(self, request: Request) -> Response:
        if self.ready:
            return Response(HTTPStatus.OK, b"ready\n")
        return Response(HTTPStatus.SERVICE_UNAVAILABLE, b"shutting down\n")

    async def create_item(self, request: Request) -> Response:
        try:
            data = json.loads(request.body)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested too deep
            data = None
        name = data.get("name") if isinstance(data, dict) else None
        if not isinstance(name, str) or not name or not name.isprintable():
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
            return found
        authorization = request.headers.get("authorization", "")
        if request.path not in PROBES and not self.authorized(authorization):
            return Response(HTTPStatus.UNAUTHORIZED, headers={"WWW-Authenticate": "Bearer"})
        handler, params = found
        try:
            return await handler(replace(request, params=params))
        except Exception:
            logger.exception("Handler for %s %s failed", request.method, request.path)
            return Response(HTTPStatus.INTERNAL_SERVER_ERROR, b"internal error\n")

    async def start(self, listening_socket: socket.socket) -> None:
        await self._http.start(listening_socket)

    async def drain(self) -> None:
        await self._http.drain()

    def abandon(self) -> int:
        return self._http.abandon()
