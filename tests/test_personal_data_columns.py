"""Invariant 4: every column that holds personal data is encrypted (or is a keyed blind index / hash of it).

The check reads the models' metadata, so a new domain's plaintext NIK or phone column fails here before it ships.
"""

from __future__ import annotations

import re

from sqlalchemy import LargeBinary

from prakerja.kit.pii import Encrypted
from prakerja.models import Base

PERSONAL = re.compile(
    r"(^|_)(nik|kk|full_name|display_name|mother|email|phone|birth|address|account_number|photo|ktp)($|_)"
)
DERIVED_SUFFIXES = ("_index", "_hash", "_bidx", "_verified_at", "_masked", "_last4", "_ref", "_id", "_kind", "_path")


def test_personal_columns_are_encrypted() -> None:
    plaintext = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            name = column.name
            if not PERSONAL.search(name) or column.info.get("not_personal"):
                continue
            if isinstance(column.type, Encrypted):
                continue
            if name.endswith(DERIVED_SUFFIXES) and (isinstance(column.type, LargeBinary) or name.endswith("_id")):
                continue
            if name.endswith(("_verified_at", "_path")):
                continue
            plaintext.append(f"{table.name}.{name} ({column.type})")
    assert plaintext == [], "personal data stored in plaintext: " + ", ".join(plaintext)
