"""The partner domain's use cases. Takes a session; never commits.

Organisations and credentials: create, issue and rotate keys, revoke, suspend (the program office's pages and
the ``prakerja partner`` commands); every change is written to the audit log with the officer (or the system, from
the command line) as actor. Who is calling the partner API: the signature check of contract section 1."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.kit.clock import utcnow
from prakerja.kit.ids import parse_id
from prakerja.partners import repository, rules
from prakerja.partners.errors import (
    BadSignature,
    CredentialAlreadyRevoked,
    CredentialNotFound,
    CredentialRevoked,
    MissingSignature,
    PartnerDelisted,
    PartnerInvalid,
    PartnerNameTaken,
    PartnerNotFound,
    ReplayedRequest,
    StaleTimestamp,
    StatusReasonRequired,
    UnknownClient,
)
from prakerja.partners.models import (
    PartnerCredential,
    PartnerKey,
    PartnerOrganisation,
    PartnerRole,
    PartnerStatus,
)

__all__ = [
    "CredentialView",
    "IssuedKey",
    "KeyView",
    "PartnerCaller",
    "PartnerRole",
    "PartnerStatus",
    "PartnerView",
    "SigningCredential",
    "SigningKey",
    "authenticate",
    "create_partner",
    "find_partner",
    "issue_key",
    "overview",
    "precheck",
    "purge_seen_signatures",
    "remember",
    "revoke_credential",
    "revoke_key",
    "set_status",
    "signing_credential",
]

KEY_BYTES = 32


@dataclass(frozen=True)
class IssuedKey:
    """What the officer hands to the partner, once: the secret is never shown again."""

    partner_id: uuid.UUID
    credential_id: uuid.UUID
    client_code: str
    key_id: uuid.UUID
    secret: str


@dataclass(frozen=True)
class SigningKey:
    id: uuid.UUID
    secret: bytes
    """The HMAC key: the UTF-8 bytes of the key as the partner was given it."""
    revoked: bool


@dataclass(frozen=True)
class SigningCredential:
    """What the partner API needs to check one request's signature and role."""

    credential_id: uuid.UUID
    client_code: str
    partner_id: uuid.UUID
    partner_name: str
    role: PartnerRole
    usable: bool
    """False when the organisation is suspended or the credential revoked."""
    keys: tuple[SigningKey, ...]


@dataclass(frozen=True)
class KeyView:
    id: uuid.UUID
    created_at: str
    revoked: bool


@dataclass(frozen=True)
class CredentialView:
    id: uuid.UUID
    client_code: str
    label: str
    revoked: bool
    keys: tuple[KeyView, ...]

    @property
    def active_keys(self) -> int:
        return sum(1 for k in self.keys if not k.revoked)


@dataclass(frozen=True)
class PartnerView:
    id: uuid.UUID
    name: str
    role: PartnerRole
    status: PartnerStatus
    credentials: tuple[CredentialView, ...]


def new_secret() -> str:
    """32 random bytes, URL-safe base64 without padding (43 characters): easy to paste into a config file."""
    return secrets.token_urlsafe(KEY_BYTES)


def new_client_code(role: PartnerRole) -> str:
    return f"{role.value[:3]}_{secrets.token_hex(8)}"


def create_partner(session: Session, *, name: str, role: str, actor: audit.Actor) -> PartnerOrganisation:
    name = " ".join(name.split())
    problems = {}
    if not 2 <= len(name) <= 200 or any(c in name for c in "<>"):
        problems["name"] = "2-200 characters, no < or >"
    if role not in PartnerRole.__members__:
        problems["role"] = f"one of {', '.join(PartnerRole)}"
    if problems:
        raise PartnerInvalid(details={"fields": problems})
    if repository.partner_by_name(session, name) is not None:
        raise PartnerNameTaken(details={"field": "name"})
    partner = PartnerOrganisation(name=name, role=PartnerRole(role), status=PartnerStatus.active)
    repository.add(session, partner)
    audit.record(session, actor, "auth.partner_created", "partner", partner.id, data={"name": name, "role": role})
    return partner


def find_partner(session: Session, ref: str) -> PartnerOrganisation:
    """By id or by exact name (the command line takes either)."""
    partner_id = parse_id(ref)
    found = repository.partner(session, partner_id) if partner_id else repository.partner_by_name(session, ref)
    if found is None:
        raise PartnerNotFound()
    return found


def issue_key(
    session: Session, *, partner_id: uuid.UUID, actor: audit.Actor, client_code: str | None = None, label: str = ""
) -> IssuedKey:
    """A new key. Without ``client_code``: a new credential with its first key. With it: one more key for that
    credential (rotation: the old key keeps working until it is revoked)."""
    partner = repository.partner(session, partner_id)
    if partner is None:
        raise PartnerNotFound()
    if client_code:
        credential = repository.credential_by_code(session, client_code, lock=True)
        if credential is None or credential.partner_id != partner.id:
            raise CredentialNotFound(details={"field": "client_code"})
        if credential.revoked_at is not None:
            raise CredentialAlreadyRevoked(details={"client_code": client_code})
        action = "auth.partner_key_rotated"
    else:
        label = " ".join(label.split())[:200]
        credential = PartnerCredential(partner_id=partner.id, client_code=new_client_code(partner.role), label=label)
        repository.add(session, credential)
        action = "auth.partner_credential_issued"
    secret = new_secret()
    key = PartnerKey(credential_id=credential.id, secret=secret, issued_by=actor.id)
    repository.add(session, key)
    audit.record(
        session,
        actor,
        action,
        "partner_credential",
        credential.id,
        data={"partner_id": str(partner.id), "client_code": credential.client_code, "key_id": str(key.id)},
    )
    return IssuedKey(
        partner_id=partner.id,
        credential_id=credential.id,
        client_code=credential.client_code,
        key_id=key.id,
        secret=secret,
    )


def revoke_key(session: Session, *, key_id: uuid.UUID, actor: audit.Actor, reason: str = "") -> PartnerKey:
    key = repository.key(session, key_id, lock=True)
    if key is None:
        raise CredentialNotFound()
    if key.revoked_at is not None:
        raise CredentialAlreadyRevoked(details={"key_id": str(key_id)})
    key.revoked_at, key.revoked_by, key.revoked_reason = utcnow(), actor.id, reason[:500]
    session.flush()
    audit.record(
        session,
        actor,
        "auth.partner_key_revoked",
        "partner_credential",
        key.credential_id,
        reason=reason[:500],
        data={"key_id": str(key.id)},
    )
    return key


def revoke_credential(session: Session, *, client_code: str, actor: audit.Actor, reason: str = "") -> PartnerCredential:
    """Revoke the credential and every key under it."""
    credential = repository.credential_by_code(session, client_code, lock=True)
    if credential is None:
        raise CredentialNotFound(details={"field": "client_code"})
    if credential.revoked_at is not None:
        raise CredentialAlreadyRevoked(details={"client_code": client_code})
    now = utcnow()
    credential.revoked_at = now
    for key in repository.keys_of(session, [credential.id]):
        if key.revoked_at is None:
            key.revoked_at, key.revoked_by, key.revoked_reason = now, actor.id, reason[:500]
    session.flush()
    audit.record(
        session,
        actor,
        "auth.partner_credential_revoked",
        "partner_credential",
        credential.id,
        reason=reason[:500],
        data={"client_code": client_code},
    )
    return credential


def set_status(
    session: Session, *, partner_id: uuid.UUID, status: str, actor: audit.Actor, reason: str = ""
) -> PartnerOrganisation:
    """Suspend (every request refused), reactivate (designated again) or delist (final: every request refused, no
    change afterwards) an organisation. Delisting needs a reason."""
    if status not in PartnerStatus.__members__:
        raise PartnerInvalid(details={"fields": {"status": f"one of {', '.join(PartnerStatus)}"}})
    reason = " ".join(reason.split())[:500]
    partner = repository.partner(session, partner_id, lock=True)
    if partner is None:
        raise PartnerNotFound()
    if partner.status == PartnerStatus.delisted:
        raise PartnerDelisted()
    if status == PartnerStatus.delisted and not reason:
        raise StatusReasonRequired(details={"field": "reason"})
    if rules.status_change_allowed(partner.status.value, status):
        previous = partner.status
        partner.status, partner.status_changed_at, partner.status_reason = PartnerStatus(status), utcnow(), reason
        session.flush()
        action = {
            PartnerStatus.suspended: "auth.partner_suspended",
            PartnerStatus.delisted: "auth.partner_delisted",
        }.get(PartnerStatus(status), "auth.partner_reactivated")
        audit.record(
            session, actor, action, "partner", partner.id, reason=reason, data={"previous_status": previous.value}
        )
    return partner


def overview(session: Session) -> list[PartnerView]:
    """Every organisation with its credentials and keys (no secrets), for the console and the command line."""
    partners = repository.partners(session)
    credentials = repository.credentials_of(session, [p.id for p in partners])
    keys = repository.keys_of(session, [c.id for c in credentials])
    keys_by: dict[uuid.UUID, list[KeyView]] = {}
    for k in keys:
        keys_by.setdefault(k.credential_id, []).append(
            KeyView(id=k.id, created_at=k.created_at.strftime("%Y-%m-%d %H:%M"), revoked=k.revoked_at is not None)
        )
    creds_by: dict[uuid.UUID, list[CredentialView]] = {}
    for c in credentials:
        creds_by.setdefault(c.partner_id, []).append(
            CredentialView(
                id=c.id,
                client_code=c.client_code,
                label=c.label,
                revoked=c.revoked_at is not None,
                keys=tuple(keys_by.get(c.id, ())),
            )
        )
    return [
        PartnerView(id=p.id, name=p.name, role=p.role, status=p.status, credentials=tuple(creds_by.get(p.id, ())))
        for p in partners
    ]


def signing_credential(session: Session, client_code: str) -> SigningCredential | None:
    """The credential behind a ``client_code`` header with its keys (revoked ones too, so a request signed with
    a revoked key is told so rather than told its signature is wrong)."""
    found = repository.signing_rows(session, client_code)
    if found is None:
        return None
    credential, partner, keys = found
    return SigningCredential(
        credential_id=credential.id,
        client_code=credential.client_code,
        partner_id=partner.id,
        partner_name=partner.name,
        role=partner.role,
        usable=partner.status == PartnerStatus.active and credential.revoked_at is None,
        keys=tuple(
            SigningKey(
                id=k.id, secret=k.secret.encode(), revoked=k.revoked_at is not None or credential.revoked_at is not None
            )
            for k in keys
        ),
    )


# --- the signed API: who is calling -------------------------------------------------------------------------


@dataclass(frozen=True)
class PartnerCaller:
    """An authenticated partner request."""

    credential_id: uuid.UUID
    client_code: str
    key_id: uuid.UUID
    partner_id: uuid.UUID
    partner_name: str
    role: PartnerRole
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
    found = signing_credential(session, client_code) if len(client_code) <= 64 else None
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
