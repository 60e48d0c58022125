"""uv.lock: the post-generation hook locks minimal renders when it can, and says how when not."""

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

from support import TEMPLATE, UV, render_path, run

HINT = "run `uv lock` in my-app/ to write it"


def cookiecutter(output: Path, path: str, *answers: str) -> subprocess.CompletedProcess[str]:
    """Render with the command line into `output`, with `path` as PATH."""
    return subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", str(TEMPLATE), *answers],
        cwd=output,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_a_render_with_uv_on_path_is_locked_and_syncs_from_the_lock(
    render: Callable[..., Path], tmp_path: Path
) -> None:
    locked, unlocked = render(flavor="minimal", uv=True), render(flavor="minimal")
    added = {p.relative_to(locked) for p in locked.rglob("*")} - {
        p.relative_to(unlocked) for p in unlocked.rglob("*")
    }
    assert added == {Path("uv.lock")}
    lock = tomllib.loads((locked / "uv.lock").read_text())
    versions = {package["name"]: package["version"] for package in lock["package"]}
    context = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    assert versions["ruff"] == context["_ruff_version"]
    assert {"my-app", "uvloop", "pytest", "pytest-asyncio", "pytest-timeout", "mypy"} <= set(
        versions
    )
    venv = tmp_path / "venv"  # not the render's .venv: the cached render stays as rendered
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(venv)}
    run([*UV, "sync", "--locked", "--quiet", "--python", sys.executable], cwd=locked, env=env)
    # `uv sync` installs the dev group, tests included.
    run([str(venv / "bin" / "python"), "-c", "import my_app.entrypoint, pytest_asyncio, mypy"])


def test_a_render_without_uv_succeeds_and_prints_one_line_saying_how_to_lock(
    tmp_path: Path,
) -> None:
    result = cookiecutter(tmp_path, render_path(uv=False))
    assert result.returncode == 0, result.stderr
    output = (result.stdout + result.stderr).splitlines()
    assert [line for line in output if "uv" in line] == [
        f"uv.lock not written (uv is not on PATH): {HINT}"
    ]
    assert (tmp_path / "my-app" / "Dockerfile").is_file()
    assert not (tmp_path / "my-app" / "uv.lock").exists()


def test_a_failing_uv_lock_keeps_the_project_and_prints_one_line(tmp_path: Path) -> None:
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "uv").write_text("#!/bin/sh\necho 'error: no network' >&2\nexit 2\n")
    (fake / "uv").chmod(0o755)
    out = tmp_path / "out"
    out.mkdir()
    result = cookiecutter(out, f"{fake}{os.pathsep}{render_path(uv=False)}")
    assert result.returncode == 0, result.stderr
    output = (result.stdout + result.stderr).splitlines()
    assert [line for line in output if "uv" in line] == [
        f"uv.lock not written (uv lock exited 2: error: no network): {HINT}"
    ]
    assert (out / "my-app" / "src" / "my_app" / "entrypoint.py").is_file()
    assert not (out / "my-app" / "uv.lock").exists()


def test_a_caesari_render_is_not_locked_even_with_uv_on_path(tmp_path: Path) -> None:
    result = cookiecutter(tmp_path, render_path(uv=True), "flavor=caesari")
    assert result.returncode == 0, result.stderr
    assert "uv" not in result.stdout + result.stderr
    assert (tmp_path / "my-app" / "pyproject.toml").is_file()
    assert not (tmp_path / "my-app" / "uv.lock").exists()
