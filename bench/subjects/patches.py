"""The benchmark's modes injected into a render, as its tests/faults.py injects faults.

patch_client() patches MyAppClient, which every transport calls: GET
/items/slow takes SLOW_S (and answers 200, see common.slow), and by BENCH_MODE initialize()
starts a crashing task ("crash") or stop() takes CLEANUP_S ("cleanup"). The
rendered code itself carries no benchmark hooks.
"""

import asyncio
from typing import Any

from common import CLEANUP_S, MODE, crash, slow
from my_app.client import Item, MyAppClient


def patch_client() -> None:
    initialize, stop, get_item = MyAppClient.initialize, MyAppClient.stop, MyAppClient.get_item

    async def crashing_initialize(self: MyAppClient) -> None:
        await initialize(self)
        self.tm.add_task(crash(), name="crash")

    async def slow_stop(self: MyAppClient) -> None:
        await asyncio.sleep(CLEANUP_S)
        await stop(self)

    async def slow_get_item(self: MyAppClient, item_id: str) -> Item | None:
        if item_id == "slow":
            await slow()
            return Item("slow", "slow")
        return await get_item(self, item_id)

    MyAppClient.get_item = slow_get_item  # type: ignore[method-assign]
    if MODE == "crash":
        MyAppClient.initialize = crashing_initialize  # type: ignore[method-assign]
    if MODE == "cleanup":
        MyAppClient.stop = slow_stop  # type: ignore[method-assign]


def render_server() -> Any:
    """The render's MyAppServer, built as main() builds it, marked ready.

    For the plain runners: they serve its `.app` themselves, so nothing would
    set `ready`; /readyz answers 200 until the process is gone.
    """
    from my_app.app import MyAppServer
    from my_app.environment import get_app_environment
    from my_app.task_manager import SimpleTaskManager

    env = get_app_environment()
    tm = SimpleTaskManager()
    client = MyAppClient(environment=env, task_manager=tm)
    server = MyAppServer(env=env, client=client, task_manager=tm)
    server.ready = True
    return server
