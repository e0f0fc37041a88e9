"""Settings read from the environment or `.env`, with exactly the names of SPEC.md."""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from services.base import CredentialFormatError
from services.codexaeternum import CodexAeternumCredential
from services.describepicture import PUBLISHED_KEY_HEX

Language = Literal["en", "es", "ru", "zh"]
LANGUAGES: tuple[Language, ...] = ("en", "es", "ru", "zh")

_TOKEN = re.compile(r"^[0-9]{3,20}:[A-Za-z0-9_-]{30,64}$")
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_HINTS = {
    "bot_token": "the token @BotFather gave you, like 123456789:AAE...",
    "keys_secret": "32 random bytes in base64, e.g. from: python -c "
    "'import os,base64;print(base64.b64encode(os.urandom(32)).decode())'",
}

_PLAYGROUND_HINT = " (or try Iris without one in the playground: python -m bot playground)"

_POSTGRES = ("postgresql", "postgres")

SHARED_KEY_REQUIRED = (
    "DATABASE_URL is set, so KEYS_SECRET must be set too: every instance sharing the database "
    "needs the same key, and a key file generated in one DATA_DIR cannot be shared"
)

IdList = Annotated[tuple[int, ...], NoDecode]


def _http_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("is not an http:// or https:// URL")
    return value.rstrip("/")


class Settings(BaseSettings):
    """Every setting of the bot; secrets are SecretStr so they never print by accident."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,  # SPEC: an empty value means "not set", lists included.
        extra="ignore",
        case_sensitive=False,
    )

    bot_token: SecretStr
    telegram_api_url: str | None = None
    data_dir: Path = Path("./data")
    keys_secret: SecretStr | None = None
    database_url: SecretStr | None = None
    """PostgreSQL's URL (it may hold a password); unset: SQLite in DATA_DIR."""
    admin_ids: IdList = ()
    allowed_user_ids: IdList = ()
    default_language: Language = "en"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["text", "json"] = "text"

    codexaeternum_url: str = "https://codexaeternum.com"
    describepicture_url: str = (
        "https://us-central1-describepicture.cloudfunctions.net/describe_picture_api"
    )
    describepicture_key: SecretStr = SecretStr(PUBLISHED_KEY_HEX)
    gptunnel_url: str = "https://gptunnel.ru"
    gptunnel_model: str = "google-imagen-3"
    ailuna_url: str = "https://ailuna.ru"

    codexaeternum_email: str | None = None
    codexaeternum_secret: SecretStr | None = None
    describepicture_app_id: SecretStr | None = None
    gptunnel_api_key: SecretStr | None = None
    ailuna_api_key: SecretStr | None = None

    job_timeout: int = Field(300, gt=0)
    job_lease: float = Field(30, gt=0)
    """Seconds an instance holds a job without renewing; past it, another instance resumes it."""
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    webhook_host: str = "0.0.0.0"  # noqa: S104 - the webhook must be reachable by Telegram
    webhook_port: int = Field(8080, ge=1, le=65535)
    metrics_port: int | None = Field(None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    user_max_jobs: int = Field(2, ge=1)
    provider_max_concurrency: int = Field(64, ge=1)
    operator_daily_limit: int = Field(20, ge=0)
    rate_limit_commands: int = Field(5, ge=1)
    rate_limit_window: float = Field(10, gt=0)
    telegram_rate: float = Field(30, gt=0)
    playground_port: int = Field(8800, ge=1, le=65535)
    storage_chat_id: int | None = None
    """A channel or group (the bot a member) where inline results of users who never opened a
    private chat with the bot are uploaded once, so the inline message can show them."""

    @field_validator("bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN.match(value.get_secret_value().strip()):
            raise ValueError("is malformed")
        return SecretStr(value.get_secret_value().strip())

    @field_validator(
        "telegram_api_url",
        "codexaeternum_url",
        "describepicture_url",
        "gptunnel_url",
        "ailuna_url",
        "webhook_url",
    )
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        return _http_url(value)

    @field_validator("admin_ids", "allowed_user_ids", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            items = [item.strip() for item in value.split(",") if item.strip()]
            if not all(re.fullmatch(r"-?[0-9]+", item) for item in items):
                raise ValueError("must be comma-separated numeric Telegram user ids")
            return tuple(int(item) for item in items)
        return value

    @field_validator("keys_secret")
    @classmethod
    def _keys_secret_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            decode_key(value.get_secret_value())
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        # The message never quotes the value: it may hold a password.
        if value is not None and urlsplit(value.get_secret_value()).scheme not in _POSTGRES:
            raise ValueError("must be a postgresql://user:password@host:port/database URL")
        return value

    @field_validator("describepicture_key")
    @classmethod
    def _describepicture_key_length(cls, value: SecretStr) -> SecretStr:
        try:
            key = bytes.fromhex(value.get_secret_value().strip())
        except ValueError:
            raise ValueError("is not hexadecimal") from None
        if len(key) != 32:
            raise ValueError(f"must be 32 bytes (64 hex digits), got {len(key)} bytes")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _webhook_secret_shape(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.match(value.get_secret_value()):
            raise ValueError("must be 1-256 characters of A-Z, a-z, 0-9, _ and -")
        return value

    @model_validator(mode="after")
    def _keys_secret_for_postgres(self) -> Settings:
        if self.database_url is not None and self.keys_secret is None:
            raise ValueError(SHARED_KEY_REQUIRED)
        return self

    @model_validator(mode="after")
    def _operator_codexaeternum_pair(self) -> Settings:
        if (self.codexaeternum_email is None) != (self.codexaeternum_secret is None):
            raise ValueError(
                "CODEXAETERNUM_EMAIL and CODEXAETERNUM_SECRET must be set together, or neither"
            )
        if self.codexaeternum_email and self.codexaeternum_secret:
            try:
                CodexAeternumCredential.from_parts(
                    [self.codexaeternum_email, self.codexaeternum_secret.get_secret_value()]
                )
            except CredentialFormatError as e:
                raise ValueError(f"CODEXAETERNUM_EMAIL/CODEXAETERNUM_SECRET: {e}") from None
        return self

    @property
    def describepicture_key_bytes(self) -> bytes:
        """The DescribePicture request encryption key as raw bytes."""
        return bytes.fromhex(self.describepicture_key.get_secret_value().strip())


def decode_key(text: str) -> bytes:
    """A 32-byte key from base64 (standard or URL-safe); ValueError names what is wrong."""
    normalized = text.strip().replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(normalized + "=" * (-len(normalized) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("is not base64") from None
    if len(key) != 32:
        raise ValueError(f"must decode to 32 bytes, got {len(key)}")
    return key


class SettingsError(Exception):
    """Settings are missing or invalid; `lines` has one human-readable line per problem."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__("; ".join(lines))
        self.lines = lines


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; SettingsError with one clear line per problem."""
    try:
        return Settings(**overrides)
    except ValidationError as e:
        raise SettingsError([_describe(error) for error in e.errors()]) from None


def _describe(error: Any) -> str:
    field = str(error["loc"][0]) if error["loc"] else ""
    name = field.upper()
    if error["type"] == "missing":
        hint = _HINTS.get(field)
        line = f"{name} is not set" + (f": set it to {hint}" if hint else "")
        return line + (_PLAYGROUND_HINT if field == "bot_token" else "")
    message = str(error["msg"]).removeprefix("Value error, ")
    if not name:
        return message
    if error["type"] != "value_error":
        message = f"is invalid: {message[0].lower()}{message[1:]}"
    hint = _HINTS.get(field)
    return f"{name} {message}" + (f"; expected {hint}" if hint else "")
