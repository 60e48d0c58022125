"""Lifecycle: configuration, wiring, startup, the one shutdown path, the exit code.

main() returns the exit code; run() is the run-{{ cookiecutter.project_slug }} console script.

| what happened                                  | exit code |
|------------------------------------------------|-----------|
| stopped by a signal, shutdown within deadline  | 0         |
| a task, a startup or a shutdown step raised    | 1         |
| SHUTDOWN_TIMEOUT missed                        | 1         |
| SIGINT during shutdown                         | 130       |
| configuration invalid                          | 78        |
"""

import asyncio
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Sequence
{%- if cookiecutter.flavor == "minimal" %}
from logging import getLogger as get_logger
{%- endif %}
from types import FrameType, TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
{%- if cookiecutter.flavor == "caesari" %}

from caesari_aio import AsyncTaskManager as TaskManager
from caesari_graceful_exit.helpers import wrap_in_system_exit
from caesari_graceful_exit.module import GracefulExit
from caesari_logger.std_logger import get_logger
{%- endif %}

from . import __version__
from .app import {{ cookiecutter.__prefix }}Server
from .client import {{ cookiecutter.__prefix }}Client
from .environment import VARIABLES, AppEnvironment, AppMode, ConfigError, get_app_environment
{%- if cookiecutter.flavor == "minimal" %}
from .graceful_exit import SimpleGracefulExit as GracefulExit
from .graceful_exit import wrap_in_system_exit
{%- endif %}
from .logs import configure_logging
from .notify import send_shutdown_notice, shutdown_payload
{%- if cookiecutter.flavor == "minimal" %}
from .task_manager import SimpleTaskManager as TaskManager
{%- endif %}

if TYPE_CHECKING:
    import argparse

logger = get_logger(__name__)
T = TypeVar("T")

SERVICE = "{{ cookiecutter.project_slug }}"  # the service's name in the shutdown notice
EXIT_CONFIG = 78  # os.EX_CONFIG, which Windows lacks
STOP_SHARE = 0.25  # of SHUTDOWN_TIMEOUT, kept for client.stop() and the tasks
NOTICE_TIMEOUT_S = 2.0  # the most the shutdown notice may take

# Signals that arrive while GracefulExit does not own SIGTERM and SIGINT: before
# the loop runs, and during teardown. Recorded, never fatal (see run()).
_signals_outside_loop: list[int] = []


class SupervisedTaskManager(TaskManager):
    """The task manager, plus what the exit code needs: did any task fail?

    Every failed task is logged once, with its traceback, and stops the
    service; `first_failure` names the first. Cancelled tasks are not failures.
    """

    def __init__(self) -> None:
        super().__init__()
        self.first_failure = ""

    @property
    def failed(self) -> bool:
        return bool(self.first_failure)

    def add_task(self, coro: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        task = super().add_task(coro, name=name)
        task.add_done_callback(self._check)
        return task

    def _check(self, task: asyncio.Task[Any]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        self.first_failure = self.first_failure or f"task {task.get_name()!r} failed"
        logger.error("Task %r failed", task.get_name(), exc_info=task.exception())
        self.stop_signal.set()  # at once, whatever the task manager's own timing


async def main() -> int:
    """Run the service until it is stopped; return the exit code.

    Returns 78 if the configuration is invalid (one stderr line per problem);
    1 if the address cannot be bound (one line, nothing started), if a task, a
    startup or a shutdown step raised, or if requests in flight had to be
    abandoned; else 0. A missed SHUTDOWN_TIMEOUT (1) and a SIGINT during
    shutdown (130) end the process at once instead of returning: a clean
    return could hang.
    """
    if (this := asyncio.current_task()) is not None:
        this.set_name("main")  # tasks are named in the lines about unfinished work
    env = _read_config()
    if env is None:
        return EXIT_CONFIG
    configure_logging(env.LOG_LEVEL, env.LOG_FORMAT)
    started = asyncio.get_running_loop().time()

    tm = SupervisedTaskManager()
    client = {{ cookiecutter.__prefix }}Client(environment=env, task_manager=tm)
    server = {{ cookiecutter.__prefix }}Server(env=env, client=client, task_manager=tm)
    failed = False  # a startup or shutdown step raised, or requests were abandoned
    startup_failure = ""

    async def exit_handler(
        exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # The whole shutdown has one deadline. Each wait is bounded by it and
        # never relies on cancellation being honoured: a step that overruns
        # ends the process with exit code 1 and a line naming what was left.
        # Requests in flight get at most three quarters of it, so that
        # client.stop() and the task cancellation always have a quarter.
        nonlocal failed
        loop = asyncio.get_running_loop()
        deadline = loop.time() + env.SHUTDOWN_TIMEOUT
        drain_deadline = deadline - env.SHUTDOWN_TIMEOUT * STOP_SHARE
        logger.info("Shutting down (SHUTDOWN_TIMEOUT %g s)", env.SHUTDOWN_TIMEOUT)
        reason = tm.first_failure or startup_failure or server.stop_reason or "the server stopped"
        notice = _notify(env, reason, uptime_s=loop.time() - started)

        transport = asyncio.create_task(server.exit_handler(exc_type, exc, tb), name="transport")
        if not await _wait_until(drain_deadline, {transport}):
            transport.cancel()  # the transport abandons what is still in flight
            if not await _wait_until(deadline, {transport}):
                _leave_late(env.SHUTDOWN_TIMEOUT, f"{server.shutdown_step} did not finish")
        failed |= _failed(transport, "Transport shutdown")

        stop = asyncio.create_task(client.stop(), name="client.stop()")
        if not await _wait_until(deadline, {stop}):
            _leave_late(env.SHUTDOWN_TIMEOUT, "client.stop() did not finish")
        failed |= _failed(stop, "client.stop()")

        if notice is not None:  # sent alongside the steps above, within its own bound
            await _wait_until(min(deadline, loop.time() + NOTICE_TIMEOUT_S), {notice})
        tm.cancel_all_tasks()
        others = asyncio.all_tasks() - {asyncio.current_task()}
        for task in others:
            task.cancel()
        if not await _wait_until(deadline, others):
            stuck = sorted(task.get_name() for task in others if not task.done())
            _leave_late(env.SHUTDOWN_TIMEOUT, "tasks still running: " + ", ".join(stuck))
        # Joining executor threads is part of the budget too: asyncio.run()
        # would otherwise wait for a stuck thread forever.
        executor = asyncio.create_task(loop.shutdown_default_executor(), name="executor shutdown")
        if not await _wait_until(deadline, {executor}):
            _leave_late(env.SHUTDOWN_TIMEOUT, "executor threads still running")
        logger.info("Shutdown complete")

    # Bound before anything starts, so that a port in use fails fast; a signal
    # meanwhile is latched by run() and stops the service right after.
    try:
        await server.bind()
    except OSError as error:
        host = f"[{env.SERVER_IP}]" if ":" in env.SERVER_IP else env.SERVER_IP
        reason = os.strerror(error.errno) if error.errno else str(error)
        logger.error("Cannot listen on %s:%d: %s", host, env.SERVER_PORT, reason)
        return 1
    async with GracefulExit(app=server, exit_handler=exit_handler):
        if _signals_outside_loop:
            name = signal.Signals(_signals_outside_loop[0]).name
            logger.info("Received %s during startup: stopping", name)
            server.request_stop(name)
        try:
            if await _unless_stopped(client.initialize(), tm.stop_signal, "client.initialize()"):
                server_task = tm.add_task(server.run_server(), name="server")
                server_task.add_done_callback(lambda _: tm.stop_signal.set())
        except Exception as error:
            failed = True
            startup_failure = f"startup failed ({type(error).__name__})"
            logger.exception("Startup failed")
        else:
            await tm.catch_breaking_errors()
    return 1 if failed or tm.failed else 0


def _notify(env: AppEnvironment, reason: str, uptime_s: float) -> asyncio.Task[bool] | None:
    """Start sending the shutdown notice, in prod and staging when NOTIFY_URL is set."""
    if env.NOTIFY_URL is None or env.MODE == AppMode.dev:
        return None
    payload = shutdown_payload(SERVICE, __version__, env.MODE.value, reason, uptime_s)
    # Within the drain's share, so that a failure is still logged before the deadline.
    timeout_s = min(NOTICE_TIMEOUT_S, env.SHUTDOWN_TIMEOUT * (1 - STOP_SHARE))
    return asyncio.create_task(
        send_shutdown_notice(env.NOTIFY_URL, payload, timeout_s), name="shutdown notice"
    )


def _failed(step: asyncio.Task[None], what: str) -> bool:
    """Whether a finished shutdown step failed; log its exception once."""
    if step.cancelled():
        return True  # abandoned: the transport logged what it left
    if step.exception() is not None:
        logger.error("%s failed", what, exc_info=step.exception())
        return True
    return False


def _read_config() -> AppEnvironment | None:
    """Return the configuration, or None after reporting one stderr line per problem.

    The lines are plain text, or JSON log records where the environment asks for json.
    """
    try:
        return get_app_environment()
    except ConfigError as error:
        if error.log_format == "json":
            configure_logging("ERROR", "json")
            for problem in error.problems:
                logger.error("Configuration error: %s", problem)
        else:
            for problem in error.problems:
                print(f"Configuration error: {problem}", file=sys.stderr)
        return None


async def _unless_stopped(
    step: Coroutine[Any, Any, None], stop_signal: asyncio.Event, name: str
) -> bool:
    """Run `step` as a task called `name` unless `stop_signal` is set first; then
    cancel it and return False."""
    step_task = asyncio.create_task(step, name=name)
    stop_task = asyncio.create_task(stop_signal.wait(), name="stop signal")
    await asyncio.wait({step_task, stop_task}, return_when=asyncio.FIRST_COMPLETED)
    stop_task.cancel()
    if not step_task.done():
        step_task.cancel()
        await asyncio.wait({step_task})
        return False
    step_task.result()  # raises what the step raised
    return not stop_signal.is_set()  # both done at once: the stop wins


async def _wait_until(deadline: float, tasks: set[asyncio.Task[Any]]) -> bool:
    """Wait for `tasks` until `deadline` (loop time, seconds); return whether all finished."""
    if not tasks:
        return True
    timeout = max(0.0, deadline - asyncio.get_running_loop().time())
    _, pending = await asyncio.wait(tasks, timeout=timeout)
    return not pending


def _leave_late(timeout: float, what: str) -> NoReturn:
    logger.error("Shutdown missed its deadline (SHUTDOWN_TIMEOUT %g s): %s", timeout, what)
    logging.shutdown()  # flushes: os._exit() would not
    os._exit(1)


def _note_signal(signum: int, frame: FrameType | None) -> None:
    _signals_outside_loop.append(signum)


def parse_args(argv: Sequence[str] | None = None) -> "argparse.Namespace":
    """Parse the command line (default: sys.argv[1:]).

    --help lists every environment variable from VARIABLES; --help and
    --version print and exit 0; a bad option prints usage and exits 2.
    """
    import argparse  # here, not at the top: it costs startup time for every run

    width = max(map(len, VARIABLES)) + 2
    epilog = ["environment variables (empty means the default):"]
    for name, variable in VARIABLES.items():
        default = f" (default {variable.default})" if variable.default else ""
        epilog.append(f"  {name:<{width}}{variable.rule}{default}")
    epilog.append(
        "\nexit codes: 0 stopped cleanly, 1 failure or missed deadline,"
        " 78 bad configuration, 130 interrupted during shutdown"
    )
    parser = argparse.ArgumentParser(
        prog="run-{{ cookiecutter.project_slug }}",
        description="Run the {{ cookiecutter.package_name }} service until SIGTERM or Ctrl+C.",
        epilog="\n".join(epilog),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--check-config",
        action="store_true",
        help="validate the environment and exit: 0 if valid, 78 if not",
    )
    return parser.parse_args(argv)


def run(latched: Sequence[int] = ()) -> None:
    """Run main() and leave with its exit code; __main__.run() calls it.

    `latched` holds the SIGTERMs and SIGINTs that the console script's latch
    (__main__) recorded since the process started; any there stops the service
    right after startup. Uses uvloop where it is installed, asyncio otherwise
    (Windows). SIGTERM and SIGINT are never fatal: GracefulExit owns them while
    the service runs; a signal that arrives before it takes over still stops
    the service, and one that arrives once main() has returned is ignored.
    """
    if sys.argv[1:] and parse_args().check_config:
        if _read_config() is None:
            wrap_in_system_exit(EXIT_CONFIG)
        print("Configuration OK")
        wrap_in_system_exit(0)
    _signals_outside_loop.clear()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _note_signal)
    # Taken over only now, so that no signal is lost: each one is either in
    # `latched` already or arrives at _note_signal.
    _signals_outside_loop.extend(latched)
    # The imports (a framework's above all) leave objects that live until exit;
    # frozen, no collection walks them again, the interpreter's last one
    # included: a fastapi render then exits in ~20 ms after "Shutdown complete"
    # instead of ~170. What the service creates from here is collected as usual.
    gc.freeze()
    try:
        exit_code = _event_loop_runner()(main())
    finally:
        # Interpreter finalization resets signals that have a Python handler to
        # their default action, so a late SIGTERM would kill the process (-15)
        # after a clean shutdown. Ignored signals are left alone.
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, signal.SIG_IGN)
    wrap_in_system_exit(exit_code)


def _event_loop_runner() -> Callable[[Coroutine[Any, Any, int]], int]:
    # Returned, not called, from the except clause: code run inside it would
    # chain the ImportError into every traceback the service logs.
    try:
        import uvloop
    except ImportError:  # Windows, or uvloop not installed
        return asyncio.run
    return uvloop.run
