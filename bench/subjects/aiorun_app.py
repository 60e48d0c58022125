"""An aiorun app: the same server, the same crashing task."""

import asyncio

from aiorun import run
from common import CLEANUP_S, MODE, PORT, crash, handle


async def main() -> None:
    server = await asyncio.start_server(handle, "127.0.0.1", PORT)
    if MODE == "crash":
        asyncio.get_running_loop().create_task(crash())
    try:
        await asyncio.Event().wait()
    finally:
        server.close()
        if MODE == "cleanup":
            await asyncio.sleep(CLEANUP_S)


run(main(), use_uvloop=True, stop_on_unhandled_errors=True)
