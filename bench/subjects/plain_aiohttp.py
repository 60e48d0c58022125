"""The aiohttp render's web.Application served by aiohttp's own runner, web.run_app.

The app is `.app` of the render's MyAppServer (routes, auth middleware); run_app
handles the signals and the shutdown (on uvloop, as the render). Logging at
WARNING, as the render runs in the benchmark. In "cleanup" mode an on_cleanup
callback makes the shutdown take CLEANUP_S.
"""

import asyncio
import logging

import uvloop
from aiohttp import web
from common import CLEANUP_S, MODE, PORT
from patches import patch_client, render_server

logging.basicConfig(level=logging.WARNING)
patch_client()
server = render_server()


async def slow_cleanup(app: web.Application) -> None:
    await asyncio.sleep(CLEANUP_S)


if MODE == "cleanup":
    server.app.on_cleanup.append(slow_cleanup)
web.run_app(server.app, host="127.0.0.1", port=PORT, print=None, loop=uvloop.new_event_loop())
