"""Validate the answers before the project is kept.

The answers reach this file as JSON (``tojson``) inside a raw string: JSON never
holds three unescaped quotes in a row, so no answer can end the string, break
this file or inject code into it. ``tojson`` also escapes non-ASCII, so this
hook still renders, and rejects it, when an answer cannot be written as UTF-8
(the files after it could not be). A rejected answer prints one line that
names the field and says what is allowed, then exits 1; cookiecutter then
deletes the new folder.
"""

import json
import keyword
import re
import sys

ANSWERS = json.loads(
    r"""{{ {
        "project_name": cookiecutter.project_name,
        "name_slug": cookiecutter.project_name | slugify,
        "project_slug": cookiecutter.project_slug,
        "package_name": cookiecutter.package_name,
        "server_port": cookiecutter.server_port,
        "description": cookiecutter.description,
        "author_name": cookiecutter.author_name,
    } | tojson }}"""
)

SLUG = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
PACKAGE = re.compile(r"[a-z][a-z0-9_]*")
MAX_LENGTH = 63  # a DNS label: Kubernetes object names, and short enough for wheel names
# Import names that live next to the project's package: its dependencies and theirs
# (pytest's included), packaging tools, and the modules of its tests/ folder.
DEPENDENCIES = frozenset(
    {
        "pip",
        "setuptools",
        "pkg_resources",
        "wheel",
        "hatchling",
        "uvloop",
        "pytest",
        "_pytest",
        "py",
        "pluggy",
        "iniconfig",
        "packaging",
        "pygments",
        "colorama",
        "exceptiongroup",
        "tomli",
        "typing_extensions",
        "pytest_asyncio",
        "pytest_timeout",
        "caesari_aio",
        "caesari_graceful_exit",
        "caesari_logger",
        # the transports' dependencies, and theirs (fastapi, aiohttp)
        "fastapi",
        "starlette",
        "pydantic",
        "pydantic_core",
        "annotated_types",
        "annotated_doc",
        "typing_inspection",
        "anyio",
        "sniffio",
        "idna",
        "uvicorn",
        "h11",
        "httptools",
        "click",
        "aiohttp",
        "aiohappyeyeballs",
        "aiosignal",
        "async_timeout",
        "attr",
        "attrs",
        "frozenlist",
        "multidict",
        "propcache",
        "yarl",
        # the dev group's tools, which `uv sync` installs next to the package
        "mypy",
        "mypyc",
        "mypy_extensions",
        "pathspec",
        "ruff",
        "uv",
        "tests",
        "conftest",
        "helpers",
        "faults",
    }
)


TEST_MODULES = frozenset({"tests", "conftest", "helpers", "faults"})

# The free-text answers, in prompt order; server_port is checked further down.
TEXT = ("project_name", "project_slug", "package_name", "description", "author_name")


def writable_as_utf8(text: str) -> bool:
    """Whether `text` encodes as UTF-8: False when it holds lone surrogates, which is
    what Python makes of non-ASCII input under a non-UTF-8 locale (e.g. LC_ALL=C)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def problem(answers: dict[str, str]) -> str | None:
    """Return one line naming the first invalid answer and what is allowed, or None."""
    for field in (*TEXT, "server_port"):
        if not writable_as_utf8(answers[field]):
            return (
                f"{field}: the answer cannot be written as UTF-8 (it was read under a "
                "non-UTF-8 locale); run cookiecutter with a UTF-8 locale, e.g. "
                "LC_ALL=C.UTF-8 or PYTHONUTF8=1"
            )
    name, slug, package = answers["project_name"], answers["project_slug"], answers["package_name"]
    port = answers["server_port"]
    if not answers["name_slug"]:
        return (
            f"project_name: {name!r} has no letters or digits to make a slug from; "
            "use a name with at least one letter or digit"
        )
    if len(slug) > MAX_LENGTH:
        return (
            f"project_slug: {slug[:20]!r}... has {len(slug)} characters, at most {MAX_LENGTH} "
            "are allowed; pass a shorter project_slug= (and package_name=)"
        )
    if slug.replace("-", "_") in DEPENDENCIES - TEST_MODULES:
        return (
            f"project_slug: {slug!r} is the distribution name of a dependency of the "
            "project (it would depend on itself); pass another project_slug="
        )
    if not SLUG.fullmatch(slug):
        return (
            f"project_slug: {slug!r} is not allowed; use lowercase ASCII letters, "
            "digits and single hyphens, e.g. 'my-app'"
        )
    if len(package) > MAX_LENGTH:
        return (
            f"package_name: {package[:20]!r}... has {len(package)} characters, at most "
            f"{MAX_LENGTH} are allowed; pass a shorter package_name="
        )
    if not PACKAGE.fullmatch(package):
        hint = ""
        if package[:1].isdigit():
            hint = f"; it starts with a digit: pass package_name=, e.g. package_name=app_{package}"
        return (
            f"package_name: {package!r} is not a valid Python package name "
            f"(lowercase ASCII letters, digits and '_', starting with a letter){hint}"
        )
    if keyword.iskeyword(package):
        return f"package_name: {package!r} is a Python keyword; pass another package_name="
    if package in sys.stdlib_module_names or package == "test":
        return (
            f"package_name: {package!r} would shadow the standard-library module "
            "of that name; pass another package_name="
        )
    if package in DEPENDENCIES:
        return (
            f"package_name: {package!r} is the import name of a dependency of the "
            "project; pass another package_name="
        )
    if not (port.isascii() and port.isdigit()) or port[0] == "0" or int(port) > 65535:
        return (
            f"server_port: {port!r} is not allowed; use an integer from 1 to 65535, "
            "without leading zeros"
        )
    return None


if __name__ == "__main__":
    message = problem(ANSWERS)
    if message is not None:
        print(f"ERROR: {message}", file=sys.stderr)
        sys.exit(1)
