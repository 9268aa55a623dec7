"""Personal data at rest: AES-256-GCM with a key id (rotation), and a keyed blind index for equality look-ups.

Stored form: ``b"\\x01" + len(kid) + kid + nonce(12) + ciphertext||tag``. The associated data binds a value
to its column (``context``), so a ciphertext copied into another column does not decrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import unicodedata
from functools import lru_cache
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import LargeBinary
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from prakerja.kit.keys import KeyMaterial, get_keys

_VERSION = 1


class PiiError(Exception):
    pass


@lru_cache(maxsize=64)
def _cipher(key: bytes) -> AESGCM:
    """One cipher object per key (building it is most of the cost of a small encryption)."""
    return AESGCM(key)


def encrypt(plaintext: str, context: str, keys: KeyMaterial | None = None) -> bytes:
    keys = keys or get_keys()
    kid = keys.pii_active_key.encode()
    nonce = os.urandom(12)
    sealed = _cipher(keys.pii_keys[keys.pii_active_key]).encrypt(nonce, plaintext.encode(), context.encode())
    return bytes([_VERSION, len(kid)]) + kid + nonce + sealed


def key_id_of(blob: bytes) -> str:
    if len(blob) < 2 or blob[0] != _VERSION:
        raise PiiError("unknown ciphertext format")
    return blob[2 : 2 + blob[1]].decode()


def decrypt(blob: bytes, context: str, keys: KeyMaterial | None = None) -> str:
    keys = keys or get_keys()
    kid = key_id_of(blob)
    if kid not in keys.pii_keys:
        raise PiiError(f"personal-data key {kid!r} is not configured")
    start = 2 + blob[1]
    nonce, sealed = blob[start : start + 12], blob[start + 12 :]
    try:
        return _cipher(keys.pii_keys[kid]).decrypt(nonce, sealed, context.encode()).decode()
    except InvalidTag:
        raise PiiError("personal data failed authentication") from None


def normalise(value: str) -> str:
    """The form equality is decided on: NFKC, trimmed, case-folded, inner spaces collapsed."""
    return " ".join(unicodedata.normalize("NFKC", value).casefold().split())


def blind_index(value: str, context: str, keys: KeyMaterial | None = None) -> bytes:
    """HMAC-SHA256 over the normalised value, domain-separated by ``context`` (e.g. ``"nik"``)."""
    keys = keys or get_keys()
    message = context.encode() + b"\x00" + normalise(value).encode()
    return hmac.digest(keys.blind_index_key, message, hashlib.sha256)


def mask(value: str, visible: int = 4) -> str:
    """What pages show: ``3201********0001`` style, keeping the last ``visible`` characters."""
    if len(value) <= visible:
        return "*" * len(value)
    return "*" * (len(value) - visible) + value[-visible:]


class Encrypted(TypeDecorator[str]):
    """A column holding one personal field, encrypted on write and decrypted on read."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, context: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.context = context

    def process_bind_param(self, value: str | None, dialect: Dialect) -> bytes | None:
        if value is None:
            return None
        return encrypt(value, self.context)

    def process_result_value(self, value: bytes | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return decrypt(bytes(value), self.context)

    def copy(self, **kw: Any) -> Encrypted:
        return Encrypted(self.context)
