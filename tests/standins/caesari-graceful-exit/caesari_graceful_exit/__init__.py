"""Test stand-in for caesari2's ``caesari_graceful_exit``: the contract the template relies on.

Not the real package. The rendered caesari project calls only this API:

- ``caesari_graceful_exit.module.GracefulExit(app=..., exit_handler=...)``, an
  async context manager entered inside the running loop: it owns SIGTERM and
  SIGINT until it exits. The first signal calls ``app.request_stop()`` (this
  stand-in passes the signal's name, ``app.request_stop("SIGTERM")``, which the
  shutdown notice reports; without it the notice says "a stop request"); after
  that a SIGTERM is absorbed and a SIGINT ends the process with exit code 130.
  On exit it awaits ``exit_handler(exc_type, exc, tb)`` exactly once, then
  restores the previous signal handlers; it does not suppress exceptions.
- ``caesari_graceful_exit.helpers.wrap_in_system_exit(exit_code)`` leaves the
  process with that exit code.

The rendered project's guarantees hold to the extent the private package
honours this API. The implementation here is the minimal flavor's
graceful_exit.py, copied in when the stand-in is built.
"""
