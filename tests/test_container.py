"""The rendered Dockerfile, built and run with a real Docker daemon.

One image per transport (a module-scoped fixture), several containers from it.
Without a daemon the tests skip, saying so; under CI (CI set) they fail instead.
Figures (build time, image size, time to healthy, docker stop time) are recorded
as user properties and printed in the terminal summary (see conftest.py).
"""

import os
import re
import shutil
import subprocess
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

pytestmark = pytest.mark.xdist_group("container")

CONTAINER_TRANSPORTS = ("http", "fastapi")
PORT = 8000  # the default server_port answer
API_KEY = "sk-CONTAINER-PROBE"
ENV = ["-e", "MODE=prod", "-e", f"API_KEY={API_KEY}"]
# The image's HEALTHCHECK command, checked every second instead of every 10 s.
FAST_HEALTH = ["--health-interval", "1s"]


def docker(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run `docker args`, output as text; fail the test on a timeout or (if `check`) an error."""
    try:
        result = subprocess.run(
            ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"docker {' '.join(args)} took over {timeout} s")
    if check and result.returncode != 0:
        pytest.fail(f"docker {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def unavailable(reason: str) -> None:
    """Skip, or under CI fail: CI must run these tests."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass(frozen=True)
class Image:
    tag: str
    project: Path
    build_s: float
    size_bytes: int


@pytest.fixture(scope="module")
def daemon() -> None:
    """A Docker daemon that answers, or a skip (a failure under CI) saying why not."""
    try:
        info = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except FileNotFoundError:
        unavailable("no docker command on PATH")
    except subprocess.TimeoutExpired:
        unavailable("docker info took over 30 s")
    else:
        if info.returncode != 0:
            last_line = (info.stderr.strip().splitlines() or [f"exit {info.returncode}"])[-1]
            unavailable(f"no Docker daemon (docker info: {last_line})")


def base_image(project: Path) -> str:
    """The runtime stage's base image, as the rendered Dockerfile names it."""
    stages: list[str] = re.findall(r"^FROM (\S+)$", (project / "Dockerfile").read_text(), re.M)
    return stages[-1]


@pytest.fixture(scope="module", params=CONTAINER_TRANSPORTS)
def image(
    request: pytest.FixtureRequest, daemon: None, render: Callable[..., Path]
) -> Iterator[Image]:
    """The minimal flavor's image for one transport, built from a render with uv.lock."""
    project = render(flavor="minimal", transport=request.param, uv=True)
    assert (project / "uv.lock").is_file(), "the render with uv on PATH writes uv.lock"
    base = base_image(project)
    if docker("image", "inspect", base, check=False).returncode != 0:
        pulled = docker("pull", base, timeout=300, check=False)
        if pulled.returncode != 0:
            unavailable(f"no base image {base} (.ci/prepare makes one): {pulled.stderr.strip()}")
    tag = f"aat-test-{request.param}:{uuid.uuid4().hex[:12]}"
    builder = f"{tag}-builder"
    # The builder stage is tagged too, so that teardown removes it as well (the
    # legacy builder would otherwise leave it behind as an untagged image);
    # --force-rm: a failed step leaves no container behind either.
    build = ["build", "--force-rm", "--tag"]
    try:
        started = time.monotonic()
        docker(*build, builder, "--target", "builder", str(project), timeout=900)
        docker(*build, tag, str(project), timeout=900)
        build_s = time.monotonic() - started
        size = int(docker("image", "inspect", "--format", "{{.Size}}", tag).stdout)
        yield Image(tag, project, build_s, size)
    finally:
        docker("image", "rm", "--force", tag, builder, check=False)


@pytest.fixture
def containers() -> Iterator[list[str]]:
    """Container ids a test started; removed (killed if need be) at teardown."""
    started: list[str] = []
    yield started
    if started:
        docker("rm", "--force", *started, check=False)


def start(containers: list[str], image: Image, *args: str) -> str:
    """`docker run -d` the image with `args` (options, then the image); return the id."""
    cid = docker("run", "--detach", *args, image.tag).stdout.strip()
    containers.append(cid)
    return cid


def logs(cid: str) -> str:
    result = docker("logs", cid)
    return result.stdout + result.stderr


def wait_for_log(cid: str, pattern: str, timeout: float = 30) -> None:
    """Follow the container's output until a line matches `pattern`; fail at EOF or timeout."""
    follow = subprocess.Popen(
        ["docker", "logs", "--follow", cid],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    timer = threading.Timer(timeout, follow.kill)
    timer.start()
    try:
        assert follow.stdout is not None
        for line in follow.stdout:  # ends when the container stops, or at the timeout
            if re.search(pattern, line):
                return
    finally:
        timer.cancel()
        follow.kill()
        follow.wait()
    pytest.fail(f"no line matching {pattern!r} within {timeout} s:\n{logs(cid)}")


def wait_healthy(cid: str, timeout: float = 60) -> float:
    """Poll the HEALTHCHECK status until healthy; return the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        state = docker("inspect", "--format", "{{.State.Status}} {{.State.Health.Status}}", cid)
        running, health = state.stdout.split()
        if health == "healthy":
            return time.monotonic() - started
        if running != "running" or health == "unhealthy":
            break
        time.sleep(0.2)
    pytest.fail(f"not healthy ({state.stdout.strip()}) after {timeout} s:\n{logs(cid)}")


def healthz(cid: str) -> int:
    """GET /healthz through the port published on 127.0.0.1; return the status."""
    address = docker("port", cid, f"{PORT}/tcp").stdout.splitlines()[0]
    with urllib.request.urlopen(f"http://{address}/healthz", timeout=5) as response:
        return int(response.status)


def stop(cid: str) -> tuple[int, float]:
    """`docker stop -t 10`; return the exit code and how long the stop took, in seconds."""
    started = time.monotonic()
    docker("stop", "--time", "10", cid, timeout=30)
    stop_s = time.monotonic() - started
    exit_code = int(docker("inspect", "--format", "{{.State.ExitCode}}", cid).stdout)
    return exit_code, stop_s


def test_the_image_is_built_and_measured(
    image: Image, record_property: Callable[[str, object], None]
) -> None:
    record_property("figure", f"docker build {image.build_s:.1f} s")
    record_property("figure", f"image size {image.size_bytes / 1e6:.1f} MB")
    assert image.size_bytes > 0


def test_it_becomes_healthy_as_pid_1_non_root_and_docker_stop_exits_0(
    image: Image, containers: list[str], record_property: Callable[[str, object], None]
) -> None:
    cid = start(containers, image, *FAST_HEALTH, "-p", f"127.0.0.1::{PORT}", *ENV)
    healthy_s = wait_healthy(cid)
    record_property("figure", f"healthy after {healthy_s:.1f} s (1 s health interval)")
    assert healthz(cid) == 200
    pid_1 = docker("exec", cid, "cat", "/proc/1/cmdline").stdout.split("\0")
    assert any(part.endswith("/run-my-app") for part in pid_1), pid_1
    assert docker("exec", cid, "id", "-u").stdout.strip() == "10001"
    exit_code, stop_s = stop(cid)
    record_property("figure", f"docker stop {stop_s:.2f} s")
    output = logs(cid)
    assert exit_code == 0, output  # not 137 (SIGKILL after the timeout) nor 143 (SIGTERM)
    assert output.count("Shutdown complete") == 1, output
    assert "Traceback" not in output
    assert API_KEY not in output


def test_it_runs_read_only_with_a_tmpfs_tmp(
    image: Image, containers: list[str], record_property: Callable[[str, object], None]
) -> None:
    cid = start(
        containers, image, "--read-only", "--tmpfs", "/tmp", "-p", f"127.0.0.1::{PORT}", *ENV
    )
    wait_for_log(cid, "Listening on")
    assert healthz(cid) == 200
    exit_code, stop_s = stop(cid)
    record_property("figure", f"docker stop, read-only: {stop_s:.2f} s")
    assert exit_code == 0, logs(cid)
    assert logs(cid).count("Shutdown complete") == 1


def test_it_starts_with_the_env_file_example(image: Image, containers: list[str]) -> None:
    cid = start(containers, image, "--env-file", str(image.project / ".env.example"))
    wait_for_log(cid, "Listening on")
    exit_code, _ = stop(cid)
    assert exit_code == 0, logs(cid)


def test_a_bad_mode_exits_78_with_one_line(image: Image) -> None:
    result = docker(
        "run", "--rm", "-e", "MODE=bogus", "-e", f"API_KEY={API_KEY}", image.tag, check=False
    )
    lines = (result.stdout + result.stderr).splitlines()
    assert result.returncode == 78, lines
    assert len(lines) == 1, lines
    assert lines[0].startswith("Configuration error: MODE"), lines


def test_the_image_holds_the_service_but_no_dev_dependencies_or_sources(image: Image) -> None:
    probe = (
        "import importlib.util as u, os, my_app; "
        "print(my_app.__file__); "
        "print([m for m in ('pytest', 'mypy', 'ruff', 'uv') if u.find_spec(m)]); "
        "print(os.path.exists('/src'))"
    )
    result = docker("run", "--rm", "--entrypoint", "python", image.tag, "-c", probe)
    location, dev, sources = result.stdout.splitlines()
    assert location.startswith("/opt/venv/lib/"), location
    assert dev == "[]"
    assert sources == "False"


def test_without_uv_lock_the_build_fails_saying_to_run_uv_lock(
    image: Image, tmp_path: Path
) -> None:
    project = tmp_path / "unlocked"
    shutil.copytree(image.project, project, ignore=shutil.ignore_patterns("uv.lock", ".venv"))
    result = docker("build", "--force-rm", str(project), timeout=300, check=False)
    # The steps before the failing one are left as untagged images: remove them
    # (layers that the test image shares are kept, since it still uses them).
    # The first is the base image's: never remove that.
    layers = re.findall(r"^ ---> ([0-9a-f]{12})$", result.stdout, re.MULTILINE)[1:]
    if layers:
        docker("image", "rm", *layers, check=False)
    assert result.returncode != 0
    assert "Unable to find lockfile at `uv.lock`" in result.stdout + result.stderr
    assert "run `uv lock`" in result.stdout + result.stderr
