"""The program-office console menu; each capability adds its entry, with the roles that may use it."""

from __future__ import annotations

from dataclasses import dataclass

from prakerja.auth.models import PMO_ROLES, Role


@dataclass(frozen=True)
class PmoLink:
    href: str
    title_id: str
    title_en: str
    roles: frozenset[Role] = PMO_ROLES
    """Who sees the entry: only roles whose page would not answer 403."""


_links: list[PmoLink] = [PmoLink("/pmo/pesan", "Pesan terkirim", "Sent messages")]


def add_link(link: PmoLink) -> None:
    if link not in _links:
        _links.append(link)


def links(role: Role | None = None) -> list[PmoLink]:
    """Every entry, or those the role may open."""
    return [link for link in _links if role is None or role in link.roles]
