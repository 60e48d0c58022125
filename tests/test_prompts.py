"""The prompts and what the pre-generation hook accepts or rejects."""

import json
import os
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

import pytest

from support import TEMPLATE, assert_importable

PROMPTS = [
    "project_name",
    "project_slug",
    "package_name",
    "description",
    "author_name",
    "flavor",
    "transport",
    "python_version",
    "server_port",
    "deploy",
]


def cookiecutter(
    output: Path, *answers: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real command line with --no-input, rendering into `output`; `env` is
    added to our environment."""
    return subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", str(TEMPLATE), *answers],
        cwd=output,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        errors="backslashreplace",
        check=False,
        timeout=60,
    )


def test_prompts_in_order_with_questions_and_defaults() -> None:
    context = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    assert [key for key in context if not key.startswith("_")] == PROMPTS
    assert set(context["__prompts__"]) == set(PROMPTS)
    assert context["flavor"] == ["minimal", "caesari"]
    assert context["transport"] == ["http", "fastapi", "aiohttp"]
    assert context["python_version"] == ["3.14", "3.15", "3.13", "3.12", "3.11"]
    assert context["_new_lines"] == "\n"


def test_the_template_checks_renders_with_the_ruff_they_pin() -> None:
    context = json.loads((TEMPLATE / "cookiecutter.json").read_text())
    group = tomllib.loads((TEMPLATE / "pyproject.toml").read_text())["dependency-groups"]
    assert f"ruff=={context['_ruff_version']}" in group["test"]


def test_no_input_renders_my_app(tmp_path: Path) -> None:
    result = cookiecutter(tmp_path)
    assert result.returncode == 0, result.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["my-app"]


@pytest.mark.parametrize(
    ("project_name", "slug", "package"),
    [
        ("foo-bar", "foo-bar", "foo_bar"),
        ("example.com", "example-com", "example_com"),
        ("Ünïcode Ápp", "unicode-app", "unicode_app"),
        ("東京", "dong-jing", "dong_jing"),
    ],
)
def test_names_render_an_importable_package(
    render: Callable[..., Path], project_name: str, slug: str, package: str
) -> None:
    project = render(project_name=project_name)
    assert project.name == slug
    assert_importable(project, package)
    pyproject = (project / "pyproject.toml").read_text()
    assert f'run-{slug} = "{package}.__main__:run"' in pyproject


@pytest.mark.parametrize(
    ("answer", "field"),
    [
        ("project_name=3D Printer", "package_name"),
        ("project_name=!!!", "project_name"),
        ("project_name=class", "package_name"),
        ("project_name=asyncio", "package_name"),
        ("project_name=logging", "package_name"),
        ("project_name=test", "package_name"),
        ("project_name=uvloop", "project_slug"),
        ("project_name=pluggy", "project_slug"),
        ("project_name=helpers", "package_name"),
        ("project_name=pip", "project_slug"),
        ("project_name=FastAPI", "project_slug"),
        ("package_name=fastapi", "package_name"),
        ("package_name=multidict", "package_name"),
        ("package_name=pydantic_core", "package_name"),
        ("package_name=ruff", "package_name"),
        ("package_name=_private", "package_name"),
        ("server_port=08000", "server_port"),
        ("project_slug=My_App", "project_slug"),
        ("package_name=my-app", "package_name"),
        ("server_port=0", "server_port"),
        ("server_port=65536", "server_port"),
        ("server_port=80x", "server_port"),
    ],
)
def test_bad_answers_are_rejected_with_one_line_and_no_folder(
    tmp_path: Path, answer: str, field: str
) -> None:
    result = cookiecutter(tmp_path, answer)
    assert result.returncode != 0
    ours = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    ours = [line for line in ours if "Stopping generation" not in line]
    assert len(ours) == 1, result.stderr
    assert ours[0].startswith(f"ERROR: {field}: ")
    assert list(tmp_path.iterdir()) == []


def test_3d_printer_hint_names_the_way_out(tmp_path: Path) -> None:
    result = cookiecutter(tmp_path, "project_name=3D Printer")
    assert "pass package_name=" in result.stderr
    fixed = cookiecutter(tmp_path, "project_name=3D Printer", "package_name=printer3d")
    assert fixed.returncode == 0, fixed.stderr
    assert (tmp_path / "3d-printer" / "src" / "printer3d" / "entrypoint.py").is_file()


def test_an_unknown_flavor_is_refused_by_cookiecutter(tmp_path: Path) -> None:
    result = cookiecutter(tmp_path, "flavor=nope")
    assert result.returncode != 0
    assert result.stderr.rstrip().endswith("the choices are ['minimal', 'caesari'].")
    assert list(tmp_path.iterdir()) == []


def test_quotes_in_free_text_answers_read_back_exactly(render: Callable[..., Path]) -> None:
    text = "He said \"hi\" & 'bye' \\ # ü"
    project = render(description=text, author_name=text)
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert metadata["description"] == text
    assert metadata["authors"] == [{"name": text}]


# Under the C locale without UTF-8 mode, Python decodes the command line as ASCII
# with surrogateescape: each non-ASCII byte becomes a lone surrogate.
C_LOCALE = {"LC_ALL": "C", "PYTHONUTF8": "0"}


@pytest.mark.parametrize("field", ["project_name", "description", "author_name"])
def test_an_answer_read_under_a_non_utf8_locale_is_rejected_with_one_line_and_no_folder(
    tmp_path: Path, field: str
) -> None:
    result = cookiecutter(tmp_path, f"{field}=\u00dcn\u00efcode \u00c1pp", env=C_LOCALE)
    assert result.returncode != 0
    ours = [line for line in result.stderr.splitlines() if line.startswith("ERROR: ")]
    ours = [line for line in ours if "Stopping generation" not in line]
    assert len(ours) == 1, result.stderr
    assert ours[0].startswith(f"ERROR: {field}: ")
    assert "LC_ALL=C.UTF-8" in ours[0]
    assert "UnicodeEncodeError" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_the_same_answer_under_a_utf8_locale_renders(tmp_path: Path) -> None:
    utf8 = {"LC_ALL": "C.UTF-8", "PYTHONUTF8": "0"}
    result = cookiecutter(tmp_path, "project_name=\u00dcn\u00efcode \u00c1pp", env=utf8)
    assert result.returncode == 0, result.stderr
    assert [path.name for path in tmp_path.iterdir()] == ["unicode-app"]
    assert "\u00dcn\u00efcode \u00c1pp" in (tmp_path / "unicode-app" / "README.md").read_text()
