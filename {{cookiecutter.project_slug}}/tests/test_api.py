"""The example API over real HTTP, the same on every transport: auth, items, limits.

Each test starts run-{{ cookiecutter.project_slug }} as a process and talks HTTP to it (on
uvloop only: the event loops are compared by the shutdown and fault tests).
"""

import json
from collections.abc import Callable, Iterator, Mapping

import pytest

from helpers import BASE_ENV, SCRIPT, Service, call, get

StartService = Callable[..., Service]


@pytest.fixture
def start_service() -> Iterator[StartService]:
    started: list[Service] = []

    def start(env: Mapping[str, str] | None = None) -> Service:
        started.append(Service([str(SCRIPT)], {**BASE_ENV, **(env or {})}))
        return started[-1]

    yield start
    for service in started:
        if service.process.poll() is None:
            service.process.kill()
            service.process.wait()


@pytest.fixture
def address(start_service: StartService) -> Iterator[tuple[str, int]]:
    service = start_service()
    yield service.wait_until_listening()
    stop(service)


def stop(service: Service) -> None:
    service.process.terminate()
    assert service.wait() == 0, service.output


def test_probes_need_no_key(address: tuple[str, int]) -> None:
    assert get(*address, "/healthz")[0] == 200
    assert get(*address, "/readyz")[0] == 200


@pytest.mark.parametrize("key", [None, "wrong-key", ""])
def test_the_api_needs_the_key(address: tuple[str, int], key: str | None) -> None:
    status, headers, _ = call(*address, "POST", "/items", b'{"name": "x"}', key=key)
    assert status == 401
    assert headers["WWW-Authenticate"] == "Bearer"
    assert call(*address, "GET", "/items/1", key=key)[0] == 401


def test_a_created_item_can_be_fetched_at_its_location(address: tuple[str, int]) -> None:
    status, headers, body = call(*address, "POST", "/items", b'{"name": "first"}')
    assert status == 201
    item = json.loads(body)
    assert item["name"] == "first"
    location = headers["Location"]
    assert location == f"/items/{item['id']}"
    status, _, body = call(*address, "GET", location)
    assert status == 200
    assert json.loads(body) == item


def test_an_unknown_item_is_404_with_an_error(address: tuple[str, int]) -> None:
    status, _, body = call(*address, "GET", "/items/404404")
    assert status == 404
    assert "error" in json.loads(body)


@pytest.mark.parametrize(
    "body",
    [b"{", b"[]", b'"name"', b"{}", b'{"name": 5}', b'{"name": ""}', b"\xff\xfe"],
    ids=["truncated", "array", "string", "no-name", "number", "empty-name", "not-utf8"],
)
def test_a_body_of_the_wrong_shape_is_422(address: tuple[str, int], body: bytes) -> None:
    assert call(*address, "POST", "/items", body)[0] == 422


def test_a_body_over_1_mib_is_413_and_the_server_goes_on(address: tuple[str, int]) -> None:
    big = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert call(*address, "POST", "/items", big)[0] == 413
    assert call(*address, "POST", "/items", b'{"name": "after"}')[0] == 201


def test_unknown_paths_are_404_and_wrong_methods_405(address: tuple[str, int]) -> None:
    assert call(*address, "GET", "/nope")[0] == 404
    assert call(*address, "GET", "/nope", key=None)[0] == 404
    assert call(*address, "DELETE", "/items")[0] == 405
    assert call(*address, "POST", "/healthz", b"")[0] == 405


def test_no_api_docs_outside_dev(start_service: StartService) -> None:
    service = start_service({"MODE": "prod"})
    address = service.wait_until_listening()
    assert get(*address, "/docs")[0] == 404
    assert get(*address, "/openapi.json")[0] == 404
    stop(service)


def test_each_api_request_is_logged_once_and_probes_are_not(start_service: StartService) -> None:
    service = start_service()
    address = service.wait_until_listening()
    get(*address, "/healthz")
    get(*address, "/readyz")
    call(*address, "GET", "/items/7")
    call(*address, "POST", "/items", b"x" * (2 * 1024 * 1024))
    stop(service)
    access = [line for line in service.output.splitlines() if ".access" in line]
    assert len(access) == 2, service.output
    assert "GET /items/7 404" in access[0]
    assert "POST /items 413" in access[1]
