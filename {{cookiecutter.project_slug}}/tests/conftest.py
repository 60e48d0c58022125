"""Fixtures shared by the tests."""

import sys
from collections.abc import Iterator, Mapping, Sequence

import pytest

from helpers import BASE_ENV, FAULTS, SCRIPT, Service, StartService


@pytest.fixture(params=["uvloop", "asyncio"], ids=["uvloop", "asyncio-loop"])
def start_service(request: pytest.FixtureRequest) -> Iterator[StartService]:
    """Start the service on each event loop; kill leftovers at teardown."""
    started: list[Service] = []
    loop = str(request.param)

    def start(
        env: Mapping[str, str] | None = None,
        *faults: str,
        args: Sequence[str] = (),
        python_args: Sequence[str] = (),
        wrapper_args: Sequence[str] = (),
    ) -> Service:
        if faults or python_args or wrapper_args or loop != "uvloop":
            wrapper = [str(FAULTS), "--loop", loop, *wrapper_args, *faults, "--", *args]
            argv = [sys.executable, *python_args, *wrapper]
        else:
            argv = [str(SCRIPT), *args]
        service = Service(argv, {**BASE_ENV, **(env or {})})
        started.append(service)
        return service

    yield start
    for service in started:
        if service.process.poll() is None:
            service.process.kill()
            service.process.wait()
