"""Each flavor and transport, installed on a supported Python: its own suite passes, and it runs."""

import re
import signal
import subprocess
import urllib.request
from collections.abc import Callable

import pytest

from support import DEFAULT, SUITES, Combo, Installed, finish, start, wait_until_listening

STARTUP_S = 20  # a liveness bound for a process start on a loaded machine
ENV = {"MODE": "dev", "API_KEY": "sk-PROBE", "SERVER_PORT": "0", "LOG_LEVEL": "DEBUG"}
Get = Callable[[Combo], Installed]


@pytest.mark.parametrize("combo", [combo.param() for combo in SUITES])
def test_the_generated_suite_passes(
    installed: Get, combo: Combo, record_property: Callable[[str, object], None]
) -> None:
    project = installed(combo)
    version = subprocess.run(
        [str(project.python), "-c", "import sys; print(sys.version)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    result = subprocess.run(
        [str(project.python), "-m", "pytest", "-q", "-p", "no:cacheprovider", *combo.pytest_args],
        cwd=project.project,
        capture_output=True,
        text=True,
        timeout=500,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\d+ passed", result.stdout)
    assert not re.search(r"\d+ (failed|skipped|error)", result.stdout), result.stdout
    summary = result.stdout.strip().splitlines()[-1]
    record_property("figure", f"Python {version}: {summary}")


@pytest.mark.parametrize("combo", [combo.param() for combo in SUITES])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_run_script_serves_and_stops_cleanly(
    installed: Get, combo: Combo, sig: signal.Signals
) -> None:
    project = installed(combo)
    process = start([str(project.script("run-my-app"))], ENV)
    port, lines = wait_until_listening(process)
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
        assert response.status == 200
    process.send_signal(sig)
    output = finish(process, lines)
    assert process.returncode == 0, output
    assert output.count("Shutdown complete") == 1
    assert "Traceback" not in output
    assert "sk-PROBE" not in output


@pytest.mark.parametrize("combo", [combo.param() for combo in SUITES])
def test_a_crashing_task_exits_1(installed: Get, combo: Combo) -> None:
    project = installed(combo)
    faults = project.project / "tests" / "faults.py"
    process = start([str(project.python), str(faults), "crash-task"], ENV)
    output = finish(process, [], timeout=STARTUP_S)
    assert process.returncode == 1, output
    assert output.count("Traceback") == 1


@pytest.mark.parametrize("combo", [combo.param() for combo in SUITES])
def test_bad_config_exits_78(installed: Get, combo: Combo) -> None:
    project = installed(combo)
    process = start([str(project.script("run-my-app"))], {**ENV, "SERVER_PORT": "abc"})
    output = finish(process, [], timeout=STARTUP_S)
    assert process.returncode == 78, output
    assert output.splitlines() == [
        "Configuration error: SERVER_PORT must be an integer from 0 to 65535, got 'abc'"
    ]


@pytest.mark.parametrize("combo", [DEFAULT.param()])
def test_python_dash_m_runs_the_same_service(installed: Get, combo: Combo) -> None:
    project = installed(combo)
    process = start([str(project.python), "-m", "my_app"], {**ENV, "MODE": ""})
    output = finish(process, [], timeout=STARTUP_S)
    assert process.returncode == 78
    assert output == "Configuration error: MODE environment variable is required\n"
