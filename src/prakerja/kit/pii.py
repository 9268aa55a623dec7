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


class Sealer:
    """:func:`encrypt` for many values at once (bulk imports): the cipher, the key-id prefix and the column contexts
    are looked up once, and nonces are drawn from ``os.urandom`` in blocks instead of one call per value. Same stored
    form, same key, random 96-bit nonces as before. Make one per process (never share one across a ``fork``: two
    processes would hand out the same nonces)."""

    _BLOCK = 12 * 2048

    def __init__(self, keys: KeyMaterial | None = None) -> None:
        keys = keys or get_keys()
        kid = keys.pii_active_key.encode()
        self._prefix = bytes([_VERSION, len(kid)]) + kid
        self._encrypt = _cipher(keys.pii_keys[keys.pii_active_key]).encrypt
        self._nonces = b""
        self._at = 0
        self._pid = os.getpid()

    def seal(self, plaintext: str, context: bytes) -> bytes:
        """``encrypt(plaintext, context.decode())``; ``context`` already encoded."""
        at = self._at
        if at + 12 > len(self._nonces):
            if os.getpid() != self._pid:
                raise PiiError("a Sealer was inherited across a fork; make one per process")
            self._nonces, at = os.urandom(self._BLOCK), 0
        nonce = self._nonces[at : at + 12]
        self._at = at + 12
        return self._prefix + nonce + self._encrypt(nonce, plaintext.encode(), context)

    def seal_column(self, plaintexts: list[str], context: bytes) -> list[bytes]:
        """:meth:`seal` of every value of one column: the same stored form, each value with its own fresh nonce."""
        nonces, sealed = self.seal_column_parts(plaintexts, context)
        prefix = self._prefix
        return [b"".join((prefix, nonce, box)) for nonce, box in zip(nonces, sealed, strict=True)]

    @property
    def prefix(self) -> bytes:
        """What every stored value starts with (format version and key id), before its nonce."""
        return self._prefix

    def seal_column_parts(self, plaintexts: list[str], context: bytes) -> tuple[list[bytes], list[bytes]]:
        """:meth:`seal_column` in parts, for callers that join bytes anyway (bulk COPY): each value's nonce
        (fresh, drawn together from ``os.urandom``) and its ciphertext with tag; the stored value is
        :attr:`prefix` + nonce + ciphertext."""
        if os.getpid() != self._pid:
            raise PiiError("a Sealer was inherited across a fork; make one per process")
        block = os.urandom(12 * len(plaintexts))
        nonces = [block[i : i + 12] for i in range(0, len(block), 12)]
        encrypt = self._encrypt
        boxes = [encrypt(nonce, value.encode(), context) for nonce, value in zip(nonces, plaintexts, strict=True)]
        return nonces, boxes


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
    if value.isdigit() and value.isascii():
        return value  # numbers (NIK, KK, phone digits) are their own normal form
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
