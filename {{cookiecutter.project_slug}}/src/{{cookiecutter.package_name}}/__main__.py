"""The run-{{ cookiecutter.project_slug }} command, and `python -m {{ cookiecutter.package_name }}`, which is the same.

Importing the service (its event loop and transport) takes a while, and until
a handler is installed SIGTERM kills the process and SIGINT raises
KeyboardInterrupt. So this module, which imports nothing but `signal`, latches
both at import, from the first moment: they are recorded in `latched`, and
run() hands that list to entrypoint.run(), which stops the service right after
startup if it holds anything.
"""

import signal

latched: list[int] = []  # signal numbers, in the order they arrived


def _latch(signum: int, frame: object) -> None:
    latched.append(signum)


# SIGINT first: once SIGTERM has a handler, both have (the tests rely on it).
for _signum in (signal.SIGINT, signal.SIGTERM):
    signal.signal(_signum, _latch)


def run() -> None:
    """Run the service until it is stopped and leave with its exit code (see entrypoint.run)."""
    from .entrypoint import run as run_service  # here, not at the top: it takes the time

    run_service(latched)


if __name__ == "__main__":
    run()
