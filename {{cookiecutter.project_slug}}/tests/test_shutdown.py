"""The service as a real process, stopped by real signals at ordinary and odd moments.

Every test runs on uvloop and on the standard asyncio loop (the start_service
fixture). Bounds such as "exits within 5 s" catch hangs; they measure nothing.
"""

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.environment import VARIABLES

from helpers import BASE_ENV, SCRIPT, STARTUP_S, Service, StartService, get

NOISE = (
    "Traceback",
    "Task was destroyed",
    "Event loop is closed",
    "never awaited",
    "Exception ignored",
    "InvalidStateError",
    "ResourceWarning",
)


def assert_clean(output: str) -> None:
    for text in NOISE:
        assert text not in output, output
    assert output.count("Shutdown complete") == 1, output
    assert output.count("Shutting down") == 1, output


def stop_and_expect(service: Service, code: int, sig: signal.Signals = signal.SIGTERM) -> str:
    service.send_signal(sig)
    assert service.wait(timeout=5) == code, service.output
    return service.output


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_while_serving_exits_0(start_service: StartService, sig: signal.Signals) -> None:
    service = start_service()
    host, port = service.wait_until_listening()
    assert get(host, port, "/healthz") == (200, b"ok\n")
    assert get(host, port, "/readyz") == (200, b"ready\n")
    assert_clean(stop_and_expect(service, 0, sig))
    with socket.socket() as probe:  # the port is free again at once
        probe.bind((host, port))


def test_the_signal_signal_fallback_stops_cleanly(start_service: StartService) -> None:
    service = start_service(wrapper_args=["--no-add-signal-handler"])
    service.wait_until_listening()
    assert_clean(stop_and_expect(service, 0))


def test_sigterm_at_the_first_log_line_exits_0(start_service: StartService) -> None:
    service = start_service()
    service.wait_for_line("Initializing client")  # before the listener is bound
    assert_clean(stop_and_expect(service, 0))


@pytest.mark.parametrize("gap_s", [0.001, 0.01, 0.03])
def test_two_sigterms_make_one_shutdown(start_service: StartService, gap_s: float) -> None:
    service = start_service()
    service.wait_until_listening()
    service.send_signal(signal.SIGTERM)
    time.sleep(gap_s)  # the gap under test, not a wait for an event
    assert_clean(stop_and_expect(service, 0))


def test_sigint_then_sigterm_exits_0(start_service: StartService) -> None:
    service = start_service()
    service.wait_until_listening()
    service.send_signal(signal.SIGINT)
    # Signals sent back to back may be handled in either order: wait for the first.
    service.wait_for_line("Received SIGINT")
    assert_clean(stop_and_expect(service, 0))


def test_sigterm_while_the_exit_handler_runs_is_absorbed(start_service: StartService) -> None:
    service = start_service({}, "slow-stop")
    service.wait_until_listening()
    service.send_signal(signal.SIGTERM)
    service.wait_for_line("fault: stop slow")
    output = stop_and_expect(service, 0)
    assert_clean(output)
    assert output.count("already under way") == 1


def test_sigterm_during_interpreter_teardown_is_absorbed(start_service: StartService) -> None:
    service = start_service(wrapper_args=["--slow-teardown"])
    service.wait_until_listening()
    service.send_signal(signal.SIGTERM)
    service.wait_for_line("fault: tearing down")
    assert_clean(stop_and_expect(service, 0))


def test_sigterm_during_initialize_exits_0(start_service: StartService) -> None:
    service = start_service({}, "slow-initialize")
    service.wait_for_line("fault: initialize waiting")
    output = stop_and_expect(service, 0)
    assert_clean(output)
    assert "Stopping client" in output


def test_sigint_during_shutdown_exits_130_at_once(start_service: StartService) -> None:
    service = start_service({"SHUTDOWN_TIMEOUT": "30"}, "hang-stop")
    service.wait_until_listening()
    service.send_signal(signal.SIGTERM)
    service.wait_for_line("fault: stop hanging")
    service.send_signal(signal.SIGINT)
    assert service.wait(timeout=1 + 2) == 130, service.output
    [line] = [line for line in service.output.splitlines() if "abandoning" in line]
    assert "shutdown" in line


def test_idle_keep_alive_connections_do_not_hold_up_shutdown(
    start_service: StartService,
) -> None:
    service = start_service()
    host, port = service.wait_until_listening()
    connections = [socket.create_connection((host, port), timeout=5) for _ in range(20)]
    try:
        for connection in connections:
            connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
            assert connection.recv(1024).startswith(b"HTTP/1.1 200")
        assert_clean(stop_and_expect(service, 0))
    finally:
        for connection in connections:
            connection.close()


def test_drain_serves_in_flight_requests_and_readiness_turns_503(
    start_service: StartService,
) -> None:
    service = start_service({"DRAIN_DELAY": "1", "SHUTDOWN_TIMEOUT": "3"}, "slow-item")
    host, port = service.wait_until_listening()
    slow = socket.create_connection((host, port), timeout=5)
    slow.sendall(b"GET /items/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-key\r\n\r\n")
    service.wait_for_line("fault: slow request started")
    service.send_signal(signal.SIGTERM)
    service.wait_for_line("Shutting down")
    assert get(host, port, "/readyz")[0] == 503  # during DRAIN_DELAY
    assert get(host, port, "/healthz")[0] == 200  # alive all the same
    assert slow.recv(1024).startswith(b"HTTP/1.1 200")  # the request in flight completes
    slow.close()
    assert service.wait(timeout=5) == 0
    assert_clean(service.output)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection((host, port), timeout=5)


def test_a_body_still_arriving_when_the_listener_closes_is_served(
    start_service: StartService,
) -> None:
    service = start_service({"DRAIN_DELAY": "0.5", "SHUTDOWN_TIMEOUT": "5"})
    host, port = service.wait_until_listening()
    service.send_signal(signal.SIGTERM)
    service.wait_for_line("Shutting down")
    body = b'{"name": "late"}'
    upload = socket.create_connection((host, port), timeout=5)  # during DRAIN_DELAY
    upload.sendall(
        b"POST /items HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-key\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body[:5])
    )
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:  # poll until the listener is closed: refused
        try:
            socket.create_connection((host, port), timeout=1).close()
        except ConnectionRefusedError:
            break
        time.sleep(0.02)  # the poll's interval, not a wait for the event
    else:
        pytest.fail("the listener never closed")
    upload.sendall(body[5:])
    assert upload.recv(1024).startswith(b"HTTP/1.1 201"), service.output
    upload.close()
    assert service.wait(timeout=5) == 0, service.output
    assert_clean(service.output)


def test_a_port_in_use_exits_1_with_one_line_before_anything_starts(
    start_service: StartService,
) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        service = start_service({"SERVER_PORT": str(port)})
        assert service.wait(timeout=STARTUP_S) == 1
    [line] = service.output.splitlines()
    assert f"127.0.0.1:{port}" in line
    assert "in use" in line
    assert "Initializing client" not in service.output


def test_an_address_not_on_this_host_exits_1_with_one_line(start_service: StartService) -> None:
    service = start_service({"SERVER_IP": "192.0.2.1"})  # TEST-NET-1: never a local address
    assert service.wait(timeout=STARTUP_S) == 1
    [line] = service.output.splitlines()
    assert "192.0.2.1" in line
    assert "Traceback" not in service.output


@pytest.mark.parametrize(
    ("env", "variable"),
    [({"MODE": ""}, "MODE"), ({"SERVER_PORT": "abc"}, "SERVER_PORT")],
)
def test_bad_config_exits_78_with_one_line(
    start_service: StartService, env: dict[str, str], variable: str
) -> None:
    service = start_service(env)
    assert service.wait(timeout=STARTUP_S) == 78
    [line] = service.output.splitlines()
    assert variable in line


def test_every_config_problem_is_listed_in_one_run(start_service: StartService) -> None:
    service = start_service(
        {
            "MODE": "Prod ",
            "SERVER_PORT": "65536",
            "LOG_LEVEL": "verbose",
            "SHUTDOWN_TIMEOUT": "nan",
            "API_KEY": "sk-PROBE",
            "API_KEY_FILE": "/nonexistent",
        }
    )
    assert service.wait(timeout=STARTUP_S) == 78
    lines = service.output.splitlines()
    assert [line.split()[2] for line in lines] == [
        "MODE",
        "SERVER_PORT",
        "LOG_LEVEL",
        "SHUTDOWN_TIMEOUT",
        "API_KEY",
    ]
    assert "sk-PROBE" not in service.output
    assert "Traceback" not in service.output


def test_the_api_key_never_appears_in_output(start_service: StartService) -> None:
    secret = {"API_KEY": "sk-PROBE", "LOG_LEVEL": "DEBUG"}
    service = start_service(secret)
    host, port = service.wait_until_listening()
    get(host, port, "/healthz")
    stop_and_expect(service, 0)
    failing = start_service({**secret, "SERVER_PORT": "x", "SHUTDOWN_TIMEOUT": "0"})
    assert failing.wait() == 78
    for output in (service.output, failing.output):
        assert "sk-PROBE" not in output


def test_help_version_and_check_config(start_service: StartService) -> None:
    service = start_service(args=["--help"])
    assert service.wait() == 0
    for name in VARIABLES:
        assert name in service.output
    version = start_service(args=["--version"])
    assert version.wait() == 0
    assert version.output.strip().endswith(__version__)
    valid = start_service(args=["--check-config"])
    assert valid.wait() == 0
    assert "Listening" not in valid.output
    invalid = start_service({"MODE": "bogus"}, args=["--check-config"])
    assert invalid.wait() == 78
    assert invalid.output.startswith("Configuration error: MODE")


def works(command: list[str]) -> bool:
    if shutil.which(command[0]) is None:
        return False
    return subprocess.run([*command, "true"], capture_output=True, check=False).returncode == 0


def test_as_pid_1_of_a_new_pid_namespace_sigterm_exits_0() -> None:
    # A plain asyncio.run() program as PID 1 ignores SIGTERM (the kernel drops
    # signals that PID 1 has no handler for); Docker then kills it with 137.
    unshare = ["unshare", "--fork", "--pid", "--mount-proc"]
    if not works(unshare):
        pytest.skip("unshare --fork --pid --mount-proc is not available (Linux, as root)")
    service = Service([*unshare, str(SCRIPT)], BASE_ENV)
    try:
        service.wait_until_listening()
        children = Path(f"/proc/{service.process.pid}/task/{service.process.pid}/children")
        pid_1 = int(children.read_text().split()[0])  # unshare itself forwards no signals
        os.kill(pid_1, signal.SIGTERM)
        assert service.wait(timeout=2) == 0, service.output
        assert_clean(service.output)
    finally:
        if service.process.poll() is None:
            service.process.kill()
