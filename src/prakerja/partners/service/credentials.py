"""The partner domain's use cases. Takes a session; never commits.

Organisations and credentials: create, issue and rotate keys, revoke, suspend (the program office's pages and
the ``prakerja partner`` commands); every change is written to the audit log with the officer (or the system, from
the command line) as actor. Who is calling the partner API: the signature check of contract section 1."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.idempotency import service as idempotency
from prakerja.kit.clock import JAKARTA, utcnow
from prakerja.kit.ids import parse_id
from prakerja.kit.text import invisible_characters
from prakerja.partners import repository, rules
from prakerja.partners.errors import (
    BadSignature,
    CredentialAlreadyRevoked,
    CredentialNotFound,
    CredentialRevoked,
    ListSourceNotAllowed,
    ListTypeNotAllowed,
    MissingSignature,
    PartnerDelisted,
    PartnerInvalid,
    PartnerNameTaken,
    PartnerNotFound,
    PartnerRateLimited,
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
from prakerja.registration.models import EXCLUSION_TYPES, WHITELIST_TYPES

__all__ = [
    "AdmitAgain",
    "CredentialView",
    "IssuedKey",
    "KeyView",
    "PartnerCaller",
    "PartnerRole",
    "PartnerStatus",
    "PartnerView",
    "PendingAdmission",
    "SigningCredential",
    "SigningKey",
    "admission_part",
    "admit",
    "admit_on_loop",
    "allowed_list_source",
    "authenticate",
    "count_request",
    "create_partner",
    "defer_admission",
    "find_partner",
    "forget_cached_credentials",
    "issue_key",
    "overview",
    "precheck",
    "purge_seen_signatures",
    "remember",
    "revoke_credential",
    "revoke_key",
    "run_admission",
    "set_list_scope",
    "set_status",
    "signing_credential",
    "signing_credential_on_loop",
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
    list_types: tuple[str, ...] = ()
    list_source: str = ""
    revision: str = ""
    """The rows' versions when read (``repository.revision``): a cached copy is used only while it is current."""


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
    list_types: tuple[str, ...] = ()
    list_source: str = ""


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
    if not 2 <= len(name) <= 200 or any(c in name for c in "<>") or invisible_characters(name):
        problems["name"] = "2-200 characters, no < or >, no control or invisible characters"
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


def _list_scope(list_types: Iterable[str], source: str) -> tuple[list[str], str]:
    """The list types (known ones, each once, in order) and the source name a credential may import under."""
    wanted = [t.strip() for t in list_types if t.strip()]
    source = " ".join(source.split())
    problems = {}
    unknown = [t for t in wanted if t not in (*EXCLUSION_TYPES, *WHITELIST_TYPES)]
    if unknown:
        problems["list_types"] = (
            f"unknown: {', '.join(unknown)}; one of {', '.join((*EXCLUSION_TYPES, *WHITELIST_TYPES))}"
        )
    if len(source) > 200 or any(c in source for c in "<>\x00"):
        problems["list_source"] = "at most 200 characters, no < or >"
    if wanted and not source:
        problems["list_source"] = "required with list types"
    if problems:
        raise PartnerInvalid(details={"fields": problems})
    return list(dict.fromkeys(wanted)), source


def issue_key(
    session: Session,
    *,
    partner_id: uuid.UUID,
    actor: audit.Actor,
    client_code: str | None = None,
    label: str = "",
    list_types: Iterable[str] = (),
    list_source: str = "",
) -> IssuedKey:
    """A new key. Without ``client_code``: a new credential with its first key, allowed to import
    ``list_types`` under ``list_source`` (ministries; nothing when empty). With it: one more key for that
    credential (rotation: the old key keeps working until it is revoked; its scope is unchanged)."""
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
        types, source = _list_scope(list_types, list_source)
        credential = PartnerCredential(
            partner_id=partner.id,
            client_code=new_client_code(partner.role),
            label=label,
            list_types=types,
            list_source=source,
        )
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
        data={
            "partner_id": str(partner.id),
            "client_code": credential.client_code,
            "key_id": str(key.id),
            "list_types": list(credential.list_types),
            "list_source": credential.list_source,
        },
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


def set_list_scope(
    session: Session, *, client_code: str, list_types: Iterable[str], list_source: str, actor: audit.Actor
) -> PartnerCredential:
    """Which lists a credential may import, and under which source name (replaces the previous scope)."""
    credential = repository.credential_by_code(session, client_code, lock=True)
    if credential is None:
        raise CredentialNotFound(details={"field": "client_code"})
    types, source = _list_scope(list_types, list_source)
    before = {"list_types": list(credential.list_types), "list_source": credential.list_source}
    credential.list_types, credential.list_source = types, source
    session.flush()
    audit.record(
        session,
        actor,
        "auth.partner_list_scope_set",
        "partner_credential",
        credential.id,
        data={"client_code": client_code, "before": before, "list_types": types, "list_source": source},
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
            KeyView(
                id=k.id,
                created_at=k.created_at.astimezone(JAKARTA).strftime("%Y-%m-%d %H:%M WIB"),
                revoked=k.revoked_at is not None,
            )
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
                list_types=tuple(c.list_types),
                list_source=c.list_source,
            )
        )
    return [
        PartnerView(id=p.id, name=p.name, role=p.role, status=p.status, credentials=tuple(creds_by.get(p.id, ())))
        for p in partners
    ]


def partner_names(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The names of these organisations by id, in one query (unknown ids are left out)."""
    return repository.partner_names(session, ids)


async def partner_names_on_loop(conn: asyncpg.Connection, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """``partner_names`` on a loop connection (``db.on_loop``, ADR 0014): the same answer, no ``Session``."""
    return await repository.partner_names_on_loop(conn, ids)


def signing_credential(session: Session, client_code: str) -> SigningCredential | None:
    """The credential behind a ``client_code`` header with its keys (revoked ones too, so a request signed with
    a revoked key is told so rather than told its signature is wrong)."""
    revision = repository.revision(session, client_code)
    found = repository.signing_rows(session, client_code) if revision is not None else None
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
        list_types=tuple(credential.list_types),
        list_source=credential.list_source,
        revision=revision or "",
    )


async def signing_credential_on_loop(conn: asyncpg.Connection, client_code: str) -> SigningCredential | None:
    """:func:`signing_credential` in one statement on a loop connection (``db.on_loop``, ADR 0014): the same
    answer, no ``Session``."""
    row = await repository.signing_row_on_loop(conn, client_code)
    if row is None:
        return None
    return SigningCredential(
        credential_id=row.credential_id,
        client_code=row.client_code,
        partner_id=row.partner_id,
        partner_name=row.partner_name,
        role=PartnerRole[row.role],
        usable=PartnerStatus[row.status] == PartnerStatus.active and not row.credential_revoked,
        keys=tuple(
            SigningKey(id=key_id, secret=secret.encode(), revoked=revoked or row.credential_revoked)
            for key_id, secret, revoked in row.keys
        ),
        list_types=row.list_types,
        list_source=row.list_source,
        revision=row.revision,
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
    list_types: tuple[str, ...] = ()
    list_source: str = ""

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
    return _check(found, sent_at, client_code, timestamp, signature, method, path, body)


def _check(
    found: SigningCredential | None,
    sent_at: int,
    client_code: str,
    timestamp: str,
    signature: str,
    method: str,
    path: str | bytes,
    body: bytes,
) -> PartnerCaller:
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
        list_types=found.list_types,
        list_source=found.list_source,
    )


# Credentials as last read, by client code, in this process. A copy is only trusted together with the one
# statement of :func:`admit`, which writes nothing unless the credential's revision in the database is still the
# copy's; otherwise the copy is dropped and the credential read again in the same request. So a revocation or a
# suspension takes effect at the next request, as without the copy.
_credentials: dict[str, SigningCredential] = {}
_CACHE_SIZE = 4096
_ATTEMPTS = 4


def forget_cached_credentials() -> None:
    _credentials.clear()


def admit(
    session: Session,
    bookkeeping: Connection,
    *,
    client_code: str | None,
    timestamp: str | None,
    signature: str | None,
    method: str,
    path: str | bytes,
    body: bytes,
    limit_per_minute: int,
    verified: Callable[[PartnerCaller], object] | None = None,
) -> PartnerCaller:
    """:func:`authenticate`, :func:`remember` and :func:`count_request` with one round trip to the database when
    the credential is cached (two more to read it when not). ``bookkeeping`` is a connection in autocommit mode:
    the signature record and the count are committed at once, so a request that fails later still counts and
    its signature cannot be replayed. Refusals, in order: as :func:`authenticate`, then 409 ``replayed_request``,
    then 429 ``rate_limited``. ``verified`` sees the caller once its signature checked out, before a replay or the
    rate limit can refuse it (so such refusals are logged as the signed partner's)."""
    sent_at = _sent_at(client_code, timestamp, signature)
    assert client_code is not None and timestamp is not None and signature is not None
    for _ in range(_ATTEMPTS):
        cached = _credentials.get(client_code)
        found = cached if cached is not None else signing_credential(session, client_code)
        caller = _verify(found, cached, sent_at, client_code, timestamp, signature, method, path, body)
        if caller is None:
            continue
        assert found is not None
        now = utcnow()
        outcome = repository.admit(bookkeeping, **_admit_values(found, signature, sent_at, now))
        if _admitted(outcome, found, cached, caller, now, limit_per_minute, verified):
            return caller
    raise UnknownClient()  # the credential changed under every attempt (or went away): refused, nothing written


async def admit_on_loop(
    conn: asyncpg.Connection,
    *,
    client_code: str | None,
    timestamp: str | None,
    signature: str | None,
    method: str,
    path: str | bytes,
    body: bytes,
    limit_per_minute: int,
    verified: Callable[[PartnerCaller], object] | None = None,
) -> PartnerCaller:
    """:func:`admit` on one autocommit loop connection (``db.on_loop``, ADR 0014 and 0021): the same checks, the
    same refusals in the same order, the same rows; the credential read (when not cached) and the bookkeeping
    statement each one prepared statement on ``conn``, no ``Session`` and no worker thread."""
    sent_at = _sent_at(client_code, timestamp, signature)
    assert client_code is not None and timestamp is not None and signature is not None
    for _ in range(_ATTEMPTS):
        cached = _credentials.get(client_code)
        found = cached if cached is not None else await signing_credential_on_loop(conn, client_code)
        caller = _verify(found, cached, sent_at, client_code, timestamp, signature, method, path, body)
        if caller is None:
            continue
        assert found is not None
        now = utcnow()
        outcome = await repository.admit_on_loop(conn, **_admit_values(found, signature, sent_at, now))
        if _admitted(outcome, found, cached, caller, now, limit_per_minute, verified):
            return caller
    raise UnknownClient()


# --- the admission folded into the call's own transaction (ADR 0043) --------------------------------------------


class AdmitAgain(Exception):
    """The folded admission found the credential changed since its cached copy: it wrote nothing; the caller
    rolls back and admits the call from scratch (:func:`run_admission` does)."""


@dataclass(frozen=True)
class PendingAdmission:
    """A signed call checked in Python against its cached credential (:func:`defer_admission`), its statement (the
    credential's revision checked, the signature recorded, the call counted) still to run: folded into the call's
    first read (:func:`admission_part`) or alone (:func:`run_admission`)."""

    caller: PartnerCaller
    found: SigningCredential
    values: dict[str, Any]
    now: datetime
    limit_per_minute: int
    verified: Callable[[PartnerCaller], object] | None
    inputs: dict[str, Any]
    """:func:`admit_on_loop`'s arguments, to admit the call from scratch."""


def defer_admission(
    *,
    client_code: str | None,
    timestamp: str | None,
    signature: str | None,
    method: str,
    path: str | bytes,
    body: bytes,
    limit_per_minute: int,
    verified: Callable[[PartnerCaller], object] | None = None,
) -> PendingAdmission | None:
    """:func:`admit_on_loop`'s checks that need no database, in its order, against the cached credential (missing
    headers, stale timestamp, unknown client, wrong signature, revoked key or suspended partner); the statement not
    run. None when the credential is not cached or its copy did not check out (the caller admits as before)."""
    sent_at = _sent_at(client_code, timestamp, signature)
    assert client_code is not None and timestamp is not None and signature is not None
    cached = _credentials.get(client_code)
    if cached is None:
        return None
    caller = _verify(cached, cached, sent_at, client_code, timestamp, signature, method, path, body)
    if caller is None:
        return None
    now = utcnow()
    if verified is not None:
        verified(caller)  # refusals from here on are the signed partner's
    return PendingAdmission(
        caller=caller,
        found=cached,
        values=_admit_values(cached, signature, sent_at, now),
        now=now,
        limit_per_minute=limit_per_minute,
        verified=verified,
        inputs={
            "client_code": client_code,
            "timestamp": timestamp,
            "signature": signature,
            "method": method,
            "path": path,
            "body": body,
            "limit_per_minute": limit_per_minute,
            "verified": verified,
        },
    )


async def run_admission(conn: asyncpg.Connection, pending: PendingAdmission) -> PartnerCaller:
    """The pending admission's statement alone, on an autocommit loop connection, as :func:`admit_on_loop` runs
    it (committed at once, without waiting for its flush, ADR 0033); its refusals (409 ``replayed_request``, 429
    ``rate_limited``); admitted from scratch when the credential changed."""
    outcome = await repository.admit_on_loop(conn, **pending.values)
    if _admitted(outcome, pending.found, pending.found, pending.caller, pending.now, pending.limit_per_minute, None):
        return pending.caller
    return await admit_on_loop(conn, **pending.inputs)


def admission_part(pending: PendingAdmission) -> idempotency.FramePart:
    """The pending admission as the part a signed call's frame runs first in its first read (ADR 0043): the claim
    and the read run only when it admitted the call; its refusals are raised before any other; :class:`AdmitAgain`
    when the credential changed (nothing written)."""

    def check(values: Any) -> None:
        outcome = repository.admission_of(values)
        if not _admitted(
            outcome, pending.found, pending.found, pending.caller, pending.now, pending.limit_per_minute, None
        ):
            raise AdmitAgain()

    return idempotency.FramePart(
        ctes=repository.ADMISSION_CTES,
        columns=repository.ADMISSION_COLUMNS,
        width=repository.ADMISSION_WIDTH,
        gate=repository.ADMISSION_GATE,
        params=repository.admission_params(pending.values, pending.limit_per_minute),
        check=check,
    )


def _sent_at(client_code: str | None, timestamp: str | None, signature: str | None) -> int:
    sent_at = precheck(client_code=client_code, timestamp=timestamp, signature=signature)
    if client_code is not None and len(client_code) > 64:
        raise UnknownClient()
    return sent_at


def _verify(
    found: SigningCredential | None,
    cached: SigningCredential | None,
    sent_at: int,
    client_code: str,
    timestamp: str,
    signature: str,
    method: str,
    path: str | bytes,
    body: bytes,
) -> PartnerCaller | None:
    """The caller, or None to read the credential again (a cached copy the signature did not check out against)."""
    try:
        return _check(found, sent_at, client_code, timestamp, signature, method, path, body)
    except (BadSignature, CredentialRevoked):
        if cached is None:
            raise
        _credentials.pop(client_code, None)  # perhaps a key issued or a partner reinstated since: read again
        return None


def _admit_values(found: SigningCredential, signature: str, sent_at: int, now: datetime) -> dict[str, Any]:
    return {
        "credential_id": found.credential_id,
        "revision": found.revision,
        "signature": bytes.fromhex(signature),
        "expires_at": datetime.fromtimestamp(sent_at, UTC) + rules.WINDOW,
        "window_start": now.replace(second=0, microsecond=0),
    }


def _admitted(
    outcome: tuple[str | None, bool, int],
    found: SigningCredential,
    cached: SigningCredential | None,
    caller: PartnerCaller,
    now: datetime,
    limit_per_minute: int,
    verified: Callable[[PartnerCaller], object] | None,
) -> bool:
    """Whether the bookkeeping statement admitted the caller (False: the credential changed, read it again);
    raises the replay and the rate-limit refusals."""
    current, new, hits = outcome
    if current != found.revision:
        _credentials.pop(found.client_code, None)
        return False
    if cached is None:
        if len(_credentials) >= _CACHE_SIZE:
            _credentials.clear()
        _credentials[found.client_code] = found
    if verified is not None:
        verified(caller)
    if not new:
        raise ReplayedRequest()
    if hits > limit_per_minute:
        start = now.replace(second=0, microsecond=0)
        retry_after = max(1, int((start + RATE_WINDOW - now).total_seconds() + 0.999))
        raise PartnerRateLimited(retry_after, limit_per_minute)
    return True


def remember(session: Session, caller: PartnerCaller) -> None:
    """Record the request's signature; a signature seen before within the window is a replay. Call it in a
    transaction of its own that commits at once, so a refused or failed request still counts."""
    expires_at = datetime.fromtimestamp(caller.timestamp, UTC) + rules.WINDOW
    if not repository.remember(session, caller.credential_id, bytes.fromhex(caller.signature), expires_at):
        raise ReplayedRequest()


RATE_WINDOW = timedelta(minutes=1)


def count_request(session: Session, caller: PartnerCaller, limit_per_minute: int) -> None:
    """Count the request in its credential's current minute (fixed windows shared by every web process); past
    the limit, 429 ``rate_limited`` with the seconds until the next window. Call it on a transaction of its own
    that commits at once, like :func:`remember`."""
    now = utcnow()
    start = now.replace(second=0, microsecond=0)
    hits = repository.hit_rate_window(session, caller.credential_id, start)
    if hits > limit_per_minute:
        retry_after = max(1, int((start + RATE_WINDOW - now).total_seconds() + 0.999))
        raise PartnerRateLimited(retry_after, limit_per_minute)


def allowed_list_source(caller: PartnerCaller, list_type: str, source: str | None) -> str:
    """The source an import by this credential is recorded under: its own. 403 ``list_type_not_allowed`` for a
    list type it was not issued for, 403 ``list_source_not_allowed`` when the request names another source."""
    if list_type not in caller.list_types or not caller.list_source:
        raise ListTypeNotAllowed(details={"list_type": list_type[:32], "allowed": list(caller.list_types)})
    if source is not None and " ".join(source.split()) not in ("", caller.list_source):
        raise ListSourceNotAllowed(details={"source": caller.list_source})
    return caller.list_source


def purge_seen_signatures(session: Session) -> int:
    """Signatures past the window and rate windows older than an hour."""
    now = utcnow()
    return repository.purge(session, now) + repository.purge_rate_windows(session, now - timedelta(hours=1))
