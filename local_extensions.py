"""Jinja filters for the template (cookiecutter loads this file through _extensions)."""

import json

from cookiecutter.utils import simple_filter  # type: ignore[import-untyped]


@simple_filter  # type: ignore[untyped-decorator]
def toml_string(value: str) -> str:
    """`value` as a TOML basic string that reads back exactly.

    Jinja's tojson escapes characters outside the Basic Multilingual Plane as
    surrogate pairs (an emoji becomes two \\u escapes), which TOML rejects; this
    keeps them as they are and escapes only what TOML requires.
    """
    return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
