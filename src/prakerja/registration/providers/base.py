"""The civil-registry interface: given the identity an applicant declared, what does the registry say?"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol


class RegistryOutcome(enum.StrEnum):
    """The registry's verdict (the values match :class:`prakerja.registration.models.IdentityStatus`)."""

    matched = "matched"
    name_mismatch = "name_mismatch"
    mother_name_mismatch = "mother_name_mismatch"
    nik_kk_mismatch = "nik_kk_mismatch"
    birth_date_mismatch = "birth_date_mismatch"
    not_found = "not_found"
    deceased = "deceased"


@dataclass(frozen=True)
class IdentityQuery:
    nik: str
    kk: str
    full_name: str
    mother_maiden_name: str
    birth_date: str
    """ISO date."""

    def __repr__(self) -> str:  # never print personal data by accident
        return "IdentityQuery(<redacted>)"


class RegistryUnavailable(Exception):
    """No usable answer now (timeout, outage, open circuit, malformed answer): try again later.

    ``code`` is one of ``timeout``, ``unavailable``, ``circuit_open``, ``bad_answer``; never personal data."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class CivilRegistry(Protocol):
    def verify(self, query: IdentityQuery) -> RegistryOutcome:
        """The registry's verdict, or :class:`RegistryUnavailable`."""
        ...
