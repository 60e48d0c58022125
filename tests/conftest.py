"""Fixtures: rendered projects, stand-in wheels, and installed projects (see support.py)."""

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cookiecutter.main import cookiecutter  # type: ignore[import-untyped]

from support import (
    HELPERS,
    STANDIN_SOURCES,
    STANDINS,
    TEMPLATE,
    UV,
    Combo,
    Installed,
    find_python,
    install,
    render_path,
    run,
)


@pytest.fixture(scope="session", autouse=True)
def cookiecutter_config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A cookiecutter config for the session, so renders read and write nothing in $HOME."""
    home = tmp_path_factory.mktemp("cookiecutter-home")
    config = home / "config.yaml"
    config.write_text(
        f"cookiecutters_dir: {home / 'cookiecutters'}\nreplay_dir: {home / 'replay'}\n"
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("COOKIECUTTER_CONFIG", str(config))  # for command-line renders too
        yield config


@pytest.fixture(scope="session")
def render(
    cookiecutter_config: Path, tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Path]:
    """Render the template with some answers (the rest default); return the project path.

    Uses cookiecutter's API, hooks included. With uv=True the test venv's uv is
    on PATH, so the post-generation hook writes uv.lock; otherwise no uv is.
    Renders are cached per set of answers for the session: treat them as read-only.
    """
    cache: dict[tuple[bool, tuple[tuple[str, str], ...]], Path] = {}

    def render(*, uv: bool = False, **answers: str) -> Path:
        key = (uv, tuple(sorted(answers.items())))
        if key not in cache:
            output = tmp_path_factory.mktemp("render")
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("PATH", render_path(uv))
                project = cookiecutter(
                    str(TEMPLATE),
                    no_input=True,
                    extra_context=answers,
                    output_dir=str(output),
                    config_file=str(cookiecutter_config),
                )
            cache[key] = Path(project)
        return cache[key]

    return render


@pytest.fixture(scope="session")
def standin_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the caesari stand-ins, each with its minimal helper copied in; return the folder."""
    wheels = tmp_path_factory.mktemp("wheels")
    build_root = tmp_path_factory.mktemp("standins")
    for distribution, (package, helper) in STANDIN_SOURCES.items():
        source = build_root / distribution
        shutil.copytree(STANDINS / distribution, source)
        if helper is not None:
            shutil.copy(HELPERS / helper, source / package / f"_simple_{helper}")
        run([*UV, "build", "--quiet", "--wheel", "--out-dir", str(wheels), str(source)])
    return wheels


@pytest.fixture(scope="session")
def installed(
    render: Callable[..., Path],
    standin_wheels: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[[Combo], Installed]:
    """Return get(combo): the default project of the combo's flavor and transport, installed
    on its Python. Installs are cached for the session (per xdist worker).
    """
    cache: dict[Combo, Installed] = {}

    def get(combo: Combo) -> Installed:
        if combo not in cache:
            python = find_python(combo.python)
            venv = tmp_path_factory.mktemp(f"venv-{combo.flavor}-{combo.transport}-{combo.python}")
            project = render(flavor=combo.flavor, transport=combo.transport)
            cache[combo] = install(project, venv, python, standin_wheels)
        return cache[combo]

    return get


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the figures tests recorded with record_property("figure", ...).

    User properties travel with the reports, so this works under pytest-xdist too.
    """
    figures = [
        f"{report.nodeid.split('::')[-1]}: {value}"
        for report in terminalreporter.stats.get("passed", [])
        for name, value in report.user_properties
        if name == "figure"
    ]
    if figures:
        terminalreporter.section("figures")
        for line in figures:
            terminalreporter.write_line(line)
