"""Run the service with faults injected: `python faults.py [--loop asyncio] [FAULT ...] [-- ARGS]`.

The faults patch {{ cookiecutter.__prefix }}Client, whose methods every transport calls
(so `slow-item` makes `GET /items/<id>` slow on any transport), then run the
service as the run-{{ cookiecutter.project_slug }} command does (its __main__ module, imported
first, latches signals before the imports below): the product code carries no
test hooks. Each fault logs a "fault:" line the tests can wait on.

--loop asyncio hides uvloop, so run() falls back to the standard loop;
--no-add-signal-handler also makes loop.add_signal_handler unavailable, as on
Windows, so the signal.signal fallback is used.
"""

# First, as in the run-{{ cookiecutter.project_slug }} command: it latches SIGTERM and SIGINT.
from {{ cookiecutter.package_name }} import __main__ as command

# isort: split
import argparse
import asyncio
import atexit
import logging
import sys
import time
from collections.abc import Callable, Coroutine
from functools import partialmethod
from typing import Any

from {{ cookiecutter.package_name }} import client

Client = client.{{ cookiecutter.__prefix }}Client
logger = logging.getLogger("faults")
Method = Callable[[Client], Coroutine[Any, Any, None]]


async def fail_soon(message: str) -> None:
    await asyncio.sleep(0.05)
    raise RuntimeError(message)


async def crash_task(self: Client, previous: Method) -> None:
    await previous(self)
    self.tm.add_task(fail_soon("injected task failure"), name="crasher")
    logger.info("fault: crash task started")


async def crash_two(self: Client, previous: Method) -> None:
    await previous(self)
    self.tm.add_task(fail_soon("first injected failure"), name="crasher-1")
    self.tm.add_task(fail_soon("second injected failure"), name="crasher-2")
    logger.info("fault: two crash tasks started")


async def raise_on_cancel(self: Client, previous: Method) -> None:
    async def work() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            raise RuntimeError("injected failure while cancelled") from None

    await previous(self)
    self.tm.add_task(work(), name="raises-on-cancel")
    logger.info("fault: task raising on cancel started")


async def stubborn_task(self: Client, previous: Method) -> None:
    async def stubborn() -> None:
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                logger.info("fault: stubborn task swallowed a cancellation")

    await previous(self)
    self.tm.add_task(stubborn(), name="stubborn")
    logger.info("fault: stubborn task started")


async def polite_task(self: Client, previous: Method) -> None:
    async def polite() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            logger.info("fault: polite task cleaned up")

    await previous(self)
    self.tm.add_task(polite(), name="polite")


async def stuck_executor(self: Client, previous: Method) -> None:
    await previous(self)

    async def blocking_io() -> None:
        await asyncio.get_running_loop().run_in_executor(None, time.sleep, 60)

    self.tm.add_task(blocking_io(), name="blocking-io")
    logger.info("fault: executor thread sleeping")


async def crash_initialize(self: Client, previous: Method) -> None:
    raise RuntimeError("injected initialize failure")


async def slow_initialize(self: Client, previous: Method) -> None:
    logger.info("fault: initialize waiting")
    await asyncio.Event().wait()


async def hang_stop(self: Client, previous: Method) -> None:
    logger.info("fault: stop hanging")
    await asyncio.Event().wait()


async def raise_in_stop(self: Client, previous: Method) -> None:
    await previous(self)
    raise RuntimeError("injected stop failure")


async def slow_stop(self: Client, previous: Method) -> None:
    logger.info("fault: stop slow")
    await asyncio.sleep(0.5)


async def slow_item(self: Client, previous: Callable[..., Any], item_id: str) -> client.Item:
    logger.info("fault: slow request started")
    await asyncio.sleep(0.5)
    return client.Item(item_id, "slow")


async def stuck_item(self: Client, previous: Callable[..., Any], item_id: str) -> client.Item:
    logger.info("fault: stuck request started")
    await asyncio.sleep(60)
    return client.Item(item_id, "stuck")


def slow_teardown() -> None:
    def linger() -> None:
        logger.info("fault: tearing down")
        time.sleep(0.5)

    atexit.register(linger)


FAULTS: dict[str, tuple[type[object], str, Callable[..., Any]]] = {
    "crash-task": (Client, "initialize", crash_task),
    "crash-two": (Client, "initialize", crash_two),
    "raise-on-cancel": (Client, "initialize", raise_on_cancel),
    "stubborn-task": (Client, "initialize", stubborn_task),
    "polite-task": (Client, "initialize", polite_task),
    "stuck-executor": (Client, "initialize", stuck_executor),
    "crash-initialize": (Client, "initialize", crash_initialize),
    "slow-initialize": (Client, "initialize", slow_initialize),
    "hang-stop": (Client, "stop", hang_stop),
    "raise-stop": (Client, "stop", raise_in_stop),
    "slow-stop": (Client, "stop", slow_stop),
    "slow-item": (Client, "get_item", slow_item),
    "stuck-item": (Client, "get_item", stuck_item),
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--loop", choices=["uvloop", "asyncio"], default="uvloop")
    parser.add_argument("--no-add-signal-handler", action="store_true")
    parser.add_argument("--slow-teardown", action="store_true")
    parser.add_argument("faults", nargs="*", metavar="FAULT", help=", ".join(FAULTS))
    own, service_args = sys.argv[1:], []
    if "--" in own:
        own, service_args = own[: own.index("--")], own[own.index("--") + 1 :]
    options = parser.parse_args(own)
    if unknown := set(options.faults) - FAULTS.keys():
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    if options.loop == "asyncio":
        sys.modules["uvloop"] = None  # type: ignore[assignment]  # import uvloop fails
    if options.no_add_signal_handler:

        def unavailable(*args: Any) -> None:
            raise NotImplementedError

        asyncio.AbstractEventLoop.add_signal_handler = unavailable  # type: ignore[method-assign,assignment]
        asyncio.SelectorEventLoop.add_signal_handler = unavailable  # type: ignore[method-assign,assignment]
    if options.slow_teardown:
        slow_teardown()
    for name in options.faults:  # each fault wraps what the previous one left
        owner, attribute, fault = FAULTS[name]
        setattr(owner, attribute, partialmethod(fault, getattr(owner, attribute)))
    sys.argv[1:] = service_args
    command.run()


if __name__ == "__main__":
    main()
