"""deploy=kubernetes: a manifest that validates and whose timings match the drain."""

import http.client
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from support import DEFAULT, FLAVORS, Combo, Installed, start, wait_until_listening


def manifest(project: Path) -> dict[str, dict[str, Any]]:
    documents = yaml.safe_load_all((project / "deploy" / "kubernetes.yaml").read_text())
    return {document["kind"]: document for document in documents}


def container(project: Path) -> dict[str, Any]:
    [only] = manifest(project)["Deployment"]["spec"]["template"]["spec"]["containers"]
    return dict(only)


@pytest.mark.parametrize("flavor", FLAVORS)
def test_the_manifest_validates_strictly(render: Callable[..., Path], flavor: str) -> None:
    project = render(flavor=flavor, deploy="kubernetes")
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("kubernetes-validate")),
            "--strict",
            "--kubernetes-version",
            "1.31.0",
            str(project / "deploy" / "kubernetes.yaml"),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert set(manifest(project)) == {"Deployment", "PodDisruptionBudget", "Service"}


def test_object_names_are_dns_labels_even_for_a_slug_starting_with_a_digit(
    render: Callable[..., Path],
) -> None:
    project = render(project_name="3D Printer", package_name="printer3d", deploy="kubernetes")
    for document in manifest(project).values():
        name = document["metadata"]["name"]
        assert re.fullmatch(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?", name), name


def test_deploy_none_renders_no_deploy_folder(render: Callable[..., Path]) -> None:
    assert not (render() / "deploy").exists()


@pytest.mark.parametrize("flavor", FLAVORS)
def test_timings_come_from_one_budget_and_agree(render: Callable[..., Path], flavor: str) -> None:
    project = render(flavor=flavor, deploy="kubernetes")
    spec = manifest(project)["Deployment"]["spec"]["template"]["spec"]
    env = {item["name"]: item.get("value") for item in container(project)["env"]}
    timeout, drain = float(env["SHUTDOWN_TIMEOUT"]), float(env["DRAIN_DELAY"])
    assert 0 < drain < timeout < spec["terminationGracePeriodSeconds"]
    assert env["MODE"] == "prod"
    assert env["LOG_LEVEL"]


@pytest.mark.parametrize("flavor", FLAVORS)
def test_security_context_and_the_secret_as_a_file(
    render: Callable[..., Path], flavor: str
) -> None:
    project = render(flavor=flavor, deploy="kubernetes")
    spec = manifest(project)["Deployment"]["spec"]["template"]["spec"]
    main = container(project)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["runAsUser"] == 10001
    assert main["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert set(main["resources"]) == {"requests", "limits"}
    names = {item["name"] for item in main["env"]}
    assert "API_KEY" not in names
    key_file = next(item["value"] for item in main["env"] if item["name"] == "API_KEY_FILE")
    [mount] = main["volumeMounts"]
    assert key_file.startswith(mount["mountPath"] + "/")
    [volume] = spec["volumes"]
    assert volume["name"] == mount["name"]
    assert "secretName" in volume["secret"]
    if flavor == "minimal":
        dockerfile = (project / "Dockerfile").read_text()
        assert "USER 10001:10001" in dockerfile


def start_installed(installed: Installed, env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    process = start(
        [str(installed.script("run-my-app"))],
        {"MODE": "dev", "API_KEY": "k", "SERVER_PORT": "0", **env},
    )
    port, _ = wait_until_listening(process)
    return process, port


def get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        return connection.getresponse().status
    finally:
        connection.close()


@pytest.mark.parametrize("combo", [DEFAULT.param()])
def test_the_probes_in_the_manifest_are_served(
    render: Callable[..., Path], installed: Callable[[Combo], Installed], combo: Combo
) -> None:
    project = render(flavor="minimal", deploy="kubernetes")
    main = container(project)
    env = {item["name"]: item.get("value") for item in main["env"]}
    [port] = main["ports"]
    assert port["containerPort"] == int(env["SERVER_PORT"]) == 8000
    for probe in ("readinessProbe", "livenessProbe"):
        assert main[probe]["httpGet"]["port"] == port["name"]
    process, bound = start_installed(installed(combo), {})
    try:
        assert get(bound, main["readinessProbe"]["httpGet"]["path"]) == 200
        assert get(bound, main["livenessProbe"]["httpGet"]["path"]) == 200
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0


@pytest.mark.parametrize("combo", [DEFAULT.param()])
def test_a_rolling_restart_loses_no_request(
    installed: Callable[[Combo], Installed], combo: Combo
) -> None:
    """Two instances behind a client that acts as a load balancer: it skips an
    instance once its /readyz answers 503. SIGTERM one: no request fails."""
    env = {"DRAIN_DELAY": "0.5", "SHUTDOWN_TIMEOUT": "3"}
    project = installed(combo)
    instances = [start_installed(project, env), start_installed(project, env)]
    ports = [port for _, port in instances]
    ready = dict.fromkeys(ports, True)
    failures: list[str] = []
    served = 0
    signalled = False
    stop = threading.Event()

    def health_checks() -> None:  # the load balancer's readiness probe, every 50 ms
        while not stop.is_set():
            for port in ports:
                try:
                    ready[port] = get(port, "/readyz") == 200
                except OSError:
                    ready[port] = False
            stop.wait(0.05)

    checker = threading.Thread(target=health_checks)
    checker.start()
    victim, victim_port = instances[0]
    deadline = time.monotonic() + 5
    try:
        while time.monotonic() < deadline and victim.poll() is None:
            for port in [port for port in ports if ready[port]]:
                try:
                    status = get(port, "/healthz")
                except OSError as error:
                    failures.append(f"{port}: {error!r}")
                else:
                    served += 1
                    if status != 200:
                        failures.append(f"{port}: {status}")
            if served >= 50 and not signalled:
                victim.send_signal(signal.SIGTERM)
                signalled = True
    finally:
        stop.set()
        checker.join()
        for process, _ in instances:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
    assert victim.wait(timeout=5) == 0
    assert instances[1][0].wait(timeout=5) == 0
    assert failures == []
    assert served > 50
    assert not ready[victim_port]
