"""BaseServer: the lifecycle every transport shares; app.py fills in its framework's part.

The entrypoint drives a server through this interface only: bind() before
anything starts, run_server() as a task, request_stop() from the signal
handlers, exit_handler() for the drain, `ready` for readiness and
`shutdown_step` for the line a missed deadline prints. A transport subclasses
BaseServer and implements start(), drain() and abandon() with its framework.
"""

import asyncio
import socket
from abc import ABC, abstractmethod
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
PROBES = ("/healthz", "/readyz")  # open without the API key, and left out of the access log


class BaseServer(ABC):
    """Binds SERVER_IP:SERVER_PORT, serves until stopped, and drains on shutdown.

    The drain, in exit_handler(): readiness 503, wait DRAIN_DELAY, then the
    transport's drain() (stop accepting, close idle connections, let requests
    in flight finish). A stop that comes while the transport is starting waits
    for the start to end, then drains; one that comes before never starts it.
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
        self.ready = False  # readiness: /readyz answers 200 only while this is True
        self.shutdown_step = "not started"  # names the step a missed deadline interrupted
        self.stop_reason = ""  # what asked for the stop, for the shutdown notice
        self._socket: socket.socket | None = None
        # Three steps, in order: set once each, never reset.
        self._stopping = False  # exit_handler() has begun
        self._starting = False  # run_server() has handed the socket to the transport
        self._listening = False  # the transport's start() has returned
        self._start_ended = asyncio.Event()  # start() returned or raised
        self._drained = asyncio.Event()  # exit_handler() is done: run_server() returns

    @abstractmethod
    async def start(self, listening_socket: socket.socket) -> None:
        """Begin serving on `listening_socket`, which the transport then owns and closes."""

    @abstractmethod
    async def drain(self) -> None:
        """Stop accepting, close idle connections, return once no request is in flight."""

    @abstractmethod
    def abandon(self) -> int:
        """Drop the connections still open; return how many had a request in flight."""

    def authorized(self, authorization: str) -> bool:
        """Whether an Authorization header value is `Bearer <API_KEY>` (any case, any spaces)."""
        scheme, _, token = authorization.partition(" ")
        return scheme.lower() == "bearer" and self.env.API_KEY.matches(token.lstrip(" "))

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
        """Serve on the socket from bind() until exit_handler() has drained.

        Logs `Listening on http://HOST:PORT` with the address really bound.
        Raises what the transport's start() raised.
        """
        assert self._socket is not None, "bind() first"
        if not self._stopping:  # else exit_handler() ran first and closed the socket
            host, port = self._socket.getsockname()[:2]
            self._starting = True
            try:
                await self.start(self._socket)
                self._listening = True
            finally:
                self._start_ended.set()
            if not self._stopping and not self.tm.stop_signal.is_set():
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
        self._stopping = True
        try:
            if self._starting:
                self.shutdown_step = "the transport's start"
                await self._start_ended.wait()
            if self._listening:
                self.shutdown_step = f"DRAIN_DELAY ({self.env.DRAIN_DELAY:g} s)"
                await asyncio.sleep(self.env.DRAIN_DELAY)
                self.shutdown_step = "requests in flight"
                await self.drain()
        except asyncio.CancelledError:
            abandoned = self.abandon() if self._listening else 0
            logger.error("Requests in flight abandoned: %d", abandoned)
            raise
        finally:
            self._drained.set()
            if not self._listening and self._socket is not None:
                self._socket.close()  # never handed over, or the start failed
