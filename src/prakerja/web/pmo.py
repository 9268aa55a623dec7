"""The program-office console menu; each capability adds its entry."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PmoLink:
    href: str
    title_id: str
    title_en: str


_links: list[PmoLink] = [PmoLink("/pmo/pesan", "Pesan terkirim", "Sent messages")]


def add_link(link: PmoLink) -> None:
    if link not in _links:
        _links.append(link)


def links() -> list[PmoLink]:
    return list(_links)
