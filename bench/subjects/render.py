"""A render of the template (any transport), run as its run-my-app command runs it,
with the benchmark's modes patched in first (see patches.py)."""

from my_app import __main__ as command  # first, as in run-my-app: it latches the signals

# isort: split
from patches import patch_client

patch_client()
command.run()
