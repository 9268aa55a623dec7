"""Secrets for the process: from settings, or generated once into ``PRAKERJA_HOME`` outside production."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import os
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from prakerja.config import Settings, SettingsError, get_settings


@dataclass(frozen=True)
class KeyMaterial:
    secret_key: str
    pii_keys: dict[str, bytes]
    pii_active_key: str
    blind_index_key: bytes
    signing_key: bytes


def _b64(name: str, value: str, length: int | None = None) -> bytes:
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise SettingsError(f"PRAKERJA_{name}: expected base64") from None
    if length is not None and len(raw) != length:
        raise SettingsError(f"PRAKERJA_{name}: expected {length} bytes, got {len(raw)}")
    return raw


def _parse_pii_keys(value: str) -> dict[str, bytes]:
    keys: dict[str, bytes] = {}
    for part in value.split(","):
        kid, sep, material = part.strip().partition(":")
        if not sep or not kid or len(kid) > 32 or not kid.isascii():
            raise SettingsError("PRAKERJA_PII_KEYS: expected kid:base64key[,kid:base64key...]")
        keys[kid] = _b64("PII_KEYS", material, 32)
    return keys


def _generated(home: Path) -> dict[str, str]:
    """Development keys kept in ``home/keys.json`` (created once, mode 0600)."""
    path = home / "keys.json"
    if path.exists():
        data: dict[str, str] = json.loads(path.read_text())
        return data
    home.mkdir(parents=True, exist_ok=True)
    data = {
        "secret_key": secrets.token_urlsafe(32),
        "pii_keys": "dev1:" + base64.b64encode(secrets.token_bytes(32)).decode(),
        "blind_index_key": base64.b64encode(secrets.token_bytes(32)).decode(),
        "signing_key": base64.b64encode(secrets.token_bytes(32)).decode(),
    }
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle)
    with contextlib.suppress(FileExistsError):
        os.link(tmp, path)  # first writer wins when two processes start together
    tmp.unlink(missing_ok=True)
    loaded: dict[str, str] = json.loads(path.read_text())
    return loaded


def load_keys(settings: Settings) -> KeyMaterial:
    generated: dict[str, str] = {}
    if not all((settings.secret_key, settings.pii_keys, settings.blind_index_key, settings.signing_key)):
        generated = _generated(settings.home)
    pii_keys = _parse_pii_keys(settings.pii_keys or generated["pii_keys"])
    active = settings.pii_active_key or next(iter(pii_keys))
    if active not in pii_keys:
        raise SettingsError(f"PRAKERJA_PII_ACTIVE_KEY: {active!r} is not one of PRAKERJA_PII_KEYS")
    return KeyMaterial(
        secret_key=settings.secret_key or generated["secret_key"],
        pii_keys=pii_keys,
        pii_active_key=active,
        blind_index_key=_b64("BLIND_INDEX_KEY", settings.blind_index_key or generated["blind_index_key"]),
        signing_key=_b64("SIGNING_KEY", settings.signing_key or generated["signing_key"], 32),
    )


@lru_cache(maxsize=1)
def get_keys() -> KeyMaterial:
    return load_keys(get_settings())
