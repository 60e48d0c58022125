"""Stand-in: ``get_logger`` (see the package docstring for the contract)."""

import logging


def get_logger(name: str) -> logging.Logger:
    """Return the standard-library logger called `name`."""
    return logging.getLogger(name)
