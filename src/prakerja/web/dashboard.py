"""The participant dashboard frame. Each capability fills its section by registering a provider, which reads on
the request's session (one transaction for the whole page, committed or rolled back at the boundary)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from prakerja.auth.service import CurrentAccount


@dataclass
class Section:
    key: str
    title_id: str
    title_en: str
    lines: list[str] = field(default_factory=list)
    """Filled by the capability that owns the section; empty means "nothing yet"."""
    link: str | None = None


SECTION_ORDER = [
    ("profile", "Profil", "Profile"),
    ("wave", "Status gelombang", "Wave status"),
    ("card", "Kartu & saldo", "Card & balance"),
    ("trainings", "Pelatihan", "Trainings"),
    ("certificates", "Sertifikat", "Certificates"),
    ("incentives", "Insentif", "Incentives"),
    ("surveys", "Survei", "Surveys"),
    ("complaints", "Pengaduan", "Complaints"),
]

Provider = Callable[[Session, CurrentAccount, Section], None]
_providers: dict[str, Provider] = {}


def register(key: str, provider: Provider) -> None:
    """A capability registers how it fills its section (e.g. the ledger fills ``card``)."""
    if key not in {k for k, _, _ in SECTION_ORDER}:
        raise ValueError(f"unknown dashboard section {key!r}")
    _providers[key] = provider


def sections_for(session: Session, account: CurrentAccount) -> list[Section]:
    sections = []
    for key, title_id, title_en in SECTION_ORDER:
        section = Section(key=key, title_id=title_id, title_en=title_en)
        provider = _providers.get(key)
        if provider is not None:
            provider(session, account, section)
        sections.append(section)
    return sections
