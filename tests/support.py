"""Helpers for the template's tests: commands, interpreters, installs.

Rendering goes through cookiecutter's API or command line, hooks included.
Virtualenvs are made with uv, for speed; each installs the rendered project
as a user would, and the caesari stand-ins as local distributions only
(``--no-index --find-links``): their names must never resolve from an index.
"""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from glob import glob
from pathlib import Path
from typing import Any

import pytest

TEMPLATE = Path(__file__).resolve().parents[1]
HELPERS = TEMPLATE / "{{cookiecutter.project_slug}}" / "src" / "{{cookiecutter.package_name}}"
STANDINS = Path(__file__).resolve().parent / "standins"
# stand-in distribution -> (its package, the minimal helper it is built from)
STANDIN_SOURCES = {
    "caesari-aio": ("caesari_aio", "task_manager.py"),
    "caesari-graceful-exit": ("caesari_graceful_exit", "graceful_exit.py"),
    "caesari-logger": ("caesari_logger", None),
}
FLAVORS = ("minimal", "caesari")
TRANSPORTS = ("http", "fastapi", "aiohttp")
UV = [sys.executable, "-m", "uv"]


def render_path(uv: bool) -> str:
    """PATH for a render: with `uv` the test venv's uv comes first, so the hook locks;
    without, every folder holding a uv is left out, so the hook cannot (and renders stay fast).
    """
    folders = os.environ.get("PATH", "").split(os.pathsep)
    if uv:
        return os.pathsep.join([str(Path(sys.executable).with_name("uv").parent), *folders])
    return os.pathsep.join(folder for folder in folders if not shutil.which("uv", path=folder))


def run(
    argv: list[str], cwd: Path | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run a command, capture its output as text, and fail the test if it fails."""
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False, **kwargs)
    if result.returncode != 0:
        pytest.fail(f"{argv} exited {result.returncode}:\n{result.stdout}\n{result.stderr}")
    return result


def find_python(version: str) -> str:
    """Return a working interpreter for `version` (e.g. "3.13"), from PATH or pyenv.

    Skips the test if there is none, except under CI, where it fails.
    """
    candidates = [shutil.which(f"python{version}")]
    pyenv_root = os.environ.get("PYENV_ROOT", str(Path.home() / ".pyenv"))
    candidates += sorted(glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"))[::-1]
    for candidate in filter(None, candidates):
        check = subprocess.run([candidate, "-c", "import sys"], capture_output=True, check=False)
        if check.returncode == 0:
            return candidate
    message = (
        f"no Python {version} found on PATH or under {pyenv_root}/versions"
        " (.ci/prepare makes 3.14 and 3.15: source $AAT_CACHE/env.sh to put them on PATH)"
    )
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


@dataclass(frozen=True)
class Installed:
    """A rendered project installed into its own virtualenv."""

    project: Path
    python: Path

    def script(self, name: str) -> Path:
        return self.python.with_name(name)


def install(project: Path, venv: Path, python: str, wheels: Path) -> Installed:
    """Make `venv` with `python` and install `project` and its test group into it.

    Public requirements come from the index; then the project is installed with
    the index switched off, so caesari-* can only come from the stand-in wheels.
    """
    run([*UV, "venv", "--quiet", "--python", python, str(venv)])
    venv_python = venv / "bin" / "python"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    requirements = pyproject["project"]["dependencies"] + pyproject["dependency-groups"]["test"]
    local = {path.name.split("-")[0].replace("_", "-") for path in wheels.glob("*.whl")}
    public = [
        requirement
        for requirement in requirements
        if not any(requirement.startswith(name) for name in local)
    ]
    # Compiled at install, as pip does: else the first test processes all compile at once.
    pip = [*UV, "pip", "install", "--quiet", "--compile-bytecode", "--python", str(venv_python)]
    run([*pip, "hatchling", *public])
    run(
        [
            *pip,
            "--no-index",
            "--find-links",
            str(wheels),
            "--no-build-isolation",
            str(project),
        ]
    )
    return Installed(project, venv_python)


@dataclass(frozen=True)
class Combo:
    """A flavor and transport, installed on one Python."""

    flavor: str
    transport: str
    python: str
    both_loops: bool = True  # else its suite runs on uvloop only

    @property
    def pytest_args(self) -> list[str]:
        """The generated suite's arguments: which event loops it runs on."""
        return [] if self.both_loops else ["-k", "not asyncio-loop"]

    def param(self) -> Any:
        """This combo as a pytest param, in its own xdist group: one worker installs it."""
        name = f"{self.flavor}-{self.transport}-py{self.python}"
        return pytest.param(self, id=name, marks=pytest.mark.xdist_group(name))


# Whose generated suite runs: http and fastapi on the oldest and the newest
# Python, aiohttp on the default one; both flavors across them. Each transport
# runs once on both event loops and, where it runs twice, once on uvloop only.
SUITES = [
    Combo("minimal", "http", "3.11"),
    Combo("caesari", "http", "3.15", both_loops=False),
    Combo("caesari", "fastapi", "3.11"),
    Combo("minimal", "fastapi", "3.15", both_loops=False),
    Combo("minimal", "aiohttp", "3.14"),
]
# Every flavor x transport is type-checked against an install: the suites', and one more.
TYPE_CHECKED = [*SUITES, Combo("caesari", "aiohttp", "3.11")]
# What the tests that need one running service use.
DEFAULT = SUITES[0]


LISTENING = re.compile(r"Listening on http://(\S+):(\d+)")


def start(argv: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """Start a service process with `env` added to ours; stdout and stderr merged."""
    return subprocess.Popen(
        argv,
        env={**os.environ, **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_until_listening(process: subprocess.Popen[str]) -> tuple[int, list[str]]:
    """Read output lines up to the startup line; return the port bound and the lines read."""
    assert process.stdout is not None
    lines: list[str] = []
    for line in process.stdout:  # ends at EOF if the process dies: no hang
        lines.append(line)
        if match := LISTENING.search(line):
            return int(match[2]), lines
    pytest.fail("exited before listening:\n" + "".join(lines))


def finish(process: subprocess.Popen[str], lines: list[str], timeout: float = 5) -> str:
    """Wait for the exit (failing on a hang); return all output."""
    try:
        rest, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"still running after {timeout} s:\n" + "".join(lines))
    return "".join(lines) + rest


def assert_importable(project: Path, package: str) -> None:
    """Import the rendered package's entrypoint and app from its src folder."""
    check = subprocess.run(
        [sys.executable, "-c", f"import {package}.entrypoint, {package}.app"],
        env={"PYTHONPATH": str(project / "src")},
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
