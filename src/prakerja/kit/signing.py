"""Ed25519 signatures for published artefacts (lottery, certificates)."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from prakerja.kit.keys import get_keys


def private_key(raw: bytes | None = None) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(raw if raw is not None else get_keys().signing_key)


def public_key_pem(key: Ed25519PrivateKey | None = None) -> bytes:
    key = key or private_key()
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
