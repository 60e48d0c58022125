"""Put the chosen transport in place, prune what the answers do not use, sweep empty folders, lock.

Standard library only (no shell, no executable bit needed), so it runs the same
on every platform cookiecutter supports. The working directory is the new project.
"""

import json
import shutil
import subprocess
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


# Long enough for a cold cache on a slow link; an unreachable index fails sooner.
LOCK_TIMEOUT_S = 300


def lock(project: Path) -> None:
    """Write `project`/uv.lock with `uv lock` if uv is on PATH.

    If uv is missing, fails (offline, say) or times out, print one line saying how
    to lock later; the render succeeds either way. Only the minimal flavor locks:
    a caesari project is locked by its monorepo.
    """
    uv = shutil.which("uv")
    if uv is None:
        reason = "uv is not on PATH"
    else:
        try:
            result = subprocess.run(
                [uv, "lock", "--quiet"],
                cwd=project,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=LOCK_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            reason = f"uv lock took over {LOCK_TIMEOUT_S} s"
        except OSError as error:
            reason = f"uv could not run: {error.strerror}"
        else:
            if result.returncode == 0:
                return
            said = result.stderr.decode(errors="replace").strip().splitlines()
            reason = f"uv lock exited {result.returncode}" + (f": {said[-1]}" if said else "")
    print(f"uv.lock not written ({reason}): run `uv lock` in {project.name}/ to write it")


if __name__ == "__main__":
    prune(Path.cwd(), ANSWERS)
    if ANSWERS["flavor"] == "minimal":
        lock(Path.cwd())
