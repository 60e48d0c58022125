"""An aiomisc entrypoint app: the same server, the same crashing task."""

import asyncio

import aiomisc
from common import CLEANUP_S, MODE, PORT, crash, handle


class Server(aiomisc.Service):
    async def start(self) -> None:
        self.server = await asyncio.start_server(handle, "127.0.0.1", PORT)
        if MODE == "crash":
            await crash()  # raising in start() is how aiomisc services fail

    async def stop(self, exception: Exception | None = None) -> None:
        self.server.close()
        if MODE == "cleanup":
            await asyncio.sleep(CLEANUP_S)


with aiomisc.entrypoint(Server(), log_config=False) as loop:
    loop.run_forever()
