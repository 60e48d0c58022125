"""Fixtures shared by the tests."""

import sys
from collections.abc import Iterator, Mapping

import pytest

from helpers import BASE_ENV, FAULTS, SCRIPT, Service, StartService


@pytest.fixture
def start_service() -> Iterator[StartService]:
    """Start the service (or the fault wrapper with `fault=`); kill leftovers at teardown."""
    started: list[Service] = []

    def start(env: Mapping[str, str] | None = None, fault: str | None = None) -> Service:
        argv = [str(SCRIPT)] if fault is None else [sys.executable, str(FAULTS), fault]
        service = Service(argv, {**BASE_ENV, **(env or {})})
        started.append(service)
        return service

    yield start
    for service in started:
        if service.process.poll() is None:
            service.process.kill()
            service.process.wait()
