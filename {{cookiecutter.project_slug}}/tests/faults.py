"""Run the service with a fault injected: `python faults.py NAME`.

The faults patch {{ cookiecutter.__prefix }}Client and then call entrypoint.run(), so the
product code carries no test hooks. Each fault logs a line the tests can wait on.
"""

import asyncio
import logging
import sys
from collections.abc import Callable, Coroutine
from typing import Any

from {{ cookiecutter.package_name }} import entrypoint
from {{ cookiecutter.package_name }}.client import {{ cookiecutter.__prefix }}Client as Client

logger = logging.getLogger("faults")
Method = Callable[[Client], Coroutine[Any, Any, None]]


async def crash_soon() -> None:
    await asyncio.sleep(0.05)
    raise RuntimeError("injected task failure")


async def crash_task(self: Client) -> None:
    self.tm.add_task(crash_soon(), name="crasher")
    logger.info("fault: crash task started")


async def crash_initialize(self: Client) -> None:
    raise RuntimeError("injected initialize failure")


async def slow_initialize(self: Client) -> None:
    logger.info("fault: initialize waiting")
    await asyncio.Event().wait()


async def hang(self: Client) -> None:
    logger.info("fault: stop hanging")
    await asyncio.Event().wait()


async def raise_in_stop(self: Client) -> None:
    raise RuntimeError("injected stop failure")


FAULTS: dict[str, tuple[str, Method]] = {
    "crash-task": ("initialize", crash_task),
    "crash-initialize": ("initialize", crash_initialize),
    "slow-initialize": ("initialize", slow_initialize),
    "hang-stop": ("stop", hang),
    "raise-stop": ("stop", raise_in_stop),
}

if __name__ == "__main__":
    method, replacement = FAULTS[sys.argv[1]]
    setattr(Client, method, replacement)
    entrypoint.run()
