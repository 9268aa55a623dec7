"""Multibase base58btc (``z...``) and the Multikey encodings of Ed25519 keys (multicodec ``0xed01`` public,
``0x8026`` private), as the Data Integrity EdDSA Cryptosuites v1.0 specification uses them."""

from __future__ import annotations

_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_INDEX = {char: value for value, char in enumerate(_ALPHABET)}
ED25519_PUB = b"\xed\x01"
ED25519_PRIV = b"\x80\x26"


class MultibaseError(ValueError):
    """Not a base58btc multibase value, or not the expected key type."""


def b58encode(data: bytes) -> str:
    number = int.from_bytes(data, "big")
    out = []
    while number:
        number, rest = divmod(number, 58)
        out.append(_ALPHABET[rest])
    zeros = len(data) - len(data.lstrip(b"\0"))
    return "1" * zeros + "".join(reversed(out))


def b58decode(text: str) -> bytes:
    number = 0
    for char in text:
        if char not in _INDEX:
            raise MultibaseError("not base58btc")
        number = number * 58 + _INDEX[char]
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def encode(data: bytes) -> str:
    return "z" + b58encode(data)


def decode(value: str) -> bytes:
    if not isinstance(value, str) or not value.startswith("z") or len(value) < 2:
        raise MultibaseError("expected a base58btc multibase value (z...)")
    return b58decode(value[1:])


def public_key_multibase(raw_public: bytes) -> str:
    if len(raw_public) != 32:
        raise MultibaseError("an Ed25519 public key has 32 bytes")
    return encode(ED25519_PUB + raw_public)


def public_key_from_multibase(value: str) -> bytes:
    data = decode(value)
    if not data.startswith(ED25519_PUB) or len(data) != 34:
        raise MultibaseError("not an Ed25519 Multikey public key")
    return data[2:]


def private_key_from_multibase(value: str) -> bytes:
    data = decode(value)
    if not data.startswith(ED25519_PRIV) or len(data) != 34:
        raise MultibaseError("not an Ed25519 Multikey secret key")
    return data[2:]
