"""Partner organisations (institutions, platforms) as the catalogue sees them. The ONE module that calls the
module owning partner organisations (``partners.service``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.kit.errors import NotFound
from prakerja.partners import service as partners

if TYPE_CHECKING:
    import asyncpg

INSTITUTION = "institution"
PLATFORM = "platform"


@dataclass(frozen=True)
class Organisation:
    id: uuid.UUID
    name: str
    role: str
    """``institution``, ``platform``, ... (the partner API role)."""
    active: bool


def get(session: Session, partner_id: uuid.UUID) -> Organisation | None:
    try:
        found = partners.find_partner(session, str(partner_id))
    except NotFound:
        return None
    return Organisation(found.id, found.name, found.role.value, found.status.value == "active")


def every(session: Session, role: str | None = None) -> list[Organisation]:
    """Every organisation (of one role), by name."""
    found = [Organisation(p.id, p.name, p.role.value, p.status.value == "active") for p in partners.overview(session)]
    return sorted((o for o in found if role is None or o.role == role), key=lambda o: o.name)


def names_of(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The names of these organisations only (one query; ``names`` reads every organisation and its keys)."""
    return partners.partner_names(session, ids)


async def names_of_on_loop(conn: asyncpg.Connection, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """``names_of`` on a loop connection (``db.on_loop``, ADR 0014): the same answer, no ``Session``."""
    return await partners.partner_names_on_loop(conn, ids)


def names(session: Session) -> dict[uuid.UUID, str]:
    return {o.id: o.name for o in every(session)}


def ensure(session: Session, *, name: str, role: str, actor: audit.Actor) -> Organisation:
    """The organisation with this name, created when missing (demo data)."""
    try:
        found = partners.find_partner(session, name)
    except NotFound:
        found = partners.create_partner(session, name=name, role=role, actor=actor)
    return Organisation(found.id, found.name, found.role.value, found.status.value == "active")
