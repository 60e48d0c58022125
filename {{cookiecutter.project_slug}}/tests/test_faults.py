"""Failures inside the service: each ends in one shutdown and the right exit code.

Faults are injected by faults.py, which patches the client and then runs the
service as the command does. SHUTDOWN_TIMEOUT is 1 s (helpers.BASE_ENV).
"""

import signal
import socket

from helpers import STARTUP_S, StartService


def tracebacks(output: str) -> int:
    return output.count("Traceback (most recent call last)")


def test_a_crashing_task_exits_1_with_one_traceback(start_service: StartService) -> None:
    service = start_service({}, "crash-task")
    assert service.wait(timeout=STARTUP_S) == 1
    assert tracebacks(service.output) == 1
    assert "injected task failure" in service.output
    assert service.output.count("Shutdown complete") == 1


def test_two_tasks_failing_at_once_are_each_logged_once(start_service: StartService) -> None:
    service = start_service({}, "crash-two")
    assert service.wait(timeout=STARTUP_S) == 1
    assert tracebacks(service.output) == 2
    assert service.output.count("first injected failure") == 1
    assert service.output.count("second injected failure") == 1


def test_a_task_raising_during_shutdown_exits_1(start_service: StartService) -> None:
    service = start_service({}, "raise-on-cancel")
    service.wait_until_listening()
    service.send_signal(signal.SIGTERM)
    assert service.wait(timeout=5) == 1
    assert tracebacks(service.output) == 1
    assert service.output.count("Shutdown complete") == 1


def test_a_failing_initialize_exits_1_with_one_traceback(start_service: StartService) -> None:
    service = start_service({}, "crash-initialize")
    assert service.wait(timeout=STARTUP_S) == 1
    assert tracebacks(service.output) == 1
    assert "Startup failed" in service.output
    assert "Listening on" not in service.output


def test_a_failing_stop_exits_1_and_the_rest_of_shutdown_runs(
    start_service: StartService,
) -> None:
    service = start_service({}, "raise-stop", "polite-task")
    host, port = service.wait_until_listening()
    service.send_signal(signal.SIGTERM)
    assert service.wait(timeout=5) == 1
    assert tracebacks(service.output) == 1
    assert "injected stop failure" in service.output
    assert "fault: polite task cleaned up" in service.output  # tasks were still cancelled
    with socket.socket() as probe:  # the listener was closed
        probe.bind((host, port))


def test_a_hanging_stop_misses_the_deadline_and_exits_1(start_service: StartService) -> None:
    service = start_service({}, "hang-stop")
    service.wait_until_listening()
    service.send_signal(signal.SIGTERM)
    assert service.wait(timeout=1 + 1 + 2) == 1
    [line] = [line for line in service.output.splitlines() if "deadline" in line]
    assert "client.stop() did not finish" in line


def test_a_task_swallowing_cancellation_is_named_and_exits_1(
    start_service: StartService,
) -> None:
    service = start_service({}, "stubborn-task", "polite-task")
    service.wait_until_listening()
    service.send_signal(signal.SIGTERM)
    assert service.wait(timeout=1 + 1 + 2) == 1
    [line] = [line for line in service.output.splitlines() if "deadline" in line]
    assert "stubborn" in line
    assert "polite" not in line
    assert "fault: polite task cleaned up" in service.output


def test_a_thread_stuck_in_the_executor_exits_1_by_the_deadline(
    start_service: StartService,
) -> None:
    service = start_service({}, "stuck-executor")
    service.wait_for_line("fault: executor thread sleeping")
    service.send_signal(signal.SIGTERM)
    assert service.wait(timeout=1 + 1 + 2) == 1
    assert "executor" in service.output.splitlines()[-1]


def test_no_resource_warnings_with_connections_open_at_sigterm(
    start_service: StartService,
) -> None:
    service = start_service(python_args=["-X", "dev", "-W", "error::ResourceWarning"])
    host, port = service.wait_until_listening()
    idle = [socket.create_connection((host, port), timeout=5) for _ in range(5)]
    half = socket.create_connection((host, port), timeout=5)
    half.sendall(b"GET /healthz HTTP/1.1\r\n")
    try:
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=5) == 0, service.output
    finally:
        for connection in [*idle, half]:
            connection.close()
    for text in ("Task was destroyed", "never awaited", "Event loop is closed", "unclosed"):
        assert text not in service.output
    assert "Exception ignored" not in service.output
    assert tracebacks(service.output) == 0


def test_a_request_overrunning_the_deadline_is_abandoned_and_stop_still_runs(
    start_service: StartService,
) -> None:
    service = start_service({"SHUTDOWN_TIMEOUT": "2"}, "stuck-item")
    host, port = service.wait_until_listening()
    stuck = socket.create_connection((host, port), timeout=5)
    stuck.sendall(b"GET /items/1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer test-key\r\n\r\n")
    service.wait_for_line("fault: stuck request started")
    service.send_signal(signal.SIGTERM)
    assert service.wait(timeout=3) == 1, service.output
    stuck.close()
    [line] = [line for line in service.output.splitlines() if "abandoned" in line]
    assert line.endswith("Requests in flight abandoned: 1")
    assert "Stopping client" in service.output
    assert service.output.count("Shutdown complete") == 1
    assert tracebacks(service.output) == 0
