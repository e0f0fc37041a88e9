"""Settings: SPEC names, defaults, and one clear line per problem."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest

from bot.config import Settings, SettingsError, load_settings
from bot.providers import log_secrets

TOKEN = "123456789:AAE_test-token-that-is-long-enough-1234"
SPEC_NAMES = {
    "BOT_TOKEN", "TELEGRAM_API_URL", "DATA_DIR", "KEYS_SECRET", "ADMIN_IDS", "ALLOWED_USER_IDS",
    "DEFAULT_LANGUAGE", "CODEXAETERNUM_URL", "DESCRIBEPICTURE_URL", "DESCRIBEPICTURE_KEY",
    "GPTUNNEL_URL", "GPTUNNEL_MODEL", "AILUNA_URL", "CODEXAETERNUM_EMAIL", "CODEXAETERNUM_SECRET",
    "DESCRIBEPICTURE_APP_ID", "GPTUNNEL_API_KEY", "AILUNA_API_KEY", "JOB_TIMEOUT", "WEBHOOK_URL",
    "WEBHOOK_SECRET", "WEBHOOK_HOST", "WEBHOOK_PORT", "METRICS_PORT", "METRICS_HOST",
    "USER_MAX_JOBS", "PROVIDER_MAX_CONCURRENCY", "OPERATOR_DAILY_LIMIT",
}  # fmt: skip


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real environment or .env leaks into these tests."""
    for name in list(os.environ):
        if name.upper() in SPEC_NAMES or name.upper() == "LOG_LEVEL":
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def errors_for(monkeypatch: pytest.MonkeyPatch, **env: str) -> list[str]:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError) as info:
        load_settings()
    return info.value.lines


def test_every_spec_name_is_a_setting() -> None:
    assert {name.upper() for name in Settings.model_fields} >= SPEC_NAMES


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    s = load_settings()
    assert s.bot_token.get_secret_value() == TOKEN
    assert s.telegram_api_url is None
    assert s.data_dir == Path("./data")
    assert s.keys_secret is None
    assert s.admin_ids == () and s.allowed_user_ids == ()
    assert s.default_language == "en"
    assert s.codexaeternum_url == "https://codexaeternum.com"
    assert s.describepicture_url.endswith("cloudfunctions.net/describe_picture_api")
    assert s.describepicture_key_bytes.hex().startswith("690c9d8f")
    assert (s.gptunnel_url, s.gptunnel_model) == ("https://gptunnel.ru", "google-imagen-3")
    assert s.ailuna_url == "https://ailuna.ru"
    assert s.job_timeout == 300
    assert (s.webhook_url, s.webhook_host, s.webhook_port) == (None, "0.0.0.0", 8080)
    assert (s.metrics_port, s.metrics_host) == (None, "127.0.0.1")
    assert (s.user_max_jobs, s.provider_max_concurrency, s.operator_daily_limit) == (2, 64, 20)


def test_values_from_environment_and_dotenv(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text(f"BOT_TOKEN={TOKEN}\nADMIN_IDS=1, 22 ,333\nJOB_TIMEOUT=60\n")
    monkeypatch.setenv("ALLOWED_USER_IDS", "7")
    monkeypatch.setenv("TELEGRAM_API_URL", "http://127.0.0.1:8081/")
    s = load_settings()
    assert s.admin_ids == (1, 22, 333)
    assert s.allowed_user_ids == (7,)
    assert s.job_timeout == 60
    assert s.telegram_api_url == "http://127.0.0.1:8081"


def test_empty_values_mean_not_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    for name in ("ADMIN_IDS", "KEYS_SECRET", "JOB_TIMEOUT", "METRICS_PORT", "GPTUNNEL_API_KEY"):
        monkeypatch.setenv(name, "")
    s = load_settings()
    assert s.admin_ids == () and s.keys_secret is None and s.job_timeout == 300
    assert s.metrics_port is None and s.gptunnel_api_key is None


def test_missing_token_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    lines = errors_for(monkeypatch)
    assert len(lines) == 1
    assert lines[0].startswith("BOT_TOKEN is not set")
    assert "@BotFather" in lines[0]


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"BOT_TOKEN": "not-a-token"}, "BOT_TOKEN is malformed"),
        ({"GPTUNNEL_URL": "ftp://gptunnel.ru"}, "GPTUNNEL_URL is not an http:// or https:// URL"),
        ({"TELEGRAM_API_URL": "localhost:8081"}, "TELEGRAM_API_URL is not an http"),
        (
            {"KEYS_SECRET": base64.b64encode(b"short").decode()},
            "KEYS_SECRET must decode to 32 bytes, got 5",
        ),
        ({"KEYS_SECRET": "!!!not base64!!!"}, "KEYS_SECRET is not base64"),
        (
            {"DESCRIBEPICTURE_KEY": "abcd"},
            "DESCRIBEPICTURE_KEY must be 32 bytes (64 hex digits), got 2",
        ),
        ({"DESCRIBEPICTURE_KEY": "zz" * 32}, "DESCRIBEPICTURE_KEY is not hexadecimal"),
        ({"ADMIN_IDS": "1,alice"}, "ADMIN_IDS must be comma-separated numeric Telegram user ids"),
        ({"DEFAULT_LANGUAGE": "fr"}, "DEFAULT_LANGUAGE is invalid"),
        ({"JOB_TIMEOUT": "0"}, "JOB_TIMEOUT is invalid"),
        ({"CODEXAETERNUM_EMAIL": "me@example.com"}, "CODEXAETERNUM_EMAIL and CODEXAETERNUM_SECRET"),
        (
            {"CODEXAETERNUM_EMAIL": "nope", "CODEXAETERNUM_SECRET": "s3cret"},
            "CODEXAETERNUM_EMAIL/CODEXAETERNUM_SECRET: codexaeternum: the email",
        ),
        ({"WEBHOOK_SECRET": "has spaces"}, "WEBHOOK_SECRET must be 1-256 characters"),
    ],
)
def test_each_problem_is_one_clear_line(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str
) -> None:
    env = {"BOT_TOKEN": TOKEN, **env}
    lines = errors_for(monkeypatch, **env)
    assert len(lines) == 1, lines
    assert lines[0].startswith(expected), lines


def test_several_problems_give_several_lines_without_secrets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lines = errors_for(
        monkeypatch, BOT_TOKEN="123:leaky-secret-value", KEYS_SECRET="c2hvcnQ=", GPTUNNEL_URL="x"
    )
    assert len(lines) == 3
    assert not any("leaky-secret-value" in line for line in lines)


def test_secrets_do_not_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    monkeypatch.setenv("GPTUNNEL_API_KEY", "gpt-operator-key")
    s = load_settings()
    assert TOKEN not in repr(s) and "gpt-operator-key" not in repr(s)


def test_keys_secret_accepts_standard_and_urlsafe_base64(monkeypatch: pytest.MonkeyPatch) -> None:
    raw = bytes(range(250, 256)) + bytes(26)  # has + and / in standard base64
    monkeypatch.setenv("BOT_TOKEN", TOKEN)
    for text in (
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
    ):
        monkeypatch.setenv("KEYS_SECRET", text)
        assert load_settings().keys_secret is not None


def test_every_secret_setting_goes_to_the_log_filter(monkeypatch: pytest.MonkeyPatch) -> None:
    keys_secret = base64.b64encode(bytes(range(32))).decode()
    for name, value in {
        "BOT_TOKEN": TOKEN,
        "KEYS_SECRET": keys_secret,
        "WEBHOOK_SECRET": "webhook-secret-123",
        "GPTUNNEL_API_KEY": "gptunnel-operator-key",
        "CODEXAETERNUM_EMAIL": "op@example.com",
        "CODEXAETERNUM_SECRET": "codex-operator-stoken",
    }.items():
        monkeypatch.setenv(name, value)
    secrets = set(log_secrets(load_settings()))
    assert secrets >= {
        TOKEN,
        keys_secret,
        "webhook-secret-123",
        "gptunnel-operator-key",
        "codex-operator-stoken",
    }
