"""Stand-in: ``wrap_in_system_exit`` (see the package docstring for the contract)."""

from ._simple_graceful_exit import wrap_in_system_exit

__all__ = ["wrap_in_system_exit"]
