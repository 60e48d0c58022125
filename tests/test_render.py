"""What each flavor renders: the exact file set and the quality bar (lint, types, no leftovers)."""

import difflib
import json
import py_compile
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from support import FLAVORS, TEMPLATE, TRANSPORTS, TYPE_CHECKED, Combo, Installed

COMMON = {
    ".cookiecutter.json",
    ".env.example",
    ".gitignore",
    "README.md",
    "pyproject.toml",
    "src/my_app/__init__.py",
    "src/my_app/__main__.py",
    "src/my_app/app.py",
    "src/my_app/client.py",
    "src/my_app/entrypoint.py",
    "src/my_app/environment.py",
    "src/my_app/logs.py",
    "src/my_app/notify.py",
    "src/my_app/server.py",
    "tests/conftest.py",
    "tests/faults.py",
    "tests/helpers.py",
    "tests/test_api.py",
    "tests/test_server.py",
    "tests/test_environment.py",
    "tests/test_faults.py",
    "tests/test_logs.py",
    "tests/test_notify.py",
    "tests/test_shutdown.py",
    "tests/test_shutdown_notice.py",
    "tests/test_startup_signals.py",
}
FLAVOR_ONLY = {
    "minimal": {
        "src/my_app/task_manager.py",
        "src/my_app/graceful_exit.py",
        "tests/test_task_manager.py",
        "tests/test_graceful_exit.py",
        "Dockerfile",
        ".dockerignore",
        ".gitattributes",
        ".github/workflows/ci.yml",
        ".pre-commit-config.yaml",
    },
    "caesari": set(),
}
TRANSPORT_ONLY = {
    "http": {"src/my_app/http11.py", "tests/test_http11.py"},
    "fastapi": set(),
    "aiohttp": set(),
}
# Shared by every transport, byte for byte (the transport lives in app.py alone).
TRANSPORT_NEUTRAL = [
    "src/my_app/__init__.py",
    "src/my_app/__main__.py",
    "src/my_app/client.py",
    "src/my_app/entrypoint.py",
    "src/my_app/environment.py",
    "src/my_app/task_manager.py",
    "src/my_app/graceful_exit.py",
    "src/my_app/logs.py",
    "src/my_app/notify.py",
    "src/my_app/server.py",
]
# GitHub expressions in the workflow are meant to survive rendering.
LEFTOVER = re.compile(r"(?<!\$)\{\{|\{%|%\}|\{#")


def files(project: Path) -> dict[str, Path]:
    return {
        path.relative_to(project).as_posix(): path
        for path in project.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def tool(name: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", name, *args], cwd=cwd, capture_output=True, text=True, check=False
    )


@pytest.fixture(params=FLAVORS)
def flavor(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=TRANSPORTS)
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_exact_file_set(render: Callable[..., Path], flavor: str, transport: str) -> None:
    project = render(flavor=flavor, transport=transport)
    expected = COMMON | FLAVOR_ONLY[flavor] | TRANSPORT_ONLY[transport]
    assert set(files(project)) == expected
    folders = [path for path in project.rglob("*") if path.is_dir()]
    assert [folder for folder in folders if not any(folder.iterdir())] == []


@pytest.mark.parametrize("deploy", ["none", "kubernetes"])
def test_no_template_leftovers_and_lf_only(
    render: Callable[..., Path], flavor: str, transport: str, deploy: str
) -> None:
    for name, path in files(render(flavor=flavor, transport=transport, deploy=deploy)).items():
        data = path.read_bytes()
        assert b"\r" not in data, name
        text = data.decode("utf-8")
        assert not LEFTOVER.search(text), name
        assert "\n\n\n\n" not in text, f"{name}: a run of blank lines"
        assert text.endswith("\n"), name
        assert not text.endswith("\n\n"), name


def test_toml_and_json_parse_and_python_compiles(
    render: Callable[..., Path], flavor: str, transport: str, tmp_path: Path
) -> None:
    project = render(flavor=flavor, transport=transport)
    tomllib.loads((project / "pyproject.toml").read_text())
    for name, path in files(project).items():
        if name.endswith(".py"):
            py_compile.compile(str(path), cfile=str(tmp_path / "out.pyc"), doraise=True)


@pytest.mark.parametrize("name", ["My App", "Zeta Service", "A"])
def test_ruff_check_and_format_are_clean(
    render: Callable[..., Path], flavor: str, transport: str, name: str
) -> None:
    project = render(flavor=flavor, transport=transport, project_name=name)
    for args in (["check", "--no-cache", "."], ["format", "--no-cache", "--check", "."]):
        result = tool("ruff", *args, cwd=project)
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("combo", [combo.param() for combo in TYPE_CHECKED])
def test_mypy_strict_is_clean(installed: Callable[[Combo], Installed], combo: Combo) -> None:
    project = installed(combo)
    result = tool(
        "mypy",
        "--strict",
        "--no-incremental",
        "--python-executable",
        str(project.python),
        cwd=project.project,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_shared_files_differ_between_flavors_in_import_lines_only(
    render: Callable[..., Path], transport: str
) -> None:
    minimal = render(flavor="minimal", transport=transport)
    caesari = render(flavor="caesari", transport=transport)
    import_line = re.compile(r"(from \S+ )?import |$")
    for name in sorted(files(caesari)):
        if not name.endswith(".py"):
            continue
        before = (minimal / name).read_text().splitlines()
        after = (caesari / name).read_text().splitlines()
        for line in difflib.unified_diff(before, after, lineterm="", n=0):
            if line.startswith(("---", "+++", "@@")):
                continue
            assert import_line.match(line[1:]), f"{name}: {line}"


def test_only_app_py_differs_between_transports(render: Callable[..., Path], flavor: str) -> None:
    http, *others = (render(flavor=flavor, transport=transport) for transport in TRANSPORTS)
    for name in TRANSPORT_NEUTRAL:
        if (http / name).exists():
            for other in others:
                assert (other / name).read_bytes() == (http / name).read_bytes(), name


def test_replay_file_holds_the_answers_and_nothing_machine_specific(
    render: Callable[..., Path],
) -> None:
    project = render(flavor="caesari")
    replay = json.loads((project / ".cookiecutter.json").read_text())
    assert list(replay) == ["cookiecutter"]
    assert replay["cookiecutter"]["flavor"] == "caesari"
    machine_specific = {"_template", "_output_dir", "_repo_dir", "_checkout"}
    assert not machine_specific & set(replay["cookiecutter"])
    assert replay["cookiecutter"]["_new_lines"] == "\n"


def test_the_template_s_own_code_is_clean() -> None:
    for args in (["ruff", "check", "."], ["ruff", "format", "--check", "."], ["mypy"]):
        result = tool(*args, cwd=TEMPLATE)
        assert result.returncode == 0, result.stdout + result.stderr
