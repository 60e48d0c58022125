"""The transport's lifecycle interface, in process: a stop at any point of its startup.

These use only what the entrypoint uses (bind, run_server, exit_handler,
ready), so they are the same for every transport.
"""

import asyncio
import socket

import pytest

from {{ cookiecutter.package_name }}.app import {{ cookiecutter.__prefix }}Server as Server
from {{ cookiecutter.package_name }}.client import {{ cookiecutter.__prefix }}Client
from {{ cookiecutter.package_name }}.entrypoint import SupervisedTaskManager
from {{ cookiecutter.package_name }}.environment import get_app_environment


async def bound_server() -> tuple[Server, int]:
    env = get_app_environment({"MODE": "dev", "API_KEY": "k", "SERVER_PORT": "0"})
    tm = SupervisedTaskManager()
    server = Server(env, {{ cookiecutter.__prefix }}Client(env, tm), tm)
    await server.bind()
    assert server._socket is not None
    return server, server._socket.getsockname()[1]


def assert_port_free(port: int) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


async def test_a_stop_before_serving_closes_the_socket() -> None:
    server, port = await bound_server()
    await asyncio.wait_for(server.exit_handler(None, None, None), timeout=5)
    assert not server.ready
    assert_port_free(port)


@pytest.mark.parametrize("yields", [0, 1, 2, 5, 20])
async def test_a_stop_while_the_server_starts_ends_it_cleanly(yields: int) -> None:
    server, port = await bound_server()
    serving = asyncio.create_task(server.run_server())
    for _ in range(yields):  # the moment under test: some way into the startup
        await asyncio.sleep(0)
    await asyncio.wait_for(server.exit_handler(None, None, None), timeout=5)
    await asyncio.wait_for(serving, timeout=5)  # returns, and does not raise
    assert not server.ready
    assert_port_free(port)


async def test_a_stop_while_serving_frees_the_port() -> None:
    server, port = await bound_server()
    serving = asyncio.create_task(server.run_server())
    async with asyncio.timeout(5):
        while not server.ready:  # noqa: ASYNC110 (readiness is a flag, not an event)
            await asyncio.sleep(0.01)
    await asyncio.wait_for(server.exit_handler(None, None, None), timeout=5)
    await asyncio.wait_for(serving, timeout=5)
    assert_port_free(port)
