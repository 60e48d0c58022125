"""The rendered service, with the benchmark's modes injected as the tests inject
faults: patch the client (and the routes table), then call entrypoint.run()."""

import asyncio
from typing import Any

from common import CLEANUP_S, MODE, SLOW_S, crash
from my_app import app, entrypoint
from my_app.client import MyAppClient

initialize, stop, server_init = MyAppClient.initialize, MyAppClient.stop, app.MyAppServer.__init__


async def crashing_initialize(self: MyAppClient) -> None:
    await initialize(self)
    self.tm.add_task(crash(), name="crash")


async def slow_stop(self: MyAppClient) -> None:
    await asyncio.sleep(CLEANUP_S)
    await stop(self)


def with_slow_route(self: app.MyAppServer, *args: Any, **kwargs: Any) -> None:
    server_init(self, *args, **kwargs)

    async def slow(request: app.Request) -> app.Response:
        await asyncio.sleep(SLOW_S)
        return app.Response(200, b"ok\n")

    self.routes["/slow"] = slow


app.MyAppServer.__init__ = with_slow_route  # type: ignore[method-assign]
if MODE == "crash":
    MyAppClient.initialize = crashing_initialize  # type: ignore[method-assign]
if MODE == "cleanup":
    MyAppClient.stop = slow_stop  # type: ignore[method-assign]
entrypoint.run()
