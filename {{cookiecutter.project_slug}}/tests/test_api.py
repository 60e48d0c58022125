"""The example API over real HTTP, the same on every transport: auth, items, limits.

Each test starts run-{{ cookiecutter.project_slug }} as a process and talks HTTP to it (on
uvloop only: the event loops are compared by the shutdown and fault tests).
"""

import contextlib
import json
import socket
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
    for path in ("/healthz", "/readyz"):
        assert call(*address, "HEAD", path, key=None)[0] == 200


@pytest.mark.parametrize("key", [None, "wrong-key", ""])
def test_the_api_needs_the_key(address: tuple[str, int], key: str | None) -> None:
    status, headers, _ = call(*address, "POST", "/items", b'{"name": "x"}', key=key)
    assert status == 401
    assert headers["WWW-Authenticate"] == "Bearer"
    assert call(*address, "GET", "/items/1", key=key)[0] == 401


ODD_AUTHORIZATIONS = {
    "not-utf8": b"Bearer \xe9",
    "no-token": b"Bearer",
    "empty-token": b"Bearer ",
    "basic": b"Basic dGVzdC1rZXk=",
    "no-scheme": b"test-key",
    "extra-word": b"Bearer test-key x",
}


@pytest.mark.parametrize("header", ODD_AUTHORIZATIONS.values(), ids=ODD_AUTHORIZATIONS.keys())
def test_odd_authorization_headers_are_401_not_500(address: tuple[str, int], header: bytes) -> None:
    request = b"GET /items/1 HTTP/1.1\r\nHost: x\r\nAuthorization: " + header
    assert raw_status(address, request + b"\r\nConnection: close\r\n\r\n") == 401


def test_the_scheme_is_case_insensitive_and_spaces_may_repeat(address: tuple[str, int]) -> None:
    request = b"GET /items/1 HTTP/1.1\r\nHost: x\r\nAuthorization: bearer  test-key\r\n"
    assert raw_status(address, request + b"Connection: close\r\n\r\n") == 404  # past auth


def test_headers_over_8_kib_get_a_4xx_and_the_server_goes_on(address: tuple[str, int]) -> None:
    request = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (16 * 1024)
    assert 400 <= raw_status(address, request) < 500  # the head never ends: no waiting for it
    assert get(*address, "/healthz")[0] == 200


def raw_status(address: tuple[str, int], request: bytes) -> int:
    """Send raw bytes; return the status of the answer (0 if the server just closed)."""
    with socket.create_connection(address, timeout=5) as connection:
        with contextlib.suppress(ConnectionError):  # closed on us mid-send, after answering
            connection.sendall(request)
        answer = b""
        with contextlib.suppress(ConnectionError):  # until the answer's head is in
            while b"\r\n\r\n" not in answer and (chunk := connection.recv(65536)):
                answer += chunk
    return int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.") else 0


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
    [
        b"{",
        b"[]",
        b'"name"',
        b"{}",
        b'{"name": 5}',
        b'{"name": ""}',
        b"\xff\xfe",
        b'{"name": "\\ud800"}',
        b'{"name": "line\\nbreak"}',
    ],
    ids=[
        "truncated",
        "array",
        "string",
        "no-name",
        "number",
        "empty-name",
        "not-utf8",
        "lone-surrogate",
        "control-character",
    ],
)
def test_a_body_of_the_wrong_shape_is_422(address: tuple[str, int], body: bytes) -> None:
    assert call(*address, "POST", "/items", body)[0] == 422


def test_json_nested_too_deep_is_a_4xx_not_a_500(address: tuple[str, int]) -> None:
    status = call(*address, "POST", "/items", b"[" * 100_000)[0]
    assert 400 <= status < 500  # 422, or 400 where FastAPI cannot parse it at all
    assert call(*address, "POST", "/items", b'{"name": "after"}')[0] == 201


def test_a_body_over_1_mib_is_413_and_the_server_goes_on(address: tuple[str, int]) -> None:
    big = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert call(*address, "POST", "/items", big)[0] == 413
    assert call(*address, "POST", "/items", b'{"name": "after"}')[0] == 201


def test_a_chunked_body_over_1_mib_is_refused(address: tuple[str, int]) -> None:
    chunk = b"x" * (2 * 1024 * 1024)
    request = (
        b"POST /items HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-key\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n" % (len(chunk), chunk)
    )
    assert raw_status(address, request) in (411, 413)  # 411: the http transport wants a length
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
    call(*address, "GET", "/items/%0aFORGED")
    stop(service)
    access = [line for line in service.output.splitlines() if ".access" in line]
    assert len(access) == 2, service.output
    assert "GET /items/7 404" in access[0]
    assert "FORGED" in access[1]  # on the same line: the newline is escaped or refused
    assert not any(line.startswith("FORGED") for line in service.output.splitlines())
