"""The service as a real process, stopped by real signals."""

import signal
import socket

import pytest

from helpers import StartService, get

NOISE = (
    "Traceback",
    "Task was destroyed",
    "Event loop is closed",
    "never awaited",
    "Exception ignored",
)


def assert_clean(output: str) -> None:
    for text in NOISE:
        assert text not in output, output


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_while_serving_exits_0(start_service: StartService, sig: signal.Signals) -> None:
    service = start_service()
    host, port = service.wait_until_listening()
    assert get(host, port, "/healthz") == (200, b"ok\n")
    assert get(host, port, "/readyz") == (200, b"ready\n")
    service.send_signal(sig)
    assert service.wait(timeout=5) == 0
    assert service.output.count("Shutdown complete") == 1
    assert_clean(service.output)
    with socket.socket() as probe:  # the port is free again at once
        probe.bind((host, port))


def test_a_crashing_task_exits_1_with_one_traceback(start_service: StartService) -> None:
    service = start_service(fault="crash-task")
    assert service.wait(timeout=5) == 1
    assert service.output.count("Traceback") == 1
    assert "injected task failure" in service.output
    assert service.output.count("Shutdown complete") == 1


def test_a_failing_initialize_exits_1_with_one_traceback(start_service: StartService) -> None:
    service = start_service(fault="crash-initialize")
    assert service.wait(timeout=5) == 1
    assert service.output.count("Traceback") == 1
    assert "Startup failed" in service.output
    assert "Listening on" not in service.output


def test_sigterm_during_initialize_exits_0(start_service: StartService) -> None:
    service = start_service(fault="slow-initialize")
    service.wait_for_line("fault: initialize waiting")
    service.send_signal(signal.SIGTERM)
    assert service.wait(timeout=5) == 0
    assert "Stopping client" in service.output
    assert_clean(service.output)


def test_a_hanging_stop_misses_the_deadline_and_exits_1(start_service: StartService) -> None:
    service = start_service(fault="hang-stop")
    service.wait_until_listening()
    service.send_signal(signal.SIGTERM)
    assert service.wait(timeout=1 + 1 + 3) == 1
    assert "client.stop() did not finish" in service.output


def test_sigint_during_shutdown_exits_130(start_service: StartService) -> None:
    service = start_service({"SHUTDOWN_TIMEOUT": "30"}, fault="hang-stop")
    service.wait_until_listening()
    service.send_signal(signal.SIGTERM)
    service.wait_for_line("fault: stop hanging")
    service.send_signal(signal.SIGINT)
    assert service.wait(timeout=5) == 130
    assert service.output.count("abandoning") == 1


def test_a_failing_stop_exits_1_and_shutdown_completes(start_service: StartService) -> None:
    service = start_service(fault="raise-stop")
    service.wait_until_listening()
    service.send_signal(signal.SIGTERM)
    assert service.wait(timeout=5) == 1
    assert service.output.count("Traceback") == 1
    assert service.output.count("Shutdown complete") == 1


@pytest.mark.parametrize(
    ("env", "variable"),
    [({"MODE": ""}, "MODE"), ({"SERVER_PORT": "abc"}, "SERVER_PORT")],
)
def test_bad_config_exits_78_with_one_line(
    start_service: StartService, env: dict[str, str], variable: str
) -> None:
    service = start_service(env)
    assert service.wait(timeout=5) == 78
    [line] = service.output.splitlines()
    assert variable in line
    assert_clean(service.output)


def test_the_api_key_never_appears_in_output(start_service: StartService) -> None:
    secret = {"API_KEY": "sk-PROBE", "LOG_LEVEL": "DEBUG"}
    service = start_service(secret)
    host, port = service.wait_until_listening()
    get(host, port, "/healthz")
    service.send_signal(signal.SIGTERM)
    assert service.wait() == 0
    failing = start_service({**secret, "SERVER_PORT": "x", "SHUTDOWN_TIMEOUT": "0"})
    assert failing.wait() == 78
    for output in (service.output, failing.output):
        assert "sk-PROBE" not in output
