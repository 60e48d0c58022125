"""Log output: text or JSON lines, in-process and from the service as a real process."""

import json
import logging
import re
import signal
import sys
import threading
import warnings
from collections.abc import Iterator

import pytest

from {{ cookiecutter.package_name }}.logs import JsonFormatter, configure_logging

from helpers import StartService

TS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
TEXT_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} [A-Z]+ [\w.]+: ")


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Let a test call configure_logging(); put back what it changes afterwards."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    for hook in ("excepthook", "unraisablehook"):
        monkeypatch.setattr(sys, hook, getattr(sys, hook))
    monkeypatch.setattr(threading, "excepthook", threading.excepthook)
    yield
    logging.captureWarnings(False)


def json_lines(text: str) -> list[dict[str, object]]:
    """Every line of `text` as a JSON object; fails on a line that is not one."""
    entries = [json.loads(line) for line in text.splitlines()]
    assert all(isinstance(entry, dict) for entry in entries), text
    return entries


def test_a_record_as_json() -> None:
    record = logging.makeLogRecord(
        {"name": "x.y", "levelno": 30, "levelname": "WARNING", "msg": "a %s", "args": ("b",)}
    )
    record.__dict__.update(order_id=7, path="/items", ts="not mine")
    entry = json.loads(JsonFormatter().format(record))
    assert list(entry) == ["ts", "level", "logger", "message", "order_id", "path"]
    assert TS.fullmatch(entry["ts"])
    assert entry["level"] == "WARNING"
    assert entry["logger"] == "x.y"
    assert entry["message"] == "a b"
    assert (entry["order_id"], entry["path"]) == (7, "/items")


def test_an_exception_is_one_string_and_values_that_are_not_json_are_strings() -> None:
    try:
        raise ValueError("boom\nsecond line")
    except ValueError:
        record = logging.getLogger("x").makeRecord(
            "x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info(), extra={"at": object}
        )
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["exc"].startswith("Traceback (most recent call last):")
    assert entry["exc"].endswith("ValueError: boom\nsecond line")
    assert entry["at"] == "<class 'object'>"


@pytest.mark.usefixtures("configure")
def test_configure_logging_json_is_idempotent_and_covers_other_loggers(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "text")
    configure_logging("INFO", "json")
    logging.getLogger("{{ cookiecutter.package_name }}.app").info("one")
    logging.getLogger("uvicorn.error").info("Started server process [%d]", 1)
    logging.getLogger("uvicorn.access").info('%s - "%s" %d', "127.0.0.1:1", "GET / HTTP/1.1", 200)
    logging.getLogger("aiohttp.access").info("GET /", extra={"status": 200})
    logging.getLogger("x").debug("below the level")
    entries = json_lines(capsys.readouterr().err)
    assert [(e["logger"], e["message"]) for e in entries] == [
        ("{{ cookiecutter.package_name }}.app", "one"),
        ("uvicorn.error", "Started server process [1]"),
        ("uvicorn.access", '127.0.0.1:1 - "GET / HTTP/1.1" 200'),
        ("aiohttp.access", "GET /"),
    ]
    assert entries[-1]["status"] == 200


@pytest.mark.usefixtures("configure")
def test_configure_logging_text(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("DEBUG", "text")
    configure_logging("DEBUG", "text")
    logging.getLogger("x.y").debug("hello %s", "there")
    [line] = capsys.readouterr().err.splitlines()
    assert TEXT_LINE.match(line)
    assert line.endswith(" DEBUG x.y: hello there")


@pytest.mark.usefixtures("configure")
def test_uncaught_and_unraisable_exceptions_and_warnings_become_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging("INFO", "json")
    try:
        raise RuntimeError("uncaught")
    except RuntimeError as error:
        sys.excepthook(RuntimeError, error, error.__traceback__)
    thread = threading.Thread(target=lambda: 1 / 0, name="worker")
    thread.start()
    thread.join()
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("careful", UserWarning, stacklevel=1)

    class Unfinalizable:
        def __del__(self) -> None:
            raise ValueError("in __del__")

    Unfinalizable()  # gone at once: its __del__ raises where nothing can catch it
    entries = json_lines(capsys.readouterr().err)
    assert [e["level"] for e in entries] == ["CRITICAL", "CRITICAL", "WARNING", "ERROR"]
    assert "RuntimeError: uncaught" in str(entries[0]["exc"])
    assert "ZeroDivisionError" in str(entries[1]["exc"])
    assert "'worker'" in str(entries[1]["message"])
    assert "careful" in str(entries[2]["message"])
    assert str(entries[3]["message"]).startswith("Exception ignored")
    assert "ValueError: in __del__" in str(entries[3]["exc"])


def test_configure_logging_rejects_an_unknown_format() -> None:
    with pytest.raises(ValueError, match="log_format"):
        configure_logging("INFO", "xml")


def test_prod_logs_json_lines_only_even_for_a_crash(start_service: StartService) -> None:
    service = start_service({"MODE": "prod"}, "crash-task")
    assert service.wait() == 1, service.output
    entries = json_lines(service.output)
    [crash] = [entry for entry in entries if "exc" in entry]
    assert crash["message"] == "Task 'crasher' failed"
    assert "RuntimeError: injected task failure" in str(crash["exc"])
    assert "faults" in {entry["logger"] for entry in entries}


def test_config_errors_are_json_lines_in_json_mode(start_service: StartService) -> None:
    service = start_service({"MODE": "prod", "API_KEY": "", "SERVER_PORT": "x"})
    assert service.wait() == 78, service.output
    messages = [str(entry["message"]) for entry in json_lines(service.output)]
    assert len(messages) == 2, service.output
    assert all(message.startswith("Configuration error: ") for message in messages)


@pytest.mark.parametrize(
    ("env", "text"),
    [
        ({"MODE": "dev"}, True),
        ({"MODE": "staging"}, False),
        ({"MODE": "prod", "LOG_FORMAT": "Text"}, True),
        ({"MODE": "dev", "LOG_FORMAT": "JSON"}, False),
    ],
)
def test_log_format_follows_mode_unless_set(
    start_service: StartService, env: dict[str, str], text: bool
) -> None:
    service = start_service(env)
    service.wait_until_listening()
    service.send_signal(signal.SIGTERM)
    assert service.wait() == 0, service.output
    lines = service.output.splitlines()
    if text:
        assert all(TEXT_LINE.match(line) for line in lines), service.output
    else:
        assert json_lines(service.output)
