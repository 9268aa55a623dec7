"""Certificate signing keys. Public halves live in ``certificates_keys`` (the DID document lists every row, retired
or not); private halves come from ``PRAKERJA_CERTIFICATE_SIGNING_KEYS`` or, outside production, from
``PRAKERJA_HOME/certificate-keys.json`` (generated, mode 0600, like ``kit/keys.py``'s development keys)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.certificates import repository
from prakerja.certificates.errors import KeyRotationRefused, SigningKeyUnavailable
from prakerja.certificates.models import SigningKey
from prakerja.certificates.rules import multibase
from prakerja.config import Settings, SettingsError, get_settings
from prakerja.kit.clock import utcnow

DEV_FILE = "certificate-keys.json"


def _parse(value: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for part in value.split(","):
        kid, sep, material = part.strip().partition(":")
        if not sep or not kid or len(kid) > 64 or not kid.isascii() or "#" in kid:
            raise SettingsError("PRAKERJA_CERTIFICATE_SIGNING_KEYS: expected kid:base64key[,kid:base64key...]")
        try:
            raw = base64.b64decode(material, validate=True)
        except (binascii.Error, ValueError):
            raise SettingsError("PRAKERJA_CERTIFICATE_SIGNING_KEYS: expected base64") from None
        if len(raw) != 32:
            raise SettingsError("PRAKERJA_CERTIFICATE_SIGNING_KEYS: each key must be 32 bytes")
        keys[kid] = raw
    return keys


@contextlib.contextmanager
def _dev_file_locked(settings: Settings) -> Iterator[Path]:
    settings.home.mkdir(parents=True, exist_ok=True)
    path = settings.home / DEV_FILE
    with open(settings.home / (DEV_FILE + ".lock"), "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield path
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _read_dev(path: Path) -> dict[str, bytes]:
    if not path.exists():
        return {}
    data: dict[str, str] = json.loads(path.read_text())
    return {kid: base64.b64decode(value) for kid, value in data.items()}


def _write_dev(path: Path, keys: dict[str, bytes]) -> None:
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({kid: base64.b64encode(raw).decode() for kid, raw in keys.items()}, handle)
    os.replace(tmp, path)


def private_keys(settings: Settings | None = None) -> dict[str, bytes]:
    """Key id -> raw private key, in the order given (oldest first)."""
    settings = settings or get_settings()
    if settings.certificate_signing_keys:
        return _parse(settings.certificate_signing_keys)
    if settings.env == "production":
        raise SettingsError("PRAKERJA_CERTIFICATE_SIGNING_KEYS: required when PRAKERJA_ENV=production")
    with _dev_file_locked(settings) as path:
        return _read_dev(path)


def _generate_dev_key(settings: Settings) -> str:
    with _dev_file_locked(settings) as path:
        keys = _read_dev(path)
        kid = f"key-{utcnow().strftime('%Y%m%d')}-{secrets.token_hex(3)}"
        keys[kid] = secrets.token_bytes(32)
        _write_dev(path, keys)
    return kid


def public_multibase(raw_private: bytes) -> str:
    public = Ed25519PrivateKey.from_private_bytes(raw_private).public_key()
    return multibase.public_key_multibase(
        public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    )


def _register(session: Session, kid: str, raw: bytes) -> SigningKey:
    repository.insert_key_if_absent(session, kid, public_multibase(raw), utcnow())
    row = repository.get_key(session, kid)
    if row is None or row.public_key_multibase != public_multibase(raw):
        raise SigningKeyUnavailable(details={"key_id": kid})
    return row


def active_key(session: Session) -> tuple[SigningKey, Ed25519PrivateKey]:
    """The key new documents are signed with; the first call on an empty table registers one (generating it
    outside production)."""
    settings = get_settings()
    row = repository.active_key(session)
    if row is None:
        keys = private_keys(settings)
        if not keys:
            _generate_dev_key(settings)
            keys = private_keys(settings)
        kid = next(reversed(keys))
        row = _register(session, kid, keys[kid])
    keys = private_keys(settings)
    raw = keys.get(row.id)
    if raw is None or public_multibase(raw) != row.public_key_multibase:
        raise SigningKeyUnavailable(details={"key_id": row.id})
    return row, Ed25519PrivateKey.from_private_bytes(raw)


def rotate(session: Session, *, actor: audit.Actor, key_id: str | None = None) -> SigningKey:
    """Start signing with a new key. Outside production without ``key_id`` a key is generated; otherwise ``key_id``
    must name a configured key never registered before. Older keys stay in the DID document."""
    settings = get_settings()
    repository.lock_keys(session)
    if key_id is None:
        if settings.certificate_signing_keys or settings.env == "production":
            raise KeyRotationRefused(
                "Sebutkan kunci baru (--key-id) yang sudah ada di PRAKERJA_CERTIFICATE_SIGNING_KEYS.",
                "Name the new key (--key-id), already present in PRAKERJA_CERTIFICATE_SIGNING_KEYS.",
            )
        key_id = _generate_dev_key(settings)
    keys = private_keys(settings)
    if key_id not in keys:
        raise KeyRotationRefused(
            "Kunci tersebut tidak ada di konfigurasi.", "That key is not configured.", details={"key_id": key_id}
        )
    if repository.get_key(session, key_id) is not None:
        raise KeyRotationRefused(
            "Kunci tersebut sudah pernah dipakai.", "That key has been used before.", details={"key_id": key_id}
        )
    row = _register(session, key_id, keys[key_id])
    repository.retire_keys_except(session, key_id, utcnow())
    audit.record(session, actor, "certificate.key_rotated", "certificate_key", key_id, data={"key_id": key_id})
    return row
