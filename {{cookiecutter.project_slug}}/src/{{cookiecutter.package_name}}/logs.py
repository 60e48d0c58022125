"""Log output: one stderr handler on the root logger, writing text or JSON lines.

Every logger that propagates to the root (the service's own, asyncio's,
uvicorn's and aiohttp's when they are left unconfigured) comes out in the one
format. Uncaught exceptions, "Exception ignored" reports and warnings are
logged too, so that in json mode every line on stderr is one JSON object.
"""

import json
import logging
import sys
import threading
import time
from types import TracebackType
from typing import Any, TextIO

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# Attributes every LogRecord has; the others came from `extra=`. color_message
# is uvicorn's copy of the message with terminal colours.
STANDARD_ATTRIBUTES = frozenset(
    {*vars(logging.makeLogRecord({})), "message", "asctime", "taskName", "color_message"}
)

logger = logging.getLogger(__name__)
access_logger = logging.getLogger(f"{__package__}.access")


class JsonFormatter(logging.Formatter):
    """Formats a record as one line of JSON.

    Keys: `ts` (RFC 3339, UTC, milliseconds), `level`, `logger`, `message`, then
    `exc` (the traceback, one string) and `stack` only when the record has one,
    then the record's extra fields (values that are not JSON become their str()).
    An extra field never replaces one of the keys above.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        for key, value in vars(record).items():
            if key not in STANDARD_ATTRIBUTES:
                entry.setdefault(key, value)
        return json.dumps(entry, default=str)

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        seconds = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{seconds}.{int(record.msecs):03d}Z"


class _Handler(logging.StreamHandler[TextIO]):
    """The handler configure_logging() installs: so a second call replaces, not adds."""


def configure_logging(level: str, log_format: str) -> None:
    """Send all logging to stderr at `level` ("DEBUG" .. "CRITICAL") in `log_format`.

    `log_format` is "text" (`time level logger: message`) or "json" (one
    JSON object per line, see JsonFormatter); anything else raises ValueError.
    The root logger gets one stderr handler; calling this again replaces it
    (handlers that others added, such as pytest's, are left alone). Uncaught
    exceptions (main thread and other threads), unraisable exceptions and
    warnings are routed to logging as well.
    """
    if log_format not in ("text", "json"):
        raise ValueError(f"log_format must be 'text' or 'json', got {log_format!r}")
    handler = _Handler(sys.stderr)
    formatter = JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _Handler)]:
        root.removeHandler(old)
        old.close()
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    sys.excepthook = _log_uncaught
    threading.excepthook = _log_uncaught_in_thread
    sys.unraisablehook = _log_unraisable


def log_access(method: str, path: str, status: int, started: float) -> None:
    """Log one access line at INFO; `started` is the request's time.perf_counter().

    The fields (method, path, status, duration_ms) are also the record's extras,
    so json lines carry them as keys. Control characters in `path` are escaped.
    """
    duration_ms = round((time.perf_counter() - started) * 1000, 1)
    if not path.isprintable():  # a decoded %0a must not start a forged log line
        path = path.encode("unicode_escape", "backslashreplace").decode("ascii")
    fields = {"method": method, "path": path, "status": status, "duration_ms": duration_ms}
    access_logger.info("%s %s %d %.1f ms", method, path, status, duration_ms, extra=fields)


def _log_uncaught(
    exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
) -> None:
    logger.critical("Uncaught exception", exc_info=(exc_type, exc, tb))


def _log_uncaught_in_thread(args: threading.ExceptHookArgs) -> None:
    if args.exc_type is SystemExit:
        return  # what the default hook does too
    name = args.thread.name if args.thread is not None else "unknown"
    exc_value = args.exc_value if args.exc_value is not None else args.exc_type()
    exc_info = (args.exc_type, exc_value, args.exc_traceback)
    logger.critical("Uncaught exception in thread %r", name, exc_info=exc_info)


def _log_unraisable(unraisable: "sys.UnraisableHookArgs") -> None:
    # As the default hook words it: "Exception ignored in: <object>", or a
    # message of its own (Python 3.13+ puts the object into err_msg).
    message = unraisable.err_msg or "Exception ignored in"
    exc_info = None
    if unraisable.exc_type is not None:
        exc_value = unraisable.exc_value
        if exc_value is None:
            exc_value = unraisable.exc_type()
        exc_info = (unraisable.exc_type, exc_value, unraisable.exc_traceback)
    if unraisable.object is None:
        logger.error("%s", message, exc_info=exc_info)
    else:
        logger.error("%s: %r", message, unraisable.object, exc_info=exc_info)
