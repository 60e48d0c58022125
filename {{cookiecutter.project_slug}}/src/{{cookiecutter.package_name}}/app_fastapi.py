"""Transport layer: {{ cookiecutter.__prefix }}Server, the example API with FastAPI on an embedded uvicorn.

Your routes go on `api` (they need `Authorization: Bearer <API_KEY>`, checked
by the require_api_key dependency) or on `probes` (open to all). Handlers
reach the business logic through the `Client` dependency. GET /healthz answers
200 while the process runs; GET /readyz answers 200 while serving and 503 once
shutdown has begun. /docs and /openapi.json exist in MODE=dev only. Startup
work belongs in the client's initialize(), not in a FastAPI lifespan: the
entrypoint owns startup and shutdown, with one deadline for both.
"""

import asyncio
import socket
import time
from dataclasses import asdict
from typing import Annotated

import uvicorn
{%- if cookiecutter.flavor == "caesari" %}
from caesari_aio import AsyncTaskManager as TaskManager
{%- endif %}
from fastapi import APIRouter, Depends, FastAPI, HTTPException, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, field_validator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import __version__
from .client import {{ cookiecutter.__prefix }}Client
from .environment import AppEnvironment, AppMode
from .logs import log_access
from .server import PROBES, BaseServer
{%- if cookiecutter.flavor == "minimal" %}
from .task_manager import SimpleTaskManager as TaskManager
{%- endif %}

MAX_HEAD_BYTES = 8 * 1024  # request line and headers; more gets 400
MAX_BODY_BYTES = 1024 * 1024  # more gets 413
ACCEPT_SETTLE_S = 0.001  # see drain()


def server_of(request: Request) -> "{{ cookiecutter.__prefix }}Server":
    server: {{ cookiecutter.__prefix }}Server = request.app.state.server
    return server


Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(HTTPBearer(auto_error=False))]


async def require_api_key(request: Request, credentials: Credentials) -> None:
    """Let the request through only with `Authorization: Bearer <API_KEY>`, else 401."""
    if credentials is None or not server_of(request).env.API_KEY.matches(credentials.credentials):
        raise HTTPException(401, "missing or wrong API key", {"WWW-Authenticate": "Bearer"})


def get_client(request: Request) -> {{ cookiecutter.__prefix }}Client:
    return server_of(request).client


Client = Annotated[{{ cookiecutter.__prefix }}Client, Depends(get_client)]
probes = APIRouter()
api = APIRouter(dependencies=[Depends(require_api_key)])


class NewItem(BaseModel):
    name: str = Field(min_length=1)

    @field_validator("name")
    @classmethod
    def printable(cls, name: str) -> str:
        if not name.isprintable():
            raise ValueError("must be printable: no control characters or lone surrogates")
        return name


@probes.api_route("/healthz", methods=["GET", "HEAD"], response_class=PlainTextResponse)
async def healthz() -> str:
    return "ok\n"


@probes.api_route("/readyz", methods=["GET", "HEAD"], response_class=PlainTextResponse)
async def readyz(request: Request) -> PlainTextResponse:
    if server_of(request).ready:
        return PlainTextResponse("ready\n")
    return PlainTextResponse("shutting down\n", status_code=503)


@api.post("/items", status_code=201)
async def create_item(new: NewItem, client: Client) -> JSONResponse:
    item = await client.add_item(new.name)
    return JSONResponse(asdict(item), status_code=201, headers={"Location": f"/items/{item.id}"})


@api.get("/items/{item_id}")
async def get_item(item_id: str, client: Client) -> JSONResponse:
    item = await client.get_item(item_id)
    if item is None:
        return JSONResponse({"error": "no such item"}, status_code=404)
    return JSONResponse(asdict(item))


async def validation_failed(request: Request, error: Exception) -> JSONResponse:
    """422 as FastAPI's own handler answers, but without echoing the input:
    an input that cannot be encoded (a lone surrogate) would turn it into a 500."""
    assert isinstance(error, RequestValidationError)
    detail = [{k: v for k, v in e.items() if k not in ("input", "ctx")} for e in error.errors()]
    return JSONResponse({"detail": jsonable_encoder(detail)}, status_code=422)


class {{ cookiecutter.__prefix }}Server(BaseServer):
    """Serves the FastAPI app with uvicorn on SERVER_IP:SERVER_PORT (see BaseServer).

    uvicorn is driven through Server.startup() on our own socket; its signal
    handlers (installed only by Server.serve()) and its lifespan are not used.
    """

    def __init__(
        self,
        env: AppEnvironment,
        client: {{ cookiecutter.__prefix }}Client,
        task_manager: TaskManager,
    ) -> None:
        super().__init__(env, client, task_manager)
        docs = env.MODE == AppMode.dev
        self.app = FastAPI(
            title="{{ cookiecutter.project_slug }}",
            version=__version__,
            docs_url="/docs" if docs else None,
            redoc_url=None,
            openapi_url="/openapi.json" if docs else None,
        )
        self.app.state.server = self
        self.app.add_exception_handler(RequestValidationError, validation_failed)
        self.app.include_router(probes)
        self.app.include_router(api)
        self._tracking = RequestTracking(self.app)
        config = uvicorn.Config(
            self._tracking,
            log_config=None,  # our logging setup applies to uvicorn's loggers
            access_log=False,  # RequestTracking logs each request
            lifespan="off",
            server_header=False,
            date_header=False,
            # h11 bounds a request head still arriving (httptools buffers one of any size).
            http="h11",
            h11_max_incomplete_event_size=MAX_HEAD_BYTES,
        )
        self._uvicorn = uvicorn.Server(config)

    async def start(self, listening_socket: socket.socket) -> None:
        config = self._uvicorn.config
        config.load()
        self._uvicorn.lifespan = config.lifespan_class(config)
        await self._uvicorn.startup(sockets=[listening_socket])

    async def drain(self) -> None:
        # uvicorn's own Server.shutdown() polls every 100 ms; these are its
        # public parts, waited on through events instead.
        for listener in self._uvicorn.servers:
            listener.close()
        # A connection accepted just before the listener closed reaches uvicorn
        # a loop iteration or two later (uvloop): let it arrive.
        await asyncio.sleep(ACCEPT_SETTLE_S)
        self._shut_connections()
        await self._tracking.idle.wait()
        self._shut_connections()  # any that arrived since, and went idle
        for listener in self._uvicorn.servers:
            await listener.wait_closed()

    def abandon(self) -> int:
        self._tracking.abandoned = True  # their requests end quietly when cancelled
        for connection in list(self._uvicorn.server_state.connections):
            connection.transport.abort()
        return self._tracking.in_flight

    def _shut_connections(self) -> None:
        for connection in list(self._uvicorn.server_state.connections):
            connection.shutdown()  # idle: closed now; busy: after its response


class RequestTracking:
    """ASGI middleware: counts requests in flight, limits bodies, logs each request.

    A body over MAX_BODY_BYTES gets 413 (uvicorn has no limit of its own).
    `idle` is set while no request is in flight. Once `abandoned` is set, a
    cancelled request ends quietly: uvicorn would log it as a crash.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.in_flight = 0
        self.idle = asyncio.Event()
        self.idle.set()
        self.abandoned = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # if the app fails before it answers
        length = next((value for name, value in scope["headers"] if name == b"content-length"), b"")
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b""))
            if received > MAX_BODY_BYTES:
                raise HTTPException(413, "body too large")
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        self.in_flight += 1
        self.idle.clear()
        try:
            if length.isdigit() and int(length) > MAX_BODY_BYTES:
                response = PlainTextResponse("body too large\n", status_code=413)
                await response(scope, receive, tracked_send)
            else:
                # With a Content-Length, uvicorn delivers no more than it says:
                # only a chunked body needs counting.
                await self.app(scope, receive if length else limited_receive, tracked_send)
        except asyncio.CancelledError:
            if not self.abandoned:
                raise
            status = 0  # abandoned: counted in one line, not logged as a request
        finally:
            self.in_flight -= 1
            if not self.in_flight:
                self.idle.set()
            if status and scope["path"] not in PROBES:
                log_access(scope["method"], scope["path"], status, started)
