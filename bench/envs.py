"""The benchmark's virtualenvs (made with uv, under bench/.venv/):

  base      uvloop, uvicorn, aiorun, aiomisc: the floors and the alternatives
  http      the http render        (bench/.render/http/my-app)
  fastapi   the fastapi render     (also runs `uvicorn plain_fastapi:app`)
  aiohttp   the aiohttp render     (also runs plain_aiohttp.py, web.run_app)

Each render is the minimal flavor with the default answers but `transport`,
installed into its own virtualenv with the dependencies its pyproject declares.
None of this becomes a dependency of the template or of rendered projects.
"""

import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
TEMPLATE = BENCH.parent
VENVS = BENCH / ".venv"
RENDERS = BENCH / ".render"
TRANSPORTS = ("http", "fastapi", "aiohttp")
ALTERNATIVES = ("uvloop", "uvicorn", "aiorun", "aiomisc")


def sh(*argv: str | Path, quiet: bool = False) -> None:
    output = subprocess.DEVNULL if quiet else None
    subprocess.run([str(a) for a in argv], check=True, stdout=output)


def bin_of(venv: str, name: str = "python") -> Path:
    return VENVS / venv / "bin" / name


def setup() -> None:
    """Make (or refresh) every virtualenv, rendering each transport anew."""
    uv = (sys.executable, "-m", "uv")
    for venv in ("base", *TRANSPORTS):
        if not bin_of(venv).exists():
            sh(*uv, "venv", "--quiet", "--python", sys.executable, VENVS / venv)
    sh(*uv, "pip", "install", "--quiet", "--python", bin_of("base"), *ALTERNATIVES)
    for transport in TRANSPORTS:
        out = RENDERS / transport
        sh(
            sys.executable,
            "-m",
            "cookiecutter",
            "--no-input",
            "-f",
            TEMPLATE,
            "-o",
            out,
            f"transport={transport}",
            quiet=True,  # the hook's note that uv.lock was not written
        )
        sh(
            *uv,
            "pip",
            "install",
            "--quiet",
            "--reinstall-package",
            "my-app",
            "--python",
            bin_of(transport),
            out / "my-app",
        )


def versions() -> dict[str, str]:
    """Installed versions of what the subjects run on, for the report."""
    wanted = {
        "base": ("uvloop", "uvicorn", "aiorun", "aiomisc"),
        "fastapi": ("fastapi", "starlette", "uvicorn", "h11", "pydantic"),
        "aiohttp": ("aiohttp",),
    }
    found: dict[str, str] = {}
    for venv, names in wanted.items():
        script = (
            "import importlib.metadata as m, sys\n"
            "for n in sys.argv[1:]:\n"
            "    try: print(n, m.version(n))\n"
            "    except m.PackageNotFoundError: print(n, 'absent')\n"
        )
        result = subprocess.run(
            [str(bin_of(venv)), "-c", script, *names], check=True, capture_output=True, text=True
        )
        for line in result.stdout.splitlines():
            name, version = line.split()
            found.setdefault(name, version)
    return found
