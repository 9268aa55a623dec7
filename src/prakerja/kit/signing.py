"""Ed25519 signatures for published artefacts (lottery, certificates)."""

from __future__ import annotations

import base64

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from prakerja.kit.keys import get_keys


def private_key(raw: bytes | None = None) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(raw if raw is not None else get_keys().signing_key)


def public_key_pem(key: Ed25519PrivateKey | None = None) -> bytes:
    key = key or private_key()
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def sign_b64(data: bytes, key: Ed25519PrivateKey | None = None) -> str:
    key = key or private_key()
    return base64.b64encode(key.sign(data)).decode()


def verify_b64(data: bytes, signature_b64: str, public_pem: bytes) -> bool:
    try:
        public = serialization.load_pem_public_key(public_pem)
        if not isinstance(public, Ed25519PublicKey):
            return False
        public.verify(base64.b64decode(signature_b64.strip(), validate=True), data)
    except (InvalidSignature, ValueError):
        return False
    return True
