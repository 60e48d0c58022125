"""A render of the template (any transport), run as its run-my-app command runs it,
with the benchmark's modes patched in first (see patches.py); BENCH_GC_FREEZE=1
adds the gc.freeze() what-if."""

from my_app import __main__ as command  # first, as in run-my-app: it latches the signals

# isort: split
import os

from patches import freeze_before_exit, patch_client

patch_client()
if os.environ.get("BENCH_GC_FREEZE"):
    freeze_before_exit()
command.run()
