"""The floors: asyncio + uvloop listening on a port, nothing else.

`floor.py hard` leaves with os._exit on SIGTERM or on the crash: the least any
process can do. `floor.py clean` returns normally and lets the interpreter shut
down: the price of any clean exit.
"""

import asyncio
import os
import signal
import sys

import uvloop
from common import MODE, PORT, crash, handle

HARD = sys.argv[1] == "hard"


async def main() -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, lambda: os._exit(0) if HARD else stop.set())
    server = await asyncio.start_server(handle, "127.0.0.1", PORT)
    if MODE == "crash":
        task = asyncio.create_task(crash())
        task.add_done_callback(lambda _: os._exit(1) if HARD else stop.set())
    await stop.wait()
    server.close()
    return 1 if MODE == "crash" else 0


sys.exit(uvloop.run(main()))
