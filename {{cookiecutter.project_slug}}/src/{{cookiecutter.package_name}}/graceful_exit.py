"""SimpleGracefulExit: signals become one stop request; the exit handler runs once."""

import asyncio
import logging
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from contextlib import suppress
from types import FrameType, TracebackType
from typing import NoReturn, Protocol

logger = logging.getLogger(__name__)

ExitHandler = Callable[
    [type[BaseException] | None, BaseException | None, TracebackType | None], Awaitable[None]
]
SignalHandler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class StoppableApp(Protocol):
    def request_stop(self, reason: str = ...) -> None: ...


class SimpleGracefulExit:
    """Async context manager that owns SIGTERM and SIGINT while the service runs.

    Entering, inside the running loop, installs the signal handlers; they only
    request, never run, the shutdown:
    - the first SIGTERM or SIGINT calls ``app.request_stop(reason)`` with the
      signal's name;
    - once a stop is requested (or the exit handler runs), a further SIGTERM is
      absorbed (logged once) and a SIGINT abandons the shutdown: one line naming
      the unfinished tasks, logs flushed, ``os._exit(130)``.
    Exiting awaits ``exit_handler(exc_type, exc, tb)`` exactly once, then
    restores the handlers that were there before. Exceptions from the body are
    not suppressed. Where the loop lacks ``add_signal_handler`` (Windows), the
    handlers are installed with ``signal.signal`` and hand over to the loop
    with ``call_soon_threadsafe``.
    """

    def __init__(self, app: StoppableApp, exit_handler: ExitHandler) -> None:
        self.app = app
        self.exit_handler = exit_handler
        self._stopping = False
        self._absorbed = False
        self._previous: dict[signal.Signals, SignalHandler] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def __aenter__(self) -> "SimpleGracefulExit":
        self._loop = asyncio.get_running_loop()
        for sig in SIGNALS:
            self._previous[sig] = signal.getsignal(sig)
            try:
                self._loop.add_signal_handler(sig, self._on_signal, sig)
            except NotImplementedError:
                signal.signal(sig, self._on_signal_threadsafe)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping = True
        try:
            await self.exit_handler(exc_type, exc, tb)
        finally:
            self._restore()

    def _restore(self) -> None:
        assert self._loop is not None
        # remove_signal_handler() installs the default action before we put the
        # previous handler back; a signal in between would kill the process.
        # Blocked, it waits and goes to the previous handler instead.
        can_block = hasattr(signal, "pthread_sigmask")  # not on Windows
        if can_block:
            mask = signal.pthread_sigmask(signal.SIG_BLOCK, SIGNALS)
        try:
            for sig, previous in self._previous.items():
                with suppress(NotImplementedError):
                    self._loop.remove_signal_handler(sig)
                signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        finally:
            if can_block:
                signal.pthread_sigmask(signal.SIG_SETMASK, mask)

    def _on_signal_threadsafe(self, signum: int, frame: FrameType | None) -> None:
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._on_signal, signal.Signals(signum))

    def _on_signal(self, sig: signal.Signals) -> None:
        if not self._stopping:
            self._stopping = True
            logger.info("Received %s: stopping", sig.name)
            self.app.request_stop(sig.name)
        elif sig == signal.SIGINT:
            self._abandon()
        elif not self._absorbed:
            self._absorbed = True
            logger.info("Received %s: shutdown already under way", sig.name)

    def _abandon(self) -> NoReturn:
        current = asyncio.current_task()
        unfinished = sorted(task.get_name() for task in asyncio.all_tasks() if task is not current)
        logger.error(
            "Received SIGINT during shutdown: abandoning it, exit code 130; unfinished: %s",
            ", ".join(unfinished) or "nothing",
        )
        _leave(130)


def _leave(exit_code: int) -> NoReturn:
    """Flush the logs and end the process now with `exit_code`, skipping teardown.

    For when a clean exit could hang: a task that swallows cancellation or a
    thread stuck in an executor makes the event loop's own teardown wait forever.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)


def wrap_in_system_exit(exit_code: int) -> NoReturn:
    """Leave the process with `exit_code` by raising SystemExit."""
    raise SystemExit(exit_code)
