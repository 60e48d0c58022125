"""The configuration layer: every rule, through explicit mappings (nothing leaks)."""

import dataclasses
import re
from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.environment import (
    VARIABLES,
    AppMode,
    ConfigError,
    get_app_environment,
)

VALID = {"MODE": "dev", "API_KEY": "sk-PROBE"}
SETTING = re.compile(r"(?:# )?([A-Z_]+)=(.*)")


def problems(environ: dict[str, str]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        get_app_environment(environ)
    return caught.value.problems


def test_defaults() -> None:
    env = get_app_environment(VALID)
    assert env.MODE is AppMode.dev
    assert env.API_KEY.reveal() == "sk-PROBE"
    assert (env.SERVER_IP, env.SERVER_PORT) == ("127.0.0.1", {{ cookiecutter.server_port | int }})
    assert env.LOG_LEVEL == "INFO"
    assert env.SHUTDOWN_TIMEOUT == float("{{ cookiecutter._shutdown_timeout_s }}")
    assert env.DRAIN_DELAY == 0
    assert env.LOG_FORMAT == "text"
    assert env.NOTIFY_URL is None


def test_reads_the_process_environment_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODE", "staging")
    monkeypatch.setenv("API_KEY", "k")
    assert get_app_environment().MODE is AppMode.staging


def test_missing_mode_is_reported_as_required() -> None:
    assert problems({"API_KEY": "k"}) == ["MODE environment variable is required"]


@pytest.mark.parametrize("value", ["PROD", "Dev", "staging"])
def test_mode_in_any_case(value: str) -> None:
    assert get_app_environment({**VALID, "MODE": value}).MODE == value.lower()


@pytest.mark.parametrize("value", ["bogus", "Prod ", " dev"])
def test_bad_mode(value: str) -> None:
    [problem] = problems({**VALID, "MODE": value})
    assert problem.startswith("MODE must")


def test_empty_required_values_are_missing() -> None:
    assert problems({"MODE": "", "API_KEY": ""}) == [
        "MODE environment variable is required",
        "API_KEY or API_KEY_FILE environment variable is required",
    ]


def test_empty_optional_values_mean_the_default() -> None:
    empty = {name: "" for name in VARIABLES if name not in ("MODE", "API_KEY")}
    assert get_app_environment({**empty, **VALID}) == get_app_environment(VALID)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SERVER_PORT", "-1"),
        ("SERVER_PORT", "65536"),
        ("SERVER_PORT", "80x"),
        ("SERVER_PORT", "abc"),
        ("SERVER_PORT", " 80"),
        ("SERVER_IP", "localhost"),
        ("LOG_LEVEL", "verbose"),
        ("SHUTDOWN_TIMEOUT", "0"),
        ("SHUTDOWN_TIMEOUT", "-1"),
        ("SHUTDOWN_TIMEOUT", "nan"),
        ("SHUTDOWN_TIMEOUT", "inf"),
        ("DRAIN_DELAY", "-0.5"),
        ("DRAIN_DELAY", "nan"),
        ("LOG_FORMAT", "xml"),
        ("LOG_FORMAT", "json "),
    ],
)
def test_invalid_value_names_the_variable(name: str, value: str) -> None:
    [problem] = problems({**VALID, name: value})
    assert problem.startswith(f"{name} must")
    assert repr(value) in problem


@pytest.mark.parametrize(("value", "port"), [("0", 0), ("1", 1), ("65535", 65535)])
def test_port_range(value: str, port: int) -> None:
    assert get_app_environment({**VALID, "SERVER_PORT": value}).SERVER_PORT == port


def test_log_level_in_any_case() -> None:
    assert get_app_environment({**VALID, "LOG_LEVEL": "debug"}).LOG_LEVEL == "DEBUG"


@pytest.mark.parametrize(
    ("mode", "log_format"), [("dev", "text"), ("prod", "json"), ("staging", "json")]
)
def test_log_format_follows_mode_by_default(mode: str, log_format: str) -> None:
    assert get_app_environment({**VALID, "MODE": mode}).LOG_FORMAT == log_format
    assert get_app_environment({**VALID, "MODE": mode, "LOG_FORMAT": ""}).LOG_FORMAT == log_format


@pytest.mark.parametrize(("value", "log_format"), [("JSON", "json"), ("Text", "text")])
def test_log_format_in_any_case(value: str, log_format: str) -> None:
    env = get_app_environment({**VALID, "MODE": "prod", "LOG_FORMAT": value})
    assert env.LOG_FORMAT == log_format


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/services/sk-PROBE",
        "http://127.0.0.1:9000/hook?token=sk-PROBE",
        "HTTPS://[::1]/sk-PROBE",
    ],
)
def test_notify_url_is_held_as_a_secret(url: str) -> None:
    env = get_app_environment({**VALID, "NOTIFY_URL": url})
    assert env.NOTIFY_URL is not None
    assert env.NOTIFY_URL.reveal() == url
    for text in (repr(env), str(env), str(dataclasses.asdict(env)), repr(env.NOTIFY_URL)):
        assert "sk-PROBE" not in text


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/sk-PROBE",
        "hooks.example.com/services/sk-PROBE",
        "https:///sk-PROBE",
        "https://user:sk-PROBE@example.com/",
        "https://example.com:99999/sk-PROBE",
        "https://example.com:0/sk-PROBE",
        "https://example.com:port/sk-PROBE",
        "https://example.com/sk-PROBE two",
        " https://example.com/sk-PROBE",
        "https://example.com/sk-PROBE\n",
        "https://bücher.example/sk-PROBE",
    ],
)
def test_a_bad_notify_url_is_reported_without_its_value(url: str) -> None:
    [problem] = problems({**VALID, "NOTIFY_URL": url})
    assert problem.startswith("NOTIFY_URL must be an http:// or https:// URL")
    assert "sk-PROBE" not in problem
    assert "example" not in problem


def test_drain_delay_must_be_below_shutdown_timeout() -> None:
    [problem] = problems({**VALID, "SHUTDOWN_TIMEOUT": "2", "DRAIN_DELAY": "2"})
    assert problem.startswith("DRAIN_DELAY must be below SHUTDOWN_TIMEOUT")
    env = get_app_environment({**VALID, "SHUTDOWN_TIMEOUT": "2", "DRAIN_DELAY": "1.5"})
    assert env.DRAIN_DELAY == 1.5


def test_every_problem_is_reported_at_once() -> None:
    found = problems(
        {
            "SERVER_PORT": "x",
            "LOG_LEVEL": "loud",
            "LOG_FORMAT": "xml",
            "SHUTDOWN_TIMEOUT": "0",
            "NOTIFY_URL": "x",
        }
    )
    assert [line.split()[0] for line in found] == [
        "MODE",
        "SERVER_PORT",
        "LOG_LEVEL",
        "LOG_FORMAT",
        "SHUTDOWN_TIMEOUT",
        "API_KEY",
        "NOTIFY_URL",
    ]


def test_api_key_file_is_read_and_stripped(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("sk-PROBE\n")
    env = get_app_environment({"MODE": "dev", "API_KEY_FILE": str(key_file)})
    assert env.API_KEY.reveal() == "sk-PROBE"


def test_api_key_file_problems(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text(" \n")
    assert problems({"MODE": "dev", "API_KEY_FILE": str(empty)})[0].startswith(
        "API_KEY_FILE must name a non-empty file"
    )
    missing = problems({"MODE": "dev", "API_KEY_FILE": str(tmp_path / "nope")})
    assert missing == ["API_KEY_FILE must name an existing regular file"]
    folder = problems({"MODE": "dev", "API_KEY_FILE": str(tmp_path)})
    assert folder == missing
    assert problems({"MODE": "dev", "API_KEY_FILE": "/dev/zero"}) == folder
    huge = tmp_path / "huge"
    huge.write_text("k" * 100_000)
    assert "at most" in problems({"MODE": "dev", "API_KEY_FILE": str(huge)})[0]


def test_api_key_and_api_key_file_together_are_an_error(tmp_path: Path) -> None:
    key_file = tmp_path / "key"
    key_file.write_text("other")
    [problem] = problems({**VALID, "API_KEY_FILE": str(key_file)})
    assert "both set" in problem


@pytest.mark.parametrize("key", ["clé", "two words", "tab\there", "\x00nul"])
def test_an_api_key_must_be_visible_ascii(key: str) -> None:
    [problem] = problems({**VALID, "API_KEY": key})
    assert problem == "API_KEY must hold visible ASCII characters only, without spaces"


def test_an_api_key_fits_in_a_header_line() -> None:
    assert get_app_environment({**VALID, "API_KEY": "k" * 1024}).API_KEY.matches("k" * 1024)
    [problem] = problems({**VALID, "API_KEY": "k" * 1025})
    assert problem == "API_KEY must hold a key of at most 1024 characters"


def test_a_key_compares_against_any_header_value() -> None:
    key = get_app_environment(VALID).API_KEY
    assert key.matches("sk-PROBE")
    assert not key.matches("sk-probe")
    assert not key.matches("\udce9")  # an undecodable header byte, surrogate-escaped


def test_the_key_never_shows() -> None:
    env = get_app_environment(VALID)
    for text in (repr(env), str(env), str(dataclasses.asdict(env)), repr(env.API_KEY)):
        assert "sk-PROBE" not in text
    [problem] = problems({**VALID, "API_KEY": " sk-PROBE"})
    assert "sk-PROBE" not in problem


def test_config_is_frozen() -> None:
    env = get_app_environment(VALID)
    with pytest.raises(dataclasses.FrozenInstanceError):
        env.MODE = AppMode.prod  # type: ignore[misc]


def test_env_example_and_readme_list_every_variable_with_its_default() -> None:
    project = Path(__file__).resolve().parents[1]
    # `NAME=value`, or `# NAME=value` for one left unset on purpose
    lines = (project / ".env.example").read_text().splitlines()
    example = {match[1]: match[2] for line in lines if (match := SETTING.fullmatch(line))}
    assert list(example) == list(VARIABLES)
    for name, variable in VARIABLES.items():
        if variable.default is not None:
            assert example[name] == variable.default, name
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in (project / "README.md").read_text().splitlines()
        if line.startswith("| ") and line.split("|")[1].strip() in VARIABLES
    ]
    assert rows == [[name, v.default or "", v.rule] for name, v in VARIABLES.items()]
