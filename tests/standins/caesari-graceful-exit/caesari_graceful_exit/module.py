"""Stand-in: ``GracefulExit`` (see the package docstring for the contract)."""

from ._simple_graceful_exit import SimpleGracefulExit as GracefulExit

__all__ = ["GracefulExit"]
