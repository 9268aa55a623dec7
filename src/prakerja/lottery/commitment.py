"""Contract section 3: ``commitment.json`` in RFC 8785, its signature file and the public key file."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import rfc8785
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from prakerja.lottery.entries import is_count, is_stratum
from prakerja.lottery.errors import LotteryError

ALGORITHM = "prakerja-lottery-v1"


def format_timestamp(moment: datetime) -> str:
    """RFC 3339, UTC, whole seconds (truncated), ``Z``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise LotteryError("timestamp_invalid", "committed_at must carry a time zone")
    t = moment.astimezone(UTC)
    return f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:{t.second:02d}Z"


def checked_quotas(quotas: Mapping[str, int]) -> dict[str, int]:
    for code, quota in quotas.items():
        if not is_stratum(code):
            raise LotteryError("stratum_invalid", f"stratum must be digits only: {code!r}")
        if not is_count(quota):
            raise LotteryError("quota_invalid", f"quota of stratum {code} must be an integer >= 0: {quota!r}")
    return dict(quotas)


def commitment_json(
    *,
    wave_id: str,
    scheme: str,
    quotas: Mapping[str, int],
    eligible_count: int,
    merkle_root: bytes,
    randomness_source: str,
    randomness_reference: str,
    committed_at: datetime,
) -> bytes:
    """Section 3, canonicalised with RFC 8785 (no trailing newline: any extra byte breaks canonical form)."""
    if len(merkle_root) != 32:
        raise LotteryError("merkle_root_invalid", "merkle_root is a 32-byte SHA-256 value")
    if not is_count(eligible_count):
        raise LotteryError("eligible_count_invalid", "eligible_count must be an integer >= 0")
    checked = checked_quotas(quotas)
    document: dict[str, Any] = {
        "algorithm": ALGORITHM,
        "wave_id": wave_id,
        "scheme": scheme,
        "strata": [{"code": code, "quota": checked[code]} for code in sorted(checked)],
        "eligible_count": eligible_count,
        "merkle_root": merkle_root.hex(),
        "randomness": {"source": randomness_source, "reference": randomness_reference},
        "committed_at": format_timestamp(committed_at),
    }
    return rfc8785.dumps(document)


def signature_file(commitment: bytes, key: Ed25519PrivateKey) -> bytes:
    """``commitment.sig``: standard padded base64 of the Ed25519 signature, one line ending in LF."""
    return base64.b64encode(key.sign(commitment)) + b"\n"


def public_key_pem(key: Ed25519PrivateKey) -> bytes:
    """``public-key.pem``: SubjectPublicKeyInfo PEM."""
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
