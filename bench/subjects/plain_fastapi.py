"""The fastapi render's FastAPI app for uvicorn's own runner:
`uvicorn plain_fastapi:app --host 127.0.0.1 --port PORT --log-level warning`.

The app is `.app` of the render's MyAppServer (routes, auth, pydantic model);
uvicorn's CLI serves it, with its own signal handling and shutdown. In
"cleanup" mode an ASGI lifespan wrapper makes the shutdown take CLEANUP_S.
"""

import asyncio
from typing import Any

from common import CLEANUP_S, MODE
from patches import patch_client, render_server

patch_client()
server = render_server()


def with_slow_shutdown(inner: Any) -> Any:
    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "lifespan":
            await inner(scope, receive, send)
            return
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.sleep(CLEANUP_S)
                await send({"type": "lifespan.shutdown.complete"})
                return

    return wrapped


app = with_slow_shutdown(server.app) if MODE == "cleanup" else server.app
