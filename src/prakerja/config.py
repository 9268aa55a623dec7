"""Settings: the only place that reads the environment (prefix ``PRAKERJA_``)."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

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

    public_base_url: str = "http://127.0.0.1:8000"
    """The site's public address (scheme and host, no path): certificates' issuer ``did:web``, their page URLs and
    QR codes, and the links in e-mails (verification, password reset) are built from it, never from a request's
    Host header. Required (``https://``) when ``env`` is ``production``."""

    trusted_proxies: str = ""
    """Addresses or networks (``10.0.0.5,10.1.0.0/16``) of reverse proxies whose ``X-Forwarded-For`` is believed.
    Empty (the default): the socket peer's address is the client's, and ``X-Forwarded-For`` is ignored."""

    certificate_signing_keys: str | None = None
    """Certificate signing keys ``kid:base64key[,kid:base64key...]`` (raw 32-byte Ed25519 private keys). Outside
    production they are generated into ``home/certificate-keys.json``; ``prakerja certificate rotate-key`` adds one."""

    metrics_token: str | None = None
    """In production ``/metrics`` answers signed-in officers, or a scraper sending ``Authorization: Bearer`` with
    this token (at least 24 characters); unset, officers only."""

    partner_rate_limit_per_minute: int = Field(default=600, ge=1, le=100_000)
    """Requests one partner credential may make per minute; past it, 429 ``rate_limited`` with ``Retry-After``."""

    settlement_inquiries_per_hour: int = Field(default=5, ge=1, le=1000)
    """Settlement-account inquiries (the bank's account check) one institution or platform may make per hour; past
    it, 429 ``settlement_inquiries_limited`` for an hour: an organisation's user cannot probe bank accounts."""

    partner_refusal_retention_days: int = Field(default=365, ge=30, le=3650)
    """How long the log of refused partner calls keeps a row (a daily job deletes older ones, reviewed or not, and
    audits how many it deleted): a flood of bad calls must not grow it for ever."""

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

    payments_sim_url: str = "http://127.0.0.1:8092"
    """Where ``prakerja demo`` serves its payment partners' simulator (the demo's BNI and OVO providers point there;
    ``prakerja sim payments`` listens here by default). Not on this machine's loopback: the demo pays nothing."""

    pool_size: int = Field(default=10, ge=1, le=200)

    job_poll_interval: float = Field(default=0.2, gt=0, le=60)
    """Seconds an idle worker waits before it looks for new jobs again (ADR 0019: no NOTIFY per job). A busy worker
    takes the next job as soon as it finishes one."""

    # --- outgoing messages (ADR 0009) ---------------------------------------------------------------------------
    email_sender: Literal["smtp", "dev"] = "dev"
    """``smtp`` sends e-mail through ``smtp_host``; ``dev`` keeps it in the development mailbox (refused in
    production)."""

    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    """``starttls`` (port 587), ``ssl`` (implicit TLS, port 465) or ``none`` (loopback relays and tests only)."""
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_ca_file: Path | None = None
    """Extra CA bundle to verify the SMTP server's certificate (default: the system's)."""
    smtp_from: str = "Kartu Prakerja <noreply@prakerja.invalid>"
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    sms_sender: Literal["http", "dev"] = "dev"
    """``http`` posts SMS to the gateway at ``sms_gateway_url``; ``dev`` keeps them in the development mailbox
    (refused in production)."""

    sms_gateway_url: str = "http://127.0.0.1:8104"
    """SMS gateway base URL (the protocol is in docs/operations.md); ``prakerja sim sms`` listens here by default."""
    sms_gateway_token: str | None = None
    """Bearer token the gateway expects."""
    sms_timeout_seconds: float = Field(default=10.0, gt=0, le=120)

    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=60)
    """How long one webhook attempt may take (connecting, sending, waiting for the answer): past it the attempt
    counts as a timeout and is retried."""

    storage: Literal["local"] = "local"
    """Where uploaded files go: ``local`` is an encrypted folder (``storage_root``). Unknown values are refused."""
    storage_root: Path | None = None
    """Folder of the ``local`` store (default: ``home/uploads``)."""

    attendance_proof: Literal["simulator", "simulator_fail"] = "simulator"
    """Who proves a participant attends a session (``training/providers``): the simulator passes every proof,
    ``simulator_fail`` fails every one (the review path); a face-match provider plugs in here."""

    migration_lock_timeout: str = Field(default="5s", pattern=r"^[0-9]+(ms|s|min|h)$")
    """How long a migration waits for a table lock before it fails (PostgreSQL ``lock_timeout``); retry later."""

    migration_statement_timeout: str = Field(default="30min", pattern=r"^[0-9]+(ms|s|min|h)$")
    """The longest one migration statement may run (PostgreSQL ``statement_timeout``); generous for data
    migrations over millions of rows, finite so that none hangs a deploy."""

    @field_validator("public_base_url")
    @classmethod
    def _check_public_url(cls, value: str) -> str:
        parsed = urlsplit(value.strip())
        if parsed.scheme not in ("http", "https") or not parsed.hostname or parsed.username or parsed.password:
            raise ValueError("expected http(s)://host[:port]")
        if parsed.path.strip("/") or parsed.query or parsed.fragment:
            raise ValueError("expected scheme and host only, without a path")
        return f"{parsed.scheme}://{parsed.netloc}"

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                try:
                    ipaddress.ip_network(part.strip(), strict=False)
                except ValueError:
                    raise ValueError(f"not an address or network: {part.strip()!r}") from None
        return value

    def trusted_proxy_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        return tuple(
            ipaddress.ip_network(p.strip(), strict=False) for p in self.trusted_proxies.split(",") if p.strip()
        )

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
        if "public_base_url" not in settings.model_fields_set:
            raise SettingsError("PRAKERJA_PUBLIC_BASE_URL: required when PRAKERJA_ENV=production")
        if not settings.public_base_url.startswith("https://"):
            raise SettingsError("PRAKERJA_PUBLIC_BASE_URL: must be https:// when PRAKERJA_ENV=production")
    _check_senders(settings)
    return settings


def _check_senders(settings: Settings) -> None:
    """Production never starts with a development sender: its messages would reach nobody."""
    if settings.env == "production":
        if settings.email_sender == "dev":
            raise SettingsError("PRAKERJA_EMAIL_SENDER: 'dev' is refused when PRAKERJA_ENV=production; use smtp")
        if settings.sms_sender == "dev":
            raise SettingsError("PRAKERJA_SMS_SENDER: 'dev' is refused when PRAKERJA_ENV=production; use http")
        if not settings.sms_gateway_token:
            raise SettingsError("PRAKERJA_SMS_GATEWAY_TOKEN: required when PRAKERJA_ENV=production")
    if settings.email_sender == "smtp" and not settings.smtp_host:
        raise SettingsError("PRAKERJA_SMTP_HOST: required when PRAKERJA_EMAIL_SENDER=smtp")
    if settings.smtp_username and not settings.smtp_password:
        raise SettingsError("PRAKERJA_SMTP_PASSWORD: required with PRAKERJA_SMTP_USERNAME")


def reset_settings() -> None:
    """Forget cached settings (tests change the environment)."""
    get_settings.cache_clear()
