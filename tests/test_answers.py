"""Free-text answers: read back exactly, never break or inject into anything."""

import json
import subprocess
import sys
import tomllib
from collections.abc import Callable
from pathlib import Path

from support import TEMPLATE, UV, assert_importable

AWKWARD = "He said \"hi\" & 'bye' \\ {{ x }} {% raw %} # \u00fc \u6771\u4eac \U0001f680 \"\"\" ''' \x7f \\"


def cookiecutter_prompted(output: Path, answers: list[str]) -> subprocess.CompletedProcess[str]:
    """Run cookiecutter interactively, typing `answers` at its first prompts (text taken
    as is) and Enter at the rest."""
    answers = answers + [""] * 9
    return subprocess.run(
        [sys.executable, "-m", "cookiecutter", str(TEMPLATE)],
        cwd=output,
        input="\n".join(answers) + "\n",
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_free_text_typed_at_the_prompt_reads_back_exactly(tmp_path: Path) -> None:
    result = cookiecutter_prompted(tmp_path, ["Quote App", "", "", AWKWARD, AWKWARD])
    assert result.returncode == 0, result.stderr
    project = tmp_path / "quote-app"
    metadata = tomllib.loads((project / "pyproject.toml").read_text())["project"]
    assert metadata["description"] == AWKWARD
    assert metadata["authors"] == [{"name": AWKWARD}]
    replay = json.loads((project / ".cookiecutter.json").read_text())["cookiecutter"]
    assert replay["description"] == replay["author_name"] == AWKWARD
    for path in project.rglob("*.py"):
        compile(path.read_text(), str(path), "exec")


def test_answers_cannot_inject_code_into_the_hooks(tmp_path: Path) -> None:
    marker = tmp_path / "injected"
    payload = f"open({str(marker)!r}, 'w')"
    attempt = f"x\"\"\"); {payload}; (\"\"\" ''' + {payload} + ''' \\"
    result = cookiecutter_prompted(tmp_path, [attempt, "safe-name", "", attempt, attempt])
    assert result.returncode == 0, result.stderr
    assert not marker.exists()
    replay = json.loads((tmp_path / "safe-name" / ".cookiecutter.json").read_text())
    assert replay["cookiecutter"]["project_name"] == attempt


LONG = "Service " + "x" * 192  # 200 characters


def test_a_200_character_name_is_rejected_with_one_line_and_no_folder(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cookiecutter", "--no-input", str(TEMPLATE), "project_name=" + LONG],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode != 0
    [line] = [line for line in result.stderr.splitlines() if line.startswith("ERROR: project")]
    assert "at most 63" in line
    assert list(tmp_path.iterdir()) == []


def test_the_longest_allowed_name_renders_an_installable_project(
    render: Callable[..., Path], tmp_path: Path
) -> None:
    project = render(project_name="Service " + "x" * 55)
    package = project.name.replace("-", "_")
    assert len(project.name) == 63
    assert_importable(project, package)
    built = subprocess.run(
        [*UV, "build", "--quiet", "--wheel", "--out-dir", str(tmp_path), str(project)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert built.returncode == 0, built.stderr
    assert len(list(tmp_path.glob("*.whl"))) == 1
