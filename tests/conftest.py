"""Fixtures: rendered projects, stand-in wheels, and installed projects (see support.py)."""

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from support import (
    HELPERS,
    STANDIN_SOURCES,
    STANDINS,
    TEMPLATE,
    UV,
    Installed,
    find_python,
    install,
    run,
)


@pytest.fixture(scope="session")
def render(cookies_session: Any) -> Callable[..., Path]:
    """Render the template with some answers (the rest default); return the project path.

    Renders are cached per set of answers for the session: treat them as read-only.
    """
    cache: dict[tuple[tuple[str, str], ...], Path] = {}

    def render(**answers: str) -> Path:
        key = tuple(sorted(answers.items()))
        if key not in cache:
            result = cookies_session.bake(extra_context=answers, template=str(TEMPLATE))
            assert result.exception is None, result.exception
            assert result.exit_code == 0
            cache[key] = Path(result.project_path)
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
) -> Callable[[str, str], Installed]:
    """Return get(flavor, python_version): the default project of `flavor`, installed.

    Installs are cached per flavor and Python for the session.
    """
    cache: dict[tuple[str, str], Installed] = {}

    def get(flavor: str, version: str) -> Installed:
        if (flavor, version) not in cache:
            python = find_python(version)
            venv = tmp_path_factory.mktemp(f"venv-{flavor}-{version}")
            cache[flavor, version] = install(render(flavor=flavor), venv, python, standin_wheels)
        return cache[flavor, version]

    return get
