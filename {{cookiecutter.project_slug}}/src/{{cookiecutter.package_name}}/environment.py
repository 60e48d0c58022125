"""Configuration layer: the service's settings, read from environment variables.

VARIABLES is the one definition of every variable: its default and its rule.
get_app_environment() reads and checks them all, and reports every problem at once.
"""

import hmac
import math
import os
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple, TypeVar
from urllib.parse import urlsplit

T = TypeVar("T")


class ConfigError(ValueError):
    """The environment is invalid; `problems` holds one line per problem.

    `log_format` is the format the environment asks for ("text" where it
    cannot be told), so that the problems can be reported in it.
    """

    def __init__(self, problems: list[str], log_format: str = "text") -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.log_format = log_format


class AppMode(StrEnum):
    prod = "prod"
    dev = "dev"
    staging = "staging"


class Secret:
    """A string that never shows itself: repr(), str() and dataclasses.asdict() mask it.

    Read the value with reveal(), only where it is used.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and self._value == other._value

    def __hash__(self) -> int:
        return hash(self._value)

    def reveal(self) -> str:
        """Return the secret value."""
        return self._value

    def matches(self, candidate: str) -> bool:
        """Whether `candidate` equals the secret, compared in constant time.

        Any string is a fair candidate: one that cannot be encoded (lone
        surrogates from undecodable header bytes) simply does not match.
        """
        encoded = candidate.encode(errors="surrogateescape")
        return hmac.compare_digest(encoded, self._value.encode(errors="surrogateescape"))


class Variable(NamedTuple):
    default: str | None  # None: no fixed default (required, one of a pair, or derived)
    rule: str


VARIABLES: dict[str, Variable] = {
    "MODE": Variable(None, "required: prod, dev or staging, any case"),
    "API_KEY": Variable(None, "the API key; set this or API_KEY_FILE, not both"),
    "API_KEY_FILE": Variable(None, "path to a file holding the API key (stripped)"),
    "SERVER_IP": Variable("127.0.0.1", "IP address to listen on"),
    "SERVER_PORT": Variable("{{ cookiecutter.server_port }}", "TCP port 0..65535; 0 picks a free port"),
    "LOG_LEVEL": Variable("INFO", "DEBUG, INFO, WARNING, ERROR or CRITICAL, any case"),
    "SHUTDOWN_TIMEOUT": Variable(
        "{{ cookiecutter._shutdown_timeout_s }}",
        "seconds > 0: the whole shutdown budget",
    ),
    "DRAIN_DELAY": Variable(
        "0", "seconds >= 0, below SHUTDOWN_TIMEOUT: readiness 503 before the listener closes"
    ),
    "LOG_FORMAT": Variable(None, "text or json, any case; unset: text in dev, json otherwise"),
    "NOTIFY_URL": Variable(
        None, "optional http(s) webhook URL (a secret), told when a prod or staging service stops"
    ),
}

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
LOG_FORMATS = ("text", "json")
MAX_KEY_FILE_BYTES = 64 * 1024
MAX_KEY_CHARS = 1024


@dataclass(frozen=True)
class AppEnvironment:
    """The validated settings; durations in seconds."""

    MODE: AppMode
    API_KEY: Secret
    SERVER_IP: str
    SERVER_PORT: int
    LOG_LEVEL: str
    SHUTDOWN_TIMEOUT: float
    DRAIN_DELAY: float
    LOG_FORMAT: str  # "text" or "json"
    NOTIFY_URL: Secret | None  # None: no shutdown notification


def _shown(raw: str, limit: int = 40) -> str:
    """`raw` quoted for an error message, cut to `limit` characters."""
    return repr(raw) if len(raw) <= limit else repr(raw[:limit]) + "..."


def _ip_address(text: str) -> str:
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, text)
        except OSError:
            continue
        return text
    raise ValueError


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or int(text) > 65535:
        raise ValueError
    return int(text)


def _seconds(minimum: float, inclusive: bool) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(text)
        if not math.isfinite(value) or value < minimum or (value == minimum and not inclusive):
            raise ValueError
        return value

    return parse


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        for option in options:  # any case in, the option's own spelling out
            if text.lower() == option.lower():
                return option
        raise ValueError

    return parse


def get_app_environment(environ: Mapping[str, str] = os.environ) -> AppEnvironment:
    """Read the settings from `environ` (default: the process environment).

    An empty variable counts as unset: optional ones take their default.
    Raises ConfigError listing every problem found, one line each, naming the
    variable and its rule. The values of the secrets (API_KEY, NOTIFY_URL)
    never appear in a message.
    """
    problems: list[str] = []

    def read(
        name: str, parse: Callable[[str], T], rule: str, fallback: T, default: str | None = None
    ) -> T:
        # On a problem, record it and return `fallback`: ConfigError is raised
        # below before any fallback can be used. `default` is for a variable
        # whose default is derived from another one.
        raw = environ.get(name, "")
        text = raw or VARIABLES[name].default or default
        if text is None:
            problems.append(f"{name} environment variable is required")
            return fallback
        if text != text.strip():
            problems.append(f"{name} must not have surrounding whitespace, got {_shown(raw)}")
            return fallback
        try:
            return parse(text)
        except ValueError:
            problems.append(f"{name} must be {rule}, got {_shown(raw)}")
            return fallback

    mode = read("MODE", lambda text: AppMode(text.lower()), "prod, dev or staging", AppMode.dev)
    ip = read("SERVER_IP", _ip_address, "an IPv4 or IPv6 address", "")
    port = read("SERVER_PORT", _port, "an integer from 0 to 65535", 0)
    log_level = read("LOG_LEVEL", _choice(LOG_LEVELS), "one of " + ", ".join(LOG_LEVELS), "")
    log_format = read(
        "LOG_FORMAT",
        _choice(LOG_FORMATS),
        "text or json",
        "",
        default="text" if mode is AppMode.dev else "json",
    )
    timeout = read("SHUTDOWN_TIMEOUT", _seconds(0, inclusive=False), "seconds > 0", math.inf)
    drain = read("DRAIN_DELAY", _seconds(0, inclusive=True), "seconds >= 0", 0.0)
    if drain >= timeout:
        problems.append(f"DRAIN_DELAY must be below SHUTDOWN_TIMEOUT ({timeout:g}), got {drain:g}")
    api_key = _read_api_key(environ, problems)
    notify_url = _read_notify_url(environ, problems)

    if problems:
        raise ConfigError(problems, log_format or "text")
    return AppEnvironment(
        MODE=mode,
        API_KEY=Secret(api_key),
        SERVER_IP=ip,
        SERVER_PORT=port,
        LOG_LEVEL=log_level,
        SHUTDOWN_TIMEOUT=timeout,
        DRAIN_DELAY=drain,
        LOG_FORMAT=log_format,
        NOTIFY_URL=notify_url,
    )


def _read_api_key(environ: Mapping[str, str], problems: list[str]) -> str:
    """Return the API key from API_KEY or API_KEY_FILE; on a problem, add it and return ""."""
    key, key_file = environ.get("API_KEY", ""), environ.get("API_KEY_FILE", "")
    if key and key_file:
        problems.append("API_KEY and API_KEY_FILE are both set; set only one")
    elif key_file:
        if not os.path.isfile(key_file):  # not a FIFO or a device: reading could hang
            problems.append("API_KEY_FILE must name an existing regular file")
            return ""
        try:
            with open(key_file, encoding="utf-8") as file:
                key = file.read(MAX_KEY_FILE_BYTES + 1).strip()
        except (OSError, UnicodeDecodeError) as error:
            # The path is not echoed: a key pasted here by mistake would be printed.
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            problems.append(f"API_KEY_FILE must name a readable file ({reason})")
            return ""
        if not key:
            problems.append("API_KEY_FILE must name a non-empty file")
        elif len(key) > MAX_KEY_FILE_BYTES:
            problems.append(f"API_KEY_FILE must name a file of at most {MAX_KEY_FILE_BYTES} bytes")
    elif not key:
        problems.append("API_KEY or API_KEY_FILE environment variable is required")
    elif key != key.strip():
        problems.append("API_KEY must not have surrounding whitespace")
    source = "API_KEY_FILE" if key_file else "API_KEY"
    # Clients send it in an HTTP header: only visible ASCII is portable, and
    # servers cap a header line (aiohttp at 8190 bytes).
    if key == key.strip() and not (key.isascii() and key.isprintable() and " " not in key):
        problems.append(f"{source} must hold visible ASCII characters only, without spaces")
    elif len(key) > MAX_KEY_CHARS and not (key_file and len(key) > MAX_KEY_FILE_BYTES):
        problems.append(f"{source} must hold a key of at most {MAX_KEY_CHARS} characters")
    return key


def _read_notify_url(environ: Mapping[str, str], problems: list[str]) -> Secret | None:
    """Return NOTIFY_URL as a Secret, or None if it is unset or empty; on a problem, add it.

    Webhook URLs carry their token in the path, so the message never shows the
    value, nor any part of it.
    """
    url = environ.get("NOTIFY_URL", "")
    if not url:
        return None
    if not _is_webhook_url(url):
        problems.append(
            "NOTIFY_URL must be an http:// or https:// URL with a host, no user:password@"
            " and no spaces, in ASCII (the value is not shown: it may hold a token)"
        )
        return None
    return Secret(url)


def _is_webhook_url(text: str) -> bool:
    if not (text.isascii() and text.isprintable()) or " " in text:
        return False
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError unless a number from 0 to 65535
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and parts.username is None
        and port != 0
    )
