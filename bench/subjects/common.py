"""What every benchmark subject shares: one HTTP handler, one crashing task.

Environment: PORT to listen on (127.0.0.1); BENCH_MODE is "serve", "crash" (a
task raises 0.2 s after startup, printing "CRASH <time.monotonic()>" first) or
"cleanup" (shutdown takes 3 s). GET /slow answers after 0.2 s, anything else at once.
"""

import asyncio
import os
import time

PORT = int(os.environ["PORT"])
MODE = os.environ.get("BENCH_MODE", "serve")
CRASH_AFTER_S = 0.2
SLOW_S = 0.2
CLEANUP_S = 3.0


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            if head.startswith(b"GET /slow"):
                await asyncio.sleep(SLOW_S)
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def crash() -> None:
    await asyncio.sleep(CRASH_AFTER_S)
    print("CRASH", time.monotonic(), flush=True)
    raise RuntimeError("injected crash")
