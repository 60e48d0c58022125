"""The shutdown notification: one JSON POST to a webhook (Slack-compatible), best effort.

Standard library and asyncio streams only: no thread is started, so a send can
be cancelled at any point and leaves nothing running behind it. Webhook URLs
carry their token, so nothing here logs the URL or any part of it but its scheme.
"""

import asyncio
import json
import os
import re
import socket
import ssl
from collections.abc import Mapping
{%- if cookiecutter.flavor == "minimal" %}
from logging import getLogger as get_logger
{%- endif %}
from urllib.parse import urlsplit
{%- if cookiecutter.flavor == "caesari" %}

from caesari_logger.std_logger import get_logger
{%- endif %}

from . import __version__
from .environment import Secret

logger = get_logger(__name__)

STATUS_LINE = re.compile(rb"HTTP/1\.[01] ([1-5][0-9][0-9])(?: [^\r\n]*)?\r?\n")
USER_AGENT = f"{{ cookiecutter.package_name }}/{__version__}"


def shutdown_payload(
    service: str, version: str, mode: str, reason: str, uptime_s: float
) -> dict[str, object]:
    """Return the notification's JSON object for a service that is shutting down.

    `text` is a sentence for a chat webhook (Slack's incoming webhooks show it;
    `&`, `<` and `>` are escaped as Slack asks), e.g. "my-app 0.1.0 (prod) on
    web-1 is shutting down: SIGTERM"; the other keys hold the same facts for
    machines: `service`, `version`, `mode`, `host` (this machine's host name),
    `pid`, `reason` (what started the shutdown: a signal's name, a failed
    task, a startup failure) and `uptime_s` (seconds since the start,
    rounded to milliseconds).
    """
    host = socket.gethostname()
    sentence = f"{service} {version} ({mode}) on {host} is shutting down: {reason}"
    return {
        "text": sentence.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"),
        "service": service,
        "version": version,
        "mode": mode,
        "host": host,
        "pid": os.getpid(),
        "reason": reason,
        "uptime_s": round(uptime_s, 3),
    }


async def send_shutdown_notice(
    url: Secret, payload: Mapping[str, object], timeout_s: float
) -> bool:
    """POST `payload` as JSON to the webhook at `url`; return True if it answered 2xx.

    One HTTP/1.1 request with `Connection: close` over asyncio streams (TLS
    with the default certificate checks for https); only the status line of
    the answer is read. Everything, the DNS lookup and connecting included,
    is bounded by `timeout_s` seconds.

    Never raises, except CancelledError (the caller may cancel it at any time;
    the connection is then closed): on any failure (DNS, refused, TLS,
    timeout, an answer that is not 2xx or not HTTP) it logs one WARNING line
    naming the kind of failure, never the URL nor any part of it but the
    scheme, and returns False.
    """
    scheme = url.reveal().partition(":")[0].lower()
    scheme = scheme if scheme in ("http", "https") else "non-http"
    writer: asyncio.StreamWriter | None = None
    status: int | None = None
    failure = ""
    try:
        host, port, request = _request(url.reveal(), payload)
        async with asyncio.timeout(timeout_s):
            reader, writer = await asyncio.open_connection(
                host, port, ssl=ssl.create_default_context() if scheme == "https" else None
            )
            writer.write(request)
            await writer.drain()
            status = _status(await reader.readline())
            writer.close()
            await writer.wait_closed()
    except Exception as error:  # CancelledError is a BaseException: it goes through
        failure = _failure(error, timeout_s)
    finally:
        if writer is not None:
            writer.close()  # at once, if anything above did not finish
    if status is None:  # an error once the status line was in (closing) does not count
        logger.warning("Shutdown notice not sent to the %s webhook: %s", scheme, failure)
        return False
    if not 200 <= status < 300:
        logger.warning("Shutdown notice not accepted by the %s webhook: HTTP %d", scheme, status)
        return False
    return True


class _Failure(Exception):
    """A failure described in our own words, which hold no part of the URL."""


def _request(url: str, payload: Mapping[str, object]) -> tuple[str, int, bytes]:
    """Return the host, the port and the whole request (head and JSON body) for `url`."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # its message may quote the URL
        raise _Failure("the URL does not parse, or its port is not a number") from None
    host = parts.hostname
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if parts.scheme not in ("http", "https") or not host:
        raise _Failure("not an http:// or https:// URL with a host")
    if not (host.isascii() and target.isascii() and target.isprintable()) or " " in target:
        raise _Failure("the URL must be printable ASCII without spaces")
    body = json.dumps(payload, default=str).encode()
    authority = (f"[{host}]" if ":" in host else host) + (f":{parts.port}" if parts.port else "")
    head = (
        f"POST {target} HTTP/1.1\r\n"
        f"Host: {authority}\r\n"
        f"User-Agent: {USER_AGENT}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n"
        "\r\n"
    )
    return host, port, head.encode("ascii") + body


def _status(line: bytes) -> int:
    """The status code of an HTTP/1.x status line; _Failure if `line` is not one."""
    if not line:
        raise _Failure("the webhook closed the connection without answering")
    match = STATUS_LINE.fullmatch(line)
    if match is None:
        raise _Failure("the answer is not HTTP")
    return int(match[1])


def _failure(error: Exception, timeout_s: float) -> str:
    """What went wrong, in words that hold no part of the URL.

    Messages of OS and TLS errors can name the host or the address, so only
    their error codes are used.
    """
    if isinstance(error, _Failure):
        return str(error)
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout_s:g} s"
    if isinstance(error, socket.gaierror):
        return f"the host name did not resolve ({error.strerror or 'no reason given'})"
    if isinstance(error, ssl.SSLError):  # certificate checks included
        return f"TLS failed ({error.reason or type(error).__name__})"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, OSError) and error.errno:
        return f"network error ({os.strerror(error.errno)})"
    return f"unexpected error ({type(error).__name__})"
