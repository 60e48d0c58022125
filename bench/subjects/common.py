"""What every benchmark subject shares: one HTTP handler, one crashing task, the modes.

Environment: PORT to listen on (127.0.0.1); BENCH_MODE is "serve", "crash" (a
task raises 0.2 s after startup, printing "CRASH <time.monotonic()>" first) or
"cleanup" (shutdown takes BENCH_CLEANUP_S, default 3 s). GET /items/slow answers
after 0.2 s, printing "SLOW" as it starts; anything else at once, after reading
the request's body.
"""

import asyncio
import os
import time

PORT = int(os.environ["PORT"])
MODE = os.environ.get("BENCH_MODE", "serve")
CRASH_AFTER_S = 0.2
SLOW_S = 0.2
SLOW_PATH = "/items/slow"
CLEANUP_S = float(os.environ.get("BENCH_CLEANUP_S", "3"))


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """A keep-alive HTTP/1.1 responder: 200 "ok" to anything (no routing, no auth)."""
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    await reader.readexactly(int(line[15:]))
            if head.startswith(b"GET " + SLOW_PATH.encode()):
                await slow()
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def slow() -> None:
    """The slow request's work: say it started (the benchmark counts), then take SLOW_S."""
    print("SLOW", flush=True)
    await asyncio.sleep(SLOW_S)


async def crash() -> None:
    await asyncio.sleep(CRASH_AFTER_S)
    print("CRASH", time.monotonic(), flush=True)
    raise RuntimeError("injected crash")
