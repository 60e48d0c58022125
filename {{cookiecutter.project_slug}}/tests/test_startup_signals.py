"""Signals from the first moment: the command latches SIGTERM and SIGINT before it imports
the service, and a signal latched before the event loop runs stops it cleanly."""

import signal
import subprocess
import sys
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from helpers import BASE_ENV, Service, StartService

SIGTERM_BIT = 1 << (signal.SIGTERM - 1)


def catches_sigterm(pid: int) -> bool:
    """Whether process `pid` has a handler for SIGTERM (Linux: SigCgt in /proc/<pid>/status)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:  # gone already
        return False
    for line in status.splitlines():
        if line.startswith("SigCgt:"):
            return bool(int(line.split()[1], 16) & SIGTERM_BIT)
    return False


def wait_for_sigterm_handler(service: Service, timeout: float = 5) -> None:
    """Wait until the service has a SIGTERM handler; fail if it exits or `timeout` passes."""
    deadline = time.monotonic() + timeout
    while not catches_sigterm(service.process.pid):
        assert service.process.poll() is None, service.output
        assert time.monotonic() < deadline, "SIGTERM never got a handler"
        time.sleep(0.001)


linux_only = pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads /proc")


@linux_only
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("offset_s", [0.03, 0.05, 0.1, 0.2])
def test_a_signal_soon_after_exec_exits_0(
    start_service: StartService, offset_s: float, sig: signal.Signals
) -> None:
    service = start_service()
    time.sleep(offset_s)  # the moment under test, not a wait for an event
    # How soon an interpreter starts depends on the machine, not on the service:
    # on a busy one it may not have latched yet; then signal as soon as it has.
    wait_for_sigterm_handler(service)
    service.send_signal(sig)
    code = service.wait(timeout=5)
    assert code == 0, service.output
    assert "Traceback" not in service.output
    assert service.output.count("Shutdown complete") == 1, service.output


def test_the_command_s_module_latches_signals_at_import_and_imports_nothing_heavy() -> None:
    package = "{{ cookiecutter.package_name }}"
    heavy = ["asyncio", "uvloop", f"{package}.entrypoint", f"{package}.app"]
    code = (
        "import signal, sys\n"
        f"from {package} import __main__ as command\n"
        "signal.raise_signal(signal.SIGTERM)\n"
        "signal.raise_signal(signal.SIGINT)\n"
        "print(command.latched == [signal.SIGTERM, signal.SIGINT])\n"
        f"print(sorted(set({heavy!r}) & set(sys.modules)))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["True", "[]"]


def test_the_command_is_the_latching_module() -> None:
    [script] = entry_points(group="console_scripts", name="run-{{ cookiecutter.project_slug }}")
    assert script.value == "{{ cookiecutter.package_name }}.__main__:run"


@linux_only
def test_python_dash_m_stops_cleanly_on_a_sigterm_at_once() -> None:
    service = Service([sys.executable, "-m", "{{ cookiecutter.package_name }}"], BASE_ENV)
    try:
        wait_for_sigterm_handler(service)
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=5) == 0, service.output
        assert "Traceback" not in service.output
    finally:
        if service.process.poll() is None:
            service.process.kill()
