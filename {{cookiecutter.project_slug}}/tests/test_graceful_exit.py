"""SimpleGracefulExit, in process: signals request a stop; the exit handler runs once."""

import asyncio
import logging
import os
import signal
from types import TracebackType

import pytest

from {{ cookiecutter.package_name }}.graceful_exit import SimpleGracefulExit


class App:
    def __init__(self) -> None:
        self.stop_requested = asyncio.Event()

    def request_stop(self, reason: str = "") -> None:
        self.stop_requested.set()


class Recorder:
    def __init__(self) -> None:
        self.calls: list[type[BaseException] | None] = []

    async def __call__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.calls.append(exc_type)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_signal_requests_a_stop_and_the_exit_handler_runs_once(
    sig: signal.Signals,
) -> None:
    app, exit_handler = App(), Recorder()
    async with SimpleGracefulExit(app=app, exit_handler=exit_handler):
        os.kill(os.getpid(), sig)
        await asyncio.wait_for(app.stop_requested.wait(), timeout=5)
        assert exit_handler.calls == []  # the handler only requests the stop
    assert exit_handler.calls == [None]


async def test_further_sigterms_are_absorbed_with_one_log_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    loop = asyncio.get_running_loop()
    marker = asyncio.Event()
    loop.add_signal_handler(signal.SIGUSR1, marker.set)
    app, exit_handler = App(), Recorder()
    try:
        async with SimpleGracefulExit(app=app, exit_handler=exit_handler):
            for _ in range(3):
                os.kill(os.getpid(), signal.SIGTERM)
            # Signals are handled in order: once SIGUSR1 is, all three SIGTERMs are.
            os.kill(os.getpid(), signal.SIGUSR1)
            await asyncio.wait_for(marker.wait(), timeout=5)
    finally:
        loop.remove_signal_handler(signal.SIGUSR1)
    assert app.stop_requested.is_set()
    assert exit_handler.calls == [None]
    assert sum("already under way" in record.getMessage() for record in caplog.records) == 1


async def test_previous_handlers_are_restored() -> None:
    def previous(signum: int, frame: object) -> None:
        raise AssertionError("not expected to run")

    old_term = signal.signal(signal.SIGTERM, previous)
    old_int = signal.getsignal(signal.SIGINT)
    try:
        async with SimpleGracefulExit(app=App(), exit_handler=Recorder()):
            assert signal.getsignal(signal.SIGTERM) is not previous
        assert signal.getsignal(signal.SIGTERM) is previous
        assert signal.getsignal(signal.SIGINT) is old_int
    finally:
        signal.signal(signal.SIGTERM, old_term)


async def test_the_exit_handler_sees_the_exception_and_it_propagates() -> None:
    exit_handler = Recorder()
    with pytest.raises(KeyError):
        async with SimpleGracefulExit(app=App(), exit_handler=exit_handler):
            raise KeyError("x")
    assert exit_handler.calls == [KeyError]
