"""uvicorn serving a trivial ASGI app (uvloop; lifespan cleanup in "cleanup" mode)."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from common import CLEANUP_S, MODE, PORT, SLOW_PATH, slow

Message = dict[str, Any]


async def app(
    scope: Message,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if MODE == "cleanup":
                    await asyncio.sleep(CLEANUP_S)
                await send({"type": "lifespan.shutdown.complete"})
                return
    while (await receive()).get("more_body"):
        pass
    if scope["path"] == SLOW_PATH:
        await slow()
    headers = [(b"content-length", b"3")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok\n"})


uvicorn.run(app, host="127.0.0.1", port=PORT, loop="uvloop", log_level="warning")
