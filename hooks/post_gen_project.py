"""Put the chosen transport in place, prune what the answers do not use, sweep empty folders.

Standard library only (no shell, no executable bit needed), so it runs the same
on every platform cookiecutter supports. The working directory is the new project.
"""

import json
import shutil
from pathlib import Path

ANSWERS = json.loads(
    r"""{{ {
        "flavor": cookiecutter.flavor,
        "transport": cookiecutter.transport,
        "deploy": cookiecutter.deploy,
        "package_name": cookiecutter.package_name,
    } | tojson }}"""
)

# answer -> value -> paths to remove (files or folders), relative to the project.
PRUNE: dict[str, dict[str, list[str]]] = {
    "flavor": {
        "minimal": [],
        "caesari": [
            "src/{package}/task_manager.py",
            "src/{package}/graceful_exit.py",
            "tests/test_task_manager.py",
            "tests/test_graceful_exit.py",
            "Dockerfile",
            ".dockerignore",
            ".gitattributes",
            ".github",
            ".pre-commit-config.yaml",
        ],
    },
    "transport": {
        "http": [
            "src/{package}/app_fastapi.py",
            "src/{package}/app_aiohttp.py",
        ],
        "fastapi": [
            "src/{package}/app_http.py",
            "src/{package}/http11.py",
            "src/{package}/app_aiohttp.py",
            "tests/test_http11.py",
        ],
        "aiohttp": [
            "src/{package}/app_http.py",
            "src/{package}/http11.py",
            "src/{package}/app_fastapi.py",
            "tests/test_http11.py",
        ],
    },
    "deploy": {
        "none": ["deploy"],
        "kubernetes": [],
    },
}


def prune(project: Path, answers: dict[str, str]) -> None:
    """Make the chosen transport app.py, remove what PRUNE lists, then empty folders."""
    package = project / "src" / answers["package_name"]
    (package / f"app_{answers['transport']}.py").replace(package / "app.py")
    for key, table in PRUNE.items():
        for pattern in table[answers[key]]:
            path = project / pattern.format(package=answers["package_name"])
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
    for folder in sorted(project.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        if folder.is_dir() and not any(folder.iterdir()):
            folder.rmdir()


if __name__ == "__main__":
    prune(Path.cwd(), ANSWERS)
