"""Every query on the partner tables."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import asyncpg
from sqlalchemy import Connection, delete, func, select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from prakerja.db import SqlPart, arguments, positional
from prakerja.kit.clock import utcnow as _now
from prakerja.kit.ids import new_id as _new_id
from prakerja.kit.loop import Later, ready
from prakerja.kit.pii import decrypt
from prakerja.partners.models import (
    PartnerContact,
    PartnerCredential,
    PartnerDocument,
    PartnerKey,
    PartnerMember,
    PartnerOrganisation,
    PartnerProfile,
    PartnerRefusal,
    PartnerTrainer,
    RateWindow,
    SeenSignature,
    WebhookAttempt,
    WebhookAttemptOutcome,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEndpointStatus,
    WebhookEvent,
    WebhookEventType,
)


def remember(session: Session, credential_id: uuid.UUID, signature: bytes, expires_at: datetime) -> bool:
    """True when the signature is new; False when another request already brought it (any process)."""
    inserted = session.execute(
        insert(SeenSignature)
        .values(credential_id=credential_id, signature=signature, expires_at=expires_at)
        .on_conflict_do_nothing()
        .returning(SeenSignature.credential_id)
    ).first()
    return inserted is not None


def purge(session: Session, now: datetime) -> int:
    result = session.execute(delete(SeenSignature).where(SeenSignature.expires_at < now))
    return int(getattr(result, "rowcount", 0) or 0)


def hit_rate_window(session: Session, credential_id: uuid.UUID, window_start: datetime) -> int:
    """Count one request in the credential's window (atomic across processes, in shard 0); returns the window's
    count (the sum of its shards, ADR 0043)."""
    statement = insert(RateWindow).values(credential_id=credential_id, window_start=window_start, shard=0, hits=1)
    own = session.execute(
        statement.on_conflict_do_update(
            index_elements=[RateWindow.credential_id, RateWindow.window_start, RateWindow.shard],
            set_={"hits": RateWindow.hits + 1},
        ).returning(RateWindow.hits)
    ).scalar_one()
    others = session.scalar(
        select(func.coalesce(func.sum(RateWindow.hits), 0)).where(
            RateWindow.credential_id == credential_id, RateWindow.window_start == window_start, RateWindow.shard != 0
        )
    )
    return int(own) + int(others or 0)


def purge_rate_windows(session: Session, before: datetime) -> int:
    result = session.execute(delete(RateWindow).where(RateWindow.window_start < before))
    return int(getattr(result, "rowcount", 0) or 0)


def add(
    session: Session,
    obj: PartnerOrganisation | PartnerCredential | PartnerKey | WebhookEndpoint | WebhookDelivery | WebhookAttempt,
) -> None:
    session.add(obj)
    session.flush()


def partner(session: Session, partner_id: uuid.UUID, *, lock: bool = False) -> PartnerOrganisation | None:
    query = select(PartnerOrganisation).where(PartnerOrganisation.id == partner_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def partner_by_name(session: Session, name: str) -> PartnerOrganisation | None:
    return session.scalars(select(PartnerOrganisation).where(PartnerOrganisation.name == name)).first()


def partners(session: Session) -> list[PartnerOrganisation]:
    return list(session.scalars(select(PartnerOrganisation).order_by(PartnerOrganisation.name)))


def partner_names(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    wanted = list(set(ids))
    if not wanted:
        return {}
    rows = session.execute(
        select(PartnerOrganisation.id, PartnerOrganisation.name).where(PartnerOrganisation.id.in_(wanted))
    )
    return {row.id: row.name for row in rows}


_PARTNER_NAMES_SQL = "SELECT id, name FROM auth_partners WHERE id = ANY(%(ids)s)"
"""``partner_names``'s query as SQL for a loop connection (``db.on_loop``); a test holds the two to the same answers."""
_PARTNER_NAMES_ON_LOOP = positional(_PARTNER_NAMES_SQL)[0]  # $1 ids


async def partner_names_on_loop(conn: asyncpg.Connection, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """``partner_names`` in one prepared statement on a loop connection (ADR 0014). A read: it commits nothing."""
    wanted = list(set(ids))
    if not wanted:
        return {}
    return {row[0]: row[1] for row in await conn.fetch(_PARTNER_NAMES_ON_LOOP, wanted)}


def credential_by_code(session: Session, client_code: str, *, lock: bool = False) -> PartnerCredential | None:
    query = select(PartnerCredential).where(PartnerCredential.client_code == client_code)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def credentials_of(session: Session, partner_ids: list[uuid.UUID]) -> list[PartnerCredential]:
    return list(
        session.scalars(
            select(PartnerCredential)
            .where(PartnerCredential.partner_id.in_(partner_ids))
            .order_by(PartnerCredential.created_at)
        )
    )


def key(session: Session, key_id: uuid.UUID, *, lock: bool = False) -> PartnerKey | None:
    query = select(PartnerKey).where(PartnerKey.id == key_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def keys_of(session: Session, credential_ids: list[uuid.UUID]) -> list[PartnerKey]:
    return list(
        session.scalars(
            select(PartnerKey).where(PartnerKey.credential_id.in_(credential_ids)).order_by(PartnerKey.created_at)
        )
    )


# A credential's revision: the row versions (``xmin``, new at every INSERT and UPDATE) of the credential, its
# organisation and each of its keys. Any change to what a signature check reads (a key added or revoked, the
# credential revoked or rescoped, the organisation suspended or renamed) gives a new revision, whichever code
# path made it: nothing has to remember to bump a counter.
_REVISION = (
    "c.xmin::text || '/' || p.xmin::text || '/' || coalesce((SELECT string_agg(k.id::text || ':' || k.xmin::text,"
    " ',' ORDER BY k.id) FROM auth_partner_keys k WHERE k.credential_id = c.id), '')"
)
_REVISION_BY_CODE = text(
    f"SELECT {_REVISION} FROM auth_partner_credentials c JOIN auth_partners p ON p.id = c.partner_id"
    " WHERE c.client_code = :code"
)

# One round trip on an autocommit connection, so it is committed whatever the request does next: checks that
# the credential is still at the revision the caller checked the signature against and, only then, records the
# signature (a replay inserts nothing) and, only for a new signature, counts the request in its minute.
# Its commit does not wait for its WAL flush (``synchronous_commit`` off for this statement's transaction alone,
# ADR 0033): it is visible to every connection once committed, and flushed by the WAL writer within a few hundred
# ms or by the next durable commit of any connection, whichever comes first. Every durable effect of the request
# (its work, its logged refusal) is a later commit, whose flush writes this record first (WAL is flushed in order),
# so a crash can forget only the admissions of calls that left nothing durable (reads, replayed answers, calls
# whose work the crash lost as well): such a request could be admitted once more; see the ADR.
_ADMIT = text(
    f"""
WITH quick AS (
    SELECT set_config('synchronous_commit', 'off', true)
), cur AS (
    SELECT {_REVISION} AS revision
    FROM auth_partner_credentials c JOIN auth_partners p ON p.id = c.partner_id
    WHERE c.id = :credential_id
), seen AS (
    INSERT INTO partner_seen_signatures (credential_id, signature, expires_at)
    SELECT :credential_id, :signature, :expires_at FROM cur WHERE cur.revision = :revision
    ON CONFLICT DO NOTHING
    RETURNING 1
), hit AS (
    INSERT INTO partner_rate_windows (credential_id, window_start, shard, hits)
    SELECT :credential_id, :window_start, 0, 1 FROM seen
    ON CONFLICT (credential_id, window_start, shard) DO UPDATE SET hits = partner_rate_windows.hits + 1
    RETURNING hits
)
SELECT (SELECT revision FROM cur), EXISTS (SELECT 1 FROM seen),
       (SELECT hits FROM hit) + (SELECT coalesce(sum(hits), 0) FROM partner_rate_windows
                                 WHERE credential_id = :credential_id AND window_start = :window_start AND shard <> 0)
FROM quick
"""
)


def revision(session: Session, client_code: str) -> str | None:
    """The credential's current revision (read before its rows, so the rows are at least that new)."""
    found = session.execute(_REVISION_BY_CODE, {"code": client_code}).scalar()
    return None if found is None else str(found)


def admit(
    connection: Connection,
    *,
    credential_id: uuid.UUID,
    revision: str,
    signature: bytes,
    expires_at: datetime,
    window_start: datetime,
) -> tuple[str | None, bool, int]:
    """(the credential's current revision, whether the signature is new, the minute's count). Nothing is written
    unless the revision is the one given."""
    row = connection.execute(
        _ADMIT,
        {
            "credential_id": credential_id,
            "revision": revision,
            "signature": signature,
            "expires_at": expires_at,
            "window_start": window_start,
        },
    ).one()
    return (None if row[0] is None else str(row[0])), bool(row[1]), int(row[2] or 0)


_ADMIT_SQL = re.sub(r"(?<![:\w]):(credential_id|revision|signature|expires_at|window_start)\b", r"%(\1)s", _ADMIT.text)
"""``_ADMIT`` for a loop connection (``db.on_loop``); tests hold the two to the same answers."""
_ADMIT_ON_LOOP, _ADMIT_NAMES = positional(_ADMIT_SQL)


async def admit_on_loop(
    conn: asyncpg.Connection,
    *,
    credential_id: uuid.UUID,
    revision: str,
    signature: bytes,
    expires_at: datetime,
    window_start: datetime,
) -> tuple[str | None, bool, int]:
    """:func:`admit` in one prepared statement on an autocommit loop connection (ADR 0014, 0021): committed when
    the server answers, whatever the request does next."""
    if conn.is_in_transaction():
        raise ValueError("expects a loop connection outside a transaction block (db.on_loop)")
    params = {
        "credential_id": credential_id,
        "revision": revision,
        "signature": signature,
        "expires_at": expires_at,
        "window_start": window_start,
    }
    row = await conn.fetchrow(_ADMIT_ON_LOOP, *arguments(_ADMIT_NAMES, params))
    assert row is not None
    return (None if row[0] is None else str(row[0])), bool(row[1]), int(row[2] or 0)


# The same admission folded into a signed call's own transaction (ADR 0043): common table expressions of the call's
# first read (``idempotency.service.FramePart``), parameters prefixed ``adm_``. No ``synchronous_commit`` of its own:
# it commits with the call. The count goes to the shard of this server process (``pg_backend_pid()``), a row no
# other transaction writes while this one runs, so the call holds no row another call of the credential waits for;
# the minute's count is this shard's (as written now) and the others' as committed. The claim and the call's read
# are gated on :data:`ADMISSION_GATE`.
ADMISSION_CTES = f"""adm_cur AS (
    SELECT {_REVISION} AS revision
    FROM auth_partner_credentials c JOIN auth_partners p ON p.id = c.partner_id
    WHERE c.id = %(adm_credential_id)s
), adm_seen AS (
    INSERT INTO partner_seen_signatures (credential_id, signature, expires_at)
    SELECT %(adm_credential_id)s, %(adm_signature)s, %(adm_expires_at)s FROM adm_cur
    WHERE adm_cur.revision = %(adm_revision)s
    ON CONFLICT DO NOTHING
    RETURNING 1
), adm_hit AS (
    INSERT INTO partner_rate_windows (credential_id, window_start, shard, hits)
    SELECT %(adm_credential_id)s, %(adm_window_start)s, pg_backend_pid(), 1 FROM adm_seen
    ON CONFLICT (credential_id, window_start, shard) DO UPDATE SET hits = partner_rate_windows.hits + 1
    RETURNING hits
), adm AS (
    SELECT (SELECT revision FROM adm_cur) AS revision, EXISTS (SELECT 1 FROM adm_seen) AS new,
           (SELECT hits FROM adm_hit) + (
               SELECT coalesce(sum(hits), 0) FROM partner_rate_windows WHERE credential_id = %(adm_credential_id)s
               AND window_start = %(adm_window_start)s AND shard <> pg_backend_pid()
           ) AS hits
)"""
ADMISSION_COLUMNS = (
    "(SELECT revision FROM adm) AS adm_revision, (SELECT new FROM adm) AS adm_new, (SELECT hits FROM adm) AS adm_hits"
)
ADMISSION_WIDTH = 3
ADMISSION_GATE = "(SELECT revision = %(adm_revision)s AND new AND hits <= %(adm_limit)s FROM adm)"


def admission_params(values: dict[str, Any], limit_per_minute: int) -> dict[str, Any]:
    """:data:`ADMISSION_CTES`' parameters for :func:`admit`'s values."""
    return {**{f"adm_{name}": value for name, value in values.items()}, "adm_limit": limit_per_minute}


def admission_of(values: Any) -> tuple[str | None, bool, int]:
    """:func:`admit`'s answer from :data:`ADMISSION_COLUMNS`."""
    revision, new, hits = values
    return (None if revision is None else str(revision)), bool(new), int(hits or 0)


_SIGNING_ROW_SQL = f"""
SELECT {_REVISION}, c.id, c.client_code, c.revoked_at IS NOT NULL, c.list_types, c.list_source,
       p.id, p.name, p.role, p.status,
       coalesce((SELECT array_agg(k.id ORDER BY k.created_at) FROM auth_partner_keys k WHERE k.credential_id = c.id),
                '{{}}'),
       coalesce((SELECT array_agg(k.secret ORDER BY k.created_at) FROM auth_partner_keys k
                 WHERE k.credential_id = c.id), '{{}}'),
       coalesce((SELECT array_agg(k.revoked_at IS NOT NULL ORDER BY k.created_at) FROM auth_partner_keys k
                 WHERE k.credential_id = c.id), '{{}}')
FROM auth_partner_credentials c JOIN auth_partners p ON p.id = c.partner_id
WHERE c.client_code = %(code)s
"""
_SIGNING_ROW_ON_LOOP = positional(_SIGNING_ROW_SQL)[0]  # $1 code


@dataclass(frozen=True)
class SigningRow:
    """What a signature check reads of a credential (``revision`` and ``signing_rows`` together), read in one
    statement on a loop connection; the keys' secrets decrypted."""

    revision: str
    credential_id: uuid.UUID
    client_code: str
    credential_revoked: bool
    list_types: tuple[str, ...]
    list_source: str
    partner_id: uuid.UUID
    partner_name: str
    role: str
    status: str
    keys: tuple[tuple[uuid.UUID, str, bool], ...]
    """(id, secret, revoked) by creation."""


async def signing_row_on_loop(conn: asyncpg.Connection, client_code: str) -> SigningRow | None:
    """:func:`revision` and :func:`signing_rows` in one statement on a loop connection (one snapshot: the rows are
    exactly at the revision read). A read: outside a transaction block it commits nothing."""
    row = await conn.fetchrow(_SIGNING_ROW_ON_LOOP, client_code)
    if row is None:
        return None
    context = "auth_partner_keys.secret"
    keys = tuple(
        (key_id, decrypt(bytes(secret), context), bool(revoked))
        for key_id, secret, revoked in zip(row[10], row[11], row[12], strict=True)
    )
    return SigningRow(
        revision=str(row[0]),
        credential_id=row[1],
        client_code=row[2],
        credential_revoked=bool(row[3]),
        list_types=tuple(row[4] or ()),
        list_source=row[5],
        partner_id=row[6],
        partner_name=row[7],
        role=row[8],
        status=row[9],
        keys=keys,
    )


def signing_rows(
    session: Session, client_code: str
) -> tuple[PartnerCredential, PartnerOrganisation, list[PartnerKey]] | None:
    """The credential, its organisation and its keys (decrypted on load): two queries."""
    row = session.execute(
        select(PartnerCredential, PartnerOrganisation)
        .join(PartnerOrganisation, PartnerOrganisation.id == PartnerCredential.partner_id)
        .where(PartnerCredential.client_code == client_code)
    ).first()
    if row is None:
        return None
    credential, organisation = row
    return credential, organisation, keys_of(session, [credential.id])


# --- webhooks ---------------------------------------------------------------------------------------------------


def endpoint(session: Session, endpoint_id: uuid.UUID, *, lock: bool = False) -> WebhookEndpoint | None:
    query = select(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def endpoints(session: Session, partner_id: uuid.UUID | None = None) -> list[WebhookEndpoint]:
    query = select(WebhookEndpoint).order_by(WebhookEndpoint.created_at, WebhookEndpoint.id)
    if partner_id is not None:
        query = query.where(WebhookEndpoint.partner_id == partner_id)
    return list(session.scalars(query))


def partners_active_endpoints(
    session: Session, partner_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[WebhookEndpoint]]:
    """The active endpoints (by id) of each of these organisations, in one query; an organisation that does not
    exist is left out of the answer."""
    wanted = list(set(partner_ids))
    rows = session.execute(
        select(PartnerOrganisation.id, WebhookEndpoint)
        .outerjoin(
            WebhookEndpoint,
            (WebhookEndpoint.partner_id == PartnerOrganisation.id)
            & (WebhookEndpoint.status == WebhookEndpointStatus.active),
        )
        .where(PartnerOrganisation.id.in_(wanted))
        .order_by(PartnerOrganisation.id, WebhookEndpoint.id)
    ).all()
    found: dict[uuid.UUID, list[WebhookEndpoint]] = {}
    for partner_id, endpoint in rows:
        found.setdefault(partner_id, [])
        if endpoint is not None:
            found[partner_id].append(endpoint)
    return found


def add_events(session: Session, rows: list[dict[str, object]]) -> dict[tuple[uuid.UUID, str], WebhookEvent]:
    """The events in one INSERT; the new ones by (partner id, webhook id): one the partner already has under its
    webhook id (any process) is left out of the answer."""
    now = _now()
    inserted = session.scalars(
        insert(WebhookEvent)
        .values([{"id": _new_id(), "created_at": now, **row} for row in rows])
        .on_conflict_do_nothing(index_elements=["partner_id", "webhook_id"])
        .returning(WebhookEvent)
    ).all()
    return {(event.partner_id, event.webhook_id): event for event in inserted}


_ENDPOINTS_SQL = (
    "SELECT o.id, e.id FROM auth_partners o LEFT JOIN partner_webhook_endpoints e ON e.partner_id = o.id"
    " AND e.status = 'active' WHERE o.id = ANY(%s) ORDER BY o.id, e.id"
)
_ENDPOINTS_ON_LOOP = positional(_ENDPOINTS_SQL)[0]


async def active_endpoint_ids_on_loop(
    conn: asyncpg.Connection, partner_ids: Iterable[uuid.UUID]
) -> Later[dict[uuid.UUID, list[uuid.UUID]]]:
    """:func:`partners_active_endpoints`, the endpoints' ids only, on a loop connection (ADR 0014)."""
    answer: dict[uuid.UUID, list[uuid.UUID]] = {}
    for partner_id, endpoint_id in await conn.fetch(_ENDPOINTS_ON_LOOP, list(set(partner_ids))):
        answer.setdefault(partner_id, [])
        if endpoint_id is not None:
            answer[partner_id].append(endpoint_id)
    return ready(answer)


_EVENTS_SQL = (
    "INSERT INTO partner_webhook_events (id, created_at, partner_id, webhook_id, type, body)"
    " SELECT e.id, %(now)s, e.partner_id, e.webhook_id, e.type, e.body FROM unnest(%(ids)s::uuid[],"
    " %(partners)s::uuid[], %(webhook_ids)s::text[], %(types)s::text[], %(bodies)s::text[])"
    " AS e(id, partner_id, webhook_id, type, body) ON CONFLICT (partner_id, webhook_id) DO NOTHING"
)
_EVENTS_AND_DELIVERIES_SQL = (
    "WITH ev AS (" + _EVENTS_SQL + " RETURNING id), d AS ("
    "INSERT INTO partner_webhook_deliveries (id, created_at, event_id, endpoint_id, status, attempts, next_attempt_at)"
    " SELECT x.id, %(now)s, x.event_id, x.endpoint_id, 'pending', 0, %(now)s FROM unnest(%(d_ids)s::uuid[],"
    " %(d_events)s::uuid[], %(d_endpoints)s::uuid[]) AS x(id, event_id, endpoint_id)"
    " JOIN ev ON ev.id = x.event_id RETURNING id) "
    "SELECT procrastinate_defer_jobs_v1(ARRAY(SELECT ROW('default', %(task)s, 0, NULL, NULL,"
    " jsonb_build_object('delivery_id', d.id::text, 'attempt', 1), NULL)::procrastinate_job_to_defer_v1"
    " FROM d ORDER BY d.id))"
)
_EVENTS_ON_LOOP, _EVENTS_NAMES = positional(_EVENTS_SQL)
_EVENTS_AND_DELIVERIES_ON_LOOP, _EVENTS_AND_DELIVERIES_NAMES = positional(_EVENTS_AND_DELIVERIES_SQL)


async def add_events_on_loop(
    conn: asyncpg.Connection,
    *,
    events: list[dict[str, Any]],
    deliveries: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]],
    task: str,
) -> None:
    """:func:`add_events`, and for each new event its deliveries (id, event id, endpoint id) with their jobs, in one
    statement on a loop connection (ADR 0014). An event the partner already has under its webhook id is left alone
    with no delivery, as the ``Session`` path does. Nothing is read back."""
    params: dict[str, Any] = {
        "now": _now(),
        "ids": [e["id"] for e in events],
        "partners": [e["partner_id"] for e in events],
        "webhook_ids": [e["webhook_id"] for e in events],
        "types": [e["type"] for e in events],
        "bodies": [e["body"] for e in events],
    }
    if not deliveries:
        await conn.execute(_EVENTS_ON_LOOP, *arguments(_EVENTS_NAMES, params))
        return
    params.update(
        d_ids=[d[0] for d in deliveries],
        d_events=[d[1] for d in deliveries],
        d_endpoints=[d[2] for d in deliveries],
        task=task,
    )
    await conn.execute(_EVENTS_AND_DELIVERIES_ON_LOOP, *arguments(_EVENTS_AND_DELIVERIES_NAMES, params))


_EVENTS_PART_SQL = (
    "wh_ev AS (INSERT INTO partner_webhook_events (id, created_at, partner_id, webhook_id, type, body)"
    " SELECT e.id, %(wh_now)s::timestamptz, e.partner_id, e.webhook_id, e.type, e.body FROM unnest(%(wh_ids)s::uuid[],"
    " %(wh_partners)s::uuid[], %(wh_webhook_ids)s::text[], %(wh_types)s::text[], %(wh_bodies)s::text[])"
    " AS e(id, partner_id, webhook_id, type, body) WHERE {gate}"
    " ON CONFLICT (partner_id, webhook_id) DO NOTHING RETURNING id)"
)
_DELIVERIES_PART_SQL = (
    ", wh_d AS (INSERT INTO partner_webhook_deliveries (id, created_at, event_id, endpoint_id, status, attempts,"
    " next_attempt_at) SELECT x.id, %(wh_now)s::timestamptz, x.event_id, x.endpoint_id, 'pending', 0,"
    " %(wh_now)s::timestamptz FROM unnest(%(wh_d_ids)s::uuid[], %(wh_d_events)s::uuid[], %(wh_d_endpoints)s::uuid[])"
    " AS x(id, event_id, endpoint_id) JOIN wh_ev ON wh_ev.id = x.event_id RETURNING id),"
    " wh_j AS (SELECT procrastinate_defer_jobs_v1(ARRAY(SELECT ROW('default', %(wh_task)s::text, 0, NULL, NULL,"
    " jsonb_build_object('delivery_id', wh_d.id::text, 'attempt', 1), NULL)::procrastinate_job_to_defer_v1"
    " FROM wh_d ORDER BY wh_d.id)) AS jobs)"
)


def add_events_part(
    *,
    events: list[dict[str, Any]],
    deliveries: list[tuple[uuid.UUID, uuid.UUID, uuid.UUID]],
    task: str,
    gate: str,
) -> SqlPart:
    """:func:`add_events_on_loop`'s rows as a part of a statement another domain composes (ADR 0032): the events
    written only when ``gate`` (an SQL condition of the composing statement) holds, their deliveries and jobs only
    for the events written (an event the partner already has is left alone, with no delivery)."""
    params: dict[str, Any] = {
        "wh_now": _now(),
        "wh_ids": [e["id"] for e in events],
        "wh_partners": [e["partner_id"] for e in events],
        "wh_webhook_ids": [e["webhook_id"] for e in events],
        "wh_types": [e["type"] for e in events],
        "wh_bodies": [e["body"] for e in events],
    }
    if not deliveries:
        return SqlPart(_EVENTS_PART_SQL.format(gate=gate), params)
    params.update(
        wh_d_ids=[d[0] for d in deliveries],
        wh_d_events=[d[1] for d in deliveries],
        wh_d_endpoints=[d[2] for d in deliveries],
        wh_task=task,
    )
    return SqlPart(_EVENTS_PART_SQL.format(gate=gate) + _DELIVERIES_PART_SQL, params, ("(SELECT count(*) FROM wh_j)",))


ENDPOINTS_LATERAL_SQL = (
    "SELECT array_agg(o.id ORDER BY o.id, e.id) AS wh_partner_ids, array_agg(e.id ORDER BY o.id, e.id)"
    " AS wh_endpoint_ids FROM auth_partners o LEFT JOIN partner_webhook_endpoints e ON e.partner_id = o.id"
    " AND e.status = 'active' WHERE o.id IN ({first}, {second})"
)
"""The active endpoints of two organisations (SQL expressions of the composing statement) as one row of two
aligned arrays (organisation, endpoint or NULL), for a ``LATERAL`` join (ADR 0032); as
:func:`active_endpoint_ids_on_loop` reads them."""


def endpoints_of_arrays(
    partner_ids: list[uuid.UUID] | None, endpoint_ids: list[uuid.UUID | None] | None
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """:data:`ENDPOINTS_LATERAL_SQL`'s row as :func:`active_endpoint_ids_on_loop`'s answer."""
    answer: dict[uuid.UUID, list[uuid.UUID]] = {}
    for partner_id, endpoint_id in zip(partner_ids or [], endpoint_ids or [], strict=True):
        answer.setdefault(partner_id, [])
        if endpoint_id is not None:
            answer[partner_id].append(endpoint_id)
    return answer


def event_by_webhook_id(session: Session, partner_id: uuid.UUID, webhook_id: str) -> WebhookEvent | None:
    return session.scalars(
        select(WebhookEvent).where(WebhookEvent.partner_id == partner_id, WebhookEvent.webhook_id == webhook_id)
    ).first()


def delivery_for_sending(
    session: Session, delivery_id: uuid.UUID
) -> tuple[WebhookDelivery, WebhookEvent, WebhookEndpoint] | None:
    """The delivery locked (a second run of the job waits here, then finds the attempt made), its event and
    endpoint."""
    row = session.execute(
        select(WebhookDelivery, WebhookEvent, WebhookEndpoint)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(WebhookDelivery.id == delivery_id)
        .with_for_update(of=WebhookDelivery)
    ).first()
    return None if row is None else (row[0], row[1], row[2])


def stalled_deliveries(session: Session, before: datetime, limit: int) -> list[tuple[uuid.UUID, int]]:
    """Pending deliveries whose next attempt is long overdue and that no queued or running job will make (their
    job was lost, or failed for good): (id, attempts made)."""
    no_job = text(
        "NOT EXISTS (SELECT 1 FROM procrastinate_jobs AS job WHERE job.task_name = 'partners.deliver_webhook' "
        "AND job.status IN ('todo', 'doing') AND job.args->>'delivery_id' = partner_webhook_deliveries.id::text)"
    )
    rows = session.execute(
        select(WebhookDelivery.id, WebhookDelivery.attempts)
        .where(
            WebhookDelivery.status == WebhookDeliveryStatus.pending,
            WebhookDelivery.next_attempt_at < before,
            no_job,
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit)
    )
    return [(r[0], r[1]) for r in rows]


def attempts_of(
    session: Session,
    *,
    partner_id: uuid.UUID,
    type: WebhookEventType | None,
    outcome: WebhookAttemptOutcome | None,
    since: datetime | None,
    after: uuid.UUID | None,
    limit: int,
) -> list[tuple[WebhookAttempt, WebhookEvent, uuid.UUID]]:
    """The partner's delivery log, oldest first from ``after`` (an attempt id): (attempt, event, endpoint id)."""
    query = (
        select(WebhookAttempt, WebhookEvent, WebhookDelivery.endpoint_id)
        .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
        .join(WebhookEvent, WebhookEvent.id == WebhookDelivery.event_id)
        .where(WebhookAttempt.partner_id == partner_id)
        .order_by(WebhookAttempt.id)
        .limit(limit)
    )
    if type is not None:
        query = query.where(WebhookEvent.type == type)
    if outcome is not None:
        query = query.where(WebhookAttempt.outcome == outcome)
    if since is not None:
        query = query.where(WebhookAttempt.attempted_at >= since)
    if after is not None:
        query = query.where(WebhookAttempt.id > after)
    return [(r[0], r[1], r[2]) for r in session.execute(query)]


# --- profiles and people ----------------------------------------------------------------------------------------

ProfileRow = PartnerContact | PartnerDocument | PartnerTrainer | PartnerMember
T = TypeVar("T", PartnerContact, PartnerDocument, PartnerTrainer, PartnerMember)


def add_row(session: Session, obj: PartnerProfile | ProfileRow) -> None:
    session.add(obj)
    session.flush()


def profile(session: Session, partner_id: uuid.UUID, *, lock: bool = False) -> PartnerProfile | None:
    query = select(PartnerProfile).where(PartnerProfile.partner_id == partner_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def row(session: Session, model: type[T], row_id: uuid.UUID, *, lock: bool = False) -> T | None:
    query = select(model).where(model.id == row_id)
    if lock:
        query = query.with_for_update()
    return session.scalars(query).first()


def current_rows(session: Session, model: type[T], partner_id: uuid.UUID) -> list[T]:
    """The organisation's contacts, documents, trainers or members not removed, oldest first."""
    return list(
        session.scalars(
            select(model)
            .where(model.partner_id == partner_id, model.removed_at.is_(None))
            .order_by(model.created_at, model.id)
        )
    )


def membership_of_account(session: Session, account_id: uuid.UUID) -> PartnerMember | None:
    return session.scalars(
        select(PartnerMember).where(PartnerMember.account_id == account_id, PartnerMember.removed_at.is_(None))
    ).first()


# --- refused calls ---------------------------------------------------------------------------------------------


def add_refusal(session: Session, refusal: PartnerRefusal) -> None:
    session.add(refusal)
    session.flush()


_ADD_REFUSAL_SQL = """
INSERT INTO partner_refusals (id, created_at, partner_id, credential_id, client_code, signed, method, endpoint, code,
                              status, remote)
SELECT %(id)s, %(created_at)s, coalesce(%(partner_id)s::uuid, c.partner_id), coalesce(%(credential_id)s::uuid, c.id),
       %(client_code)s, %(signed)s, %(method)s, %(endpoint)s, %(code)s, %(status)s, %(remote)s
FROM (SELECT 1) AS one
LEFT JOIN auth_partner_credentials c ON %(claimed)s AND c.client_code = %(client_code)s
"""
_ADD_REFUSAL_ON_LOOP, _ADD_REFUSAL_NAMES = positional(_ADD_REFUSAL_SQL)


async def add_refusal_on_loop(conn: asyncpg.Connection, values: dict[str, Any], *, claimed: bool) -> None:
    """:func:`add_refusal` in one statement on an autocommit loop connection. With ``claimed``, the credential
    named by ``client_code`` (if any) and its organisation are filled in by the same statement (what
    ``credential_by_code`` reads for the Session twin)."""
    row = {
        "id": _new_id(),
        "created_at": _now(),
        "partner_id": None,
        "credential_id": None,
        "remote": "",
        **values,
        "claimed": claimed,
    }
    await conn.execute(_ADD_REFUSAL_ON_LOOP, *arguments(_ADD_REFUSAL_NAMES, row))


def refusals(session: Session, *, limit: int, unreviewed: bool = False) -> list[tuple[PartnerRefusal, str | None]]:
    """Newest first, with the organisation's name (one query)."""
    query = (
        select(PartnerRefusal, PartnerOrganisation.name)
        .outerjoin(PartnerOrganisation, PartnerOrganisation.id == PartnerRefusal.partner_id)
        .order_by(PartnerRefusal.id.desc())
        .limit(limit)
    )
    if unreviewed:
        query = query.where(PartnerRefusal.reviewed_at.is_(None))
    return [(row[0], row[1]) for row in session.execute(query)]


def purge_refusals(session: Session, before: datetime) -> tuple[int, int]:
    """Delete the refusals logged before ``before``: (how many, how many of them were never reviewed)."""
    row = session.execute(
        text(
            "WITH gone AS (DELETE FROM partner_refusals WHERE created_at < :before RETURNING reviewed_at) "
            "SELECT count(*), count(*) FILTER (WHERE reviewed_at IS NULL) FROM gone"
        ),
        {"before": before},
    ).one()
    return int(row[0]), int(row[1])


def count_unreviewed_refusals(session: Session) -> int:
    return int(
        session.scalar(select(func.count()).select_from(PartnerRefusal).where(PartnerRefusal.reviewed_at.is_(None)))
        or 0
    )


def mark_refusals_reviewed(
    session: Session, *, down_to: uuid.UUID, up_to: uuid.UUID, at: datetime, by: uuid.UUID | None
) -> int:
    """Every unreviewed refusal from ``down_to`` to ``up_to``, both included (ids are time-ordered)."""
    result = session.execute(
        update(PartnerRefusal)
        .where(PartnerRefusal.reviewed_at.is_(None), PartnerRefusal.id >= down_to, PartnerRefusal.id <= up_to)
        .values(reviewed_at=at, reviewed_by=by)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)
