"""A fixed wave for the byte-for-byte regression tests: every input derived from a counter, so that the same code
gives the same published files on any machine, and a faster implementation must give them too."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from prakerja import lottery

WAVE_ID = "01930000-0000-7000-8000-00000000beef"
SCHEME = "2023-normal"
SOURCE = "drand quicknet"
REFERENCE = "drand/quicknet/round/31415926"
SEED_HEX = hashlib.sha256(b"prakerja golden seed").hexdigest()
COMMITTED_AT = datetime(2026, 3, 8, 9, 30, 15, tzinfo=UTC)
SIGNING_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"prakerja golden signing key").digest())

STRATA = [f"{p}{r:02d}" for p in (11, 32, 33, 35, 91) for r in range(1, 9)] + ["32", "9", "35"]
"""40 regencies and three short codes ("32" sorts before "3201", "9" after every "3..."), unevenly filled."""


def secret(i: int) -> bytes:
    return hashlib.sha256(b"prakerja golden entry " + i.to_bytes(4, "big")).digest()


def entries(count: int) -> list[lottery.Entry]:
    """``count`` entries: stratum i-dependent and skewed, tiers 0..3 (few in tier 0), unsorted input order."""
    made = []
    for i in range(count):
        h = hashlib.sha256(b"shape" + i.to_bytes(4, "big")).digest()
        stratum = STRATA[(h[0] * len(STRATA) * h[1]) // (256 * 256)]
        tier = (0, 1, 1, 1, 2, 2, 3, 1)[h[2] % 8]
        made.append(lottery.Entry(lottery.entry_hash(WAVE_ID, secret(i)), stratum, tier))
    return made


def quotas(made: list[lottery.Entry]) -> dict[str, int]:
    """Every case of section 5: quota 0, inside tier 0, inside a later tier, exactly the count, more than the
    count, a quota for a stratum without entries; one stratum with entries but no quota at all."""
    counts: dict[str, int] = {}
    for e in made:
        counts[e.stratum] = counts.get(e.stratum, 0) + 1
    table = {}
    for n, code in enumerate(sorted(counts)):
        if code == "9101":
            continue
        table[code] = [0, 1, counts[code] // 3, counts[code] // 2 + 1, counts[code], counts[code] + 7][n % 6]
    table["9999"] = 12
    return table
