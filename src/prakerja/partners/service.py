"""Who is calling the partner API: the signature check of contract section 1. Takes a session; never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.auth.service import partner_credentials as credentials
from prakerja.kit.clock import utcnow
from prakerja.partners import repository, rules
from prakerja.partners.errors import (
    BadSignature,
    CredentialRevoked,
    MissingSignature,
    ReplayedRequest,
    StaleTimestamp,
    UnknownClient,
)

PartnerRole = credentials.PartnerRole


@dataclass(frozen=True)
class PartnerCaller:
    """An authenticated partner request."""

    credential_id: uuid.UUID
    client_code: str
    key_id: uuid.UUID
    partner_id: uuid.UUID
    partner_name: str
    role: credentials.PartnerRole
    timestamp: int
    signature: str

    @property
    def actor(self) -> audit.Actor:
        """Audit entries name the credential that signed the request (the ``partner:<role>`` role)."""
        return audit.Actor(id=self.credential_id, role=f"partner:{self.role.value}")

    @property
    def idempotency_scope(self) -> str:
        return f"partner:{self.credential_id}"


def precheck(*, client_code: str | None, timestamp: str | None, signature: str | None) -> int:
    """What can be refused before the body is read: missing headers, then a timestamp outside the window.
    Returns the timestamp."""
    missing = [
        name
        for name, value in (("client_code", client_code), ("timestamp", timestamp), ("signature", signature))
        if not value
    ]
    if missing:
        raise MissingSignature(details={"missing": missing})
    now = utcnow()
    sent_at = rules.parse_timestamp(timestamp or "")
    if sent_at is None or not rules.fresh(sent_at, now):
        raise StaleTimestamp(details={"server_time": int(now.timestamp())})
    return sent_at


def authenticate(
    session: Session,
    *,
    client_code: str | None,
    timestamp: str | None,
    signature: str | None,
    method: str,
    path: str | bytes,
    body: bytes,
) -> PartnerCaller:
    """Check the three headers against the credential's keys. Order: missing headers, stale timestamp, unknown
    client, wrong signature, revoked key or suspended partner. Replays are checked by :func:`remember`."""
    sent_at = precheck(client_code=client_code, timestamp=timestamp, signature=signature)
    assert client_code is not None and timestamp is not None and signature is not None
    found = credentials.signing_credential(session, client_code) if len(client_code) <= 64 else None
    if found is None:
        raise UnknownClient()
    matched = None
    if rules.well_formed_signature(signature):
        for key in found.keys:
            # every key is tried, so the time taken does not say which one matched
            if rules.matches(rules.sign(key.secret, client_code, timestamp, method, path, body), signature):
                matched = key
    if matched is None:
        raise BadSignature()
    if matched.revoked or not found.usable:
        raise CredentialRevoked()
    return PartnerCaller(
        credential_id=found.credential_id,
        client_code=found.client_code,
        key_id=matched.id,
        partner_id=found.partner_id,
        partner_name=found.partner_name,
        role=found.role,
        timestamp=sent_at,
        signature=signature,
    )


def remember(session: Session, caller: PartnerCaller) -> None:
    """Record the request's signature; a signature seen before within the window is a replay. Call it in a
    transaction of its own that commits at once, so a refused or failed request still counts."""
    expires_at = datetime.fromtimestamp(caller.timestamp, UTC) + rules.WINDOW
    if not repository.remember(session, caller.credential_id, bytes.fromhex(caller.signature), expires_at):
        raise ReplayedRequest()


def purge_seen_signatures(session: Session) -> int:
    return repository.purge(session, utcnow())
