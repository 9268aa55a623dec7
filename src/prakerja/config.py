"""Settings: the only place that reads the environment (prefix ``PRAKERJA_``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SettingsError(Exception):
    """A setting is missing or invalid; the message is one line naming the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PRAKERJA_", extra="ignore")

    env: Literal["development", "test", "production"] = "development"
    """``production`` requires every secret to be given explicitly."""

    home: Path = Path(".prakerja")
    """Folder for the embedded database, generated development keys and uploads."""

    database_url: str | None = None
    """External PostgreSQL (>= 15). Unset: an embedded PostgreSQL is started in ``home``."""

    secret_key: str | None = None
    """Signs session and CSRF cookies. Generated into ``home`` outside production."""

    pii_keys: str | None = None
    """Personal-data encryption keys: ``kid:base64key[,kid:base64key...]`` (32-byte AES keys)."""

    pii_active_key: str | None = None
    """The key id new personal data is encrypted with (default: the first of ``pii_keys``)."""

    blind_index_key: str | None = None
    """Base64 HMAC key for equality look-ups on encrypted personal data."""

    signing_key: str | None = None
    """Base64 raw 32-byte Ed25519 private key for lottery artefacts and certificates."""

    cookie_secure: bool = False
    """Mark cookies ``Secure`` (always on in production)."""

    default_language: Literal["id", "en"] = "id"

    log_level: str = "INFO"

    log_format: Literal["auto", "text", "json"] = "auto"
    """``text``: one readable line per record; ``json``: one JSON object per line. ``auto``: text when standard
    error is a terminal outside production, JSON otherwise (files, pipes, log collectors, production)."""

    shutdown_timeout: float = Field(default=8.0, ge=0, le=600)
    """Seconds ``serve``, ``demo`` and ``worker`` give the requests and jobs in progress to finish after SIGTERM
    or Ctrl+C (the default keeps the whole stop under ten seconds)."""

    dukcapil_url: str = "http://127.0.0.1:8101"
    """Civil-registry (Dukcapil) verification endpoint; ``prakerja sim dukcapil`` listens here by default."""

    pool_size: int = Field(default=10, ge=1, le=200)

    migration_lock_timeout: str = Field(default="5s", pattern=r"^[0-9]+(ms|s|min|h)$")
    """How long a migration waits for a table lock before it fails (PostgreSQL ``lock_timeout``); retry later."""

    migration_statement_timeout: str = Field(default="30min", pattern=r"^[0-9]+(ms|s|min|h)$")
    """The longest one migration statement may run (PostgreSQL ``statement_timeout``); generous for data
    migrations over millions of rows, finite so that none hangs a deploy."""

    @field_validator("database_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("postgresql://", "postgresql+psycopg://", "postgres://")):
            raise ValueError("expected a postgresql:// URL")
        return value


def _one_line(error: ValidationError) -> str:
    first = error.errors()[0]
    field = str(first["loc"][0]) if first["loc"] else "?"
    return f"PRAKERJA_{field.upper()}: {first['msg']}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    try:
        settings = Settings()
    except ValidationError as error:
        raise SettingsError(_one_line(error)) from None
    if settings.env == "production":
        for name in ("database_url", "secret_key", "pii_keys", "blind_index_key", "signing_key"):
            if not getattr(settings, name):
                raise SettingsError(f"PRAKERJA_{name.upper()}: required when PRAKERJA_ENV=production")
    return settings


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_settings.cache_clear()
