"""Every query on the ledger's tables. Hot-path statements use Core (no identity-map staleness); the batch
path talks COPY to psycopg directly."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, cast

import asyncpg
from psycopg.copy import QueuedLibpqWriter
from psycopg.rows import namedtuple_row
from sqlalchemy import Table, func, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from prakerja.db import arguments, named_rows, positional
from prakerja.kit import pgcopy
from prakerja.kit.loop import Later, ready
from prakerja.ledger.models import AccountKind, EmptyForfeit, LedgerAccount, LedgerTransfer, TransferMode

accounts = cast(Table, LedgerAccount.__table__)
transfers = cast(Table, LedgerTransfer.__table__)

LOCK_COLUMNS = (
    accounts.c.id,
    accounts.c.ledger,
    accounts.c.debits_must_not_exceed_credits,
    accounts.c.credits_must_not_exceed_debits,
    accounts.c.closed,
    accounts.c.debits_pending,
    accounts.c.debits_posted,
    accounts.c.credits_pending,
    accounts.c.credits_posted,
    accounts.c.head_hash,
)

CANONICAL_SQL = """
ledger_chain_hash(t.debit_prev_hash, t.credit_prev_hash, t.id, t.ledger, t.code, t.mode, t.debit_account_id,
    t.credit_account_id, t.amount, t.pending_id, t.timeout_at, t.ref_type, t.ref_id, t.created_at)
"""
"""rules.canonical + rules.chain_hash, recomputed by PostgreSQL for ``ledger check`` with the SQL function the posting
functions use (migration 0010)."""


# accounts -------------------------------------------------------------------------------------------------


def account(session: Session, account_id: uuid.UUID) -> LedgerAccount | None:
    return session.scalars(
        select(LedgerAccount).where(LedgerAccount.id == account_id).execution_options(populate_existing=True)
    ).first()


def account_by_owner(
    session: Session, *, ledger: int, kind: AccountKind, owner_type: str, owner_id: str
) -> LedgerAccount | None:
    return session.scalars(
        select(LedgerAccount)
        .where(
            LedgerAccount.ledger == ledger,
            LedgerAccount.kind == kind,
            LedgerAccount.owner_type == owner_type,
            LedgerAccount.owner_id == owner_id,
        )
        .execution_options(populate_existing=True)
    ).first()


def account_ids_by_owner(
    session: Session, ledger: int, wanted: Sequence[tuple[AccountKind, str, str]]
) -> dict[tuple[AccountKind, str, str], uuid.UUID]:
    """The ids of these accounts (kind, owner type, owner id) on one ledger, in one statement; absent ones are
    missing from the answer."""
    if not wanted:
        return {}
    rows = session.execute(
        select(accounts.c.id, accounts.c.kind, accounts.c.owner_type, accounts.c.owner_id).where(
            accounts.c.ledger == ledger,
            tuple_(accounts.c.kind, accounts.c.owner_type, accounts.c.owner_id).in_(list(wanted)),
        )
    ).all()
    return {(AccountKind(row.kind), row.owner_type, row.owner_id): row.id for row in rows}


_ACCOUNT_COLUMNS_SQL = (
    "id, ledger, kind, owner_type, owner_id, scheme, year, debits_must_not_exceed_credits,"
    " credits_must_not_exceed_debits, closed, debits_pending, debits_posted, credits_pending, credits_posted"
)
ACCOUNT_FIELDS = tuple(name.strip() for name in _ACCOUNT_COLUMNS_SQL.split(","))
"""The columns of :data:`_ACCOUNT_COLUMNS_SQL` by name, in order (the fields of ``schemas.Account``)."""

_TWO_ACCOUNTS_SQL = (
    f"SELECT {_ACCOUNT_COLUMNS_SQL} FROM ledger_accounts WHERE ledger = %s"
    " AND ((kind = %s AND owner_type = %s AND owner_id = %s) OR (kind = %s AND owner_type = %s AND owner_id = %s))"
)
_TWO_ACCOUNTS_ON_LOOP = positional(_TWO_ACCOUNTS_SQL)[0]


async def two_accounts_on_loop(
    conn: asyncpg.Connection, ledger: int, first: tuple[AccountKind, str, str], second: tuple[AccountKind, str, str]
) -> Later[list[tuple[Any, ...]]]:
    """Two accounts by (kind, owner type, owner id) on one ledger with their totals, in one statement on a loop
    connection (ADR 0014); rows of :data:`ACCOUNT_FIELDS`, absent ones missing."""
    rows = await conn.fetch(
        _TWO_ACCOUNTS_ON_LOOP, ledger, first[0].value, first[1], first[2], second[0].value, second[1], second[2]
    )
    return ready(rows)


ACCOUNT_LATERAL_SQL = (
    "SELECT " + ", ".join(f"{name} AS {{prefix}}{name}" for name in ACCOUNT_FIELDS) + " FROM ledger_accounts"
    " WHERE ledger = {ledger} AND kind = '{kind}' AND owner_type = '{owner_type}' AND owner_id = {owner_id}"
)
"""One account (its columns as :data:`ACCOUNT_FIELDS`, each name prefixed) for a ``LEFT JOIN LATERAL`` of a
statement another domain composes (ADR 0032); ``owner_id`` an SQL expression of that statement."""


_OPEN_ACCOUNT_SQL = (
    "INSERT INTO ledger_accounts (id, created_at, ledger, kind, owner_type, owner_id, scheme, year,"
    " debits_must_not_exceed_credits, credits_must_not_exceed_debits, closed, debits_pending, debits_posted,"
    " credits_pending, credits_posted, head_hash) VALUES (%(id)s, %(created_at)s, %(ledger)s, %(kind)s,"
    " %(owner_type)s, %(owner_id)s, %(scheme)s, %(year)s, %(debits_must_not_exceed_credits)s,"
    " %(credits_must_not_exceed_debits)s, false, 0, 0, 0, 0, %(head_hash)s)"
    " ON CONFLICT (ledger, kind, owner_type, owner_id) DO NOTHING"
)
_OPEN_ACCOUNT_ON_LOOP, _OPEN_ACCOUNT_NAMES = positional(_OPEN_ACCOUNT_SQL)


async def open_account_on_loop(conn: asyncpg.Connection, values: dict[str, Any]) -> uuid.UUID:
    """:func:`insert_account_if_absent` then its id, on a loop connection (ADR 0014): two statements (the read
    sees a row another transaction committed while the insert waited for it)."""
    await conn.execute(_OPEN_ACCOUNT_ON_LOOP, *arguments(_OPEN_ACCOUNT_NAMES, values))
    found = await conn.fetchval(
        "SELECT id FROM ledger_accounts WHERE ledger = $1 AND kind = $2 AND owner_type = $3 AND owner_id = $4",
        values["ledger"],
        values["kind"],
        values["owner_type"],
        values["owner_id"],
    )
    assert found is not None
    return uuid.UUID(str(found))


async def create_posted_on_loop(
    conn: asyncpg.Connection,
    *,
    id: uuid.UUID,
    debit: uuid.UUID,
    credit: uuid.UUID,
    amount: int,
    ledger: int | None,
    code: str,
    mode: str,
    timeout: int | None,
    ref_type: str,
    ref_id: str,
    now: datetime,
) -> Later[tuple[Any, ...]]:
    """:func:`create_posted` on a loop connection (ADR 0014) inside the caller's transaction;
    :func:`create_posted_alone_on_loop` is the one-statement transaction of its own."""
    found = await conn.fetchrow(
        _CREATE_POSTED_ON_LOOP, id, debit, credit, amount, ledger, code, mode, timeout, ref_type, ref_id, now
    )
    assert found is not None
    return ready(tuple(found))


def insert_account_if_absent(session: Session, values: dict[str, Any]) -> None:
    session.execute(
        pg_insert(accounts)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["ledger", "kind", "owner_type", "owner_id"])
    )


def account_ids_by_owners(
    session: Session, *, ledger: int, kind: AccountKind, owner_type: str, owner_ids: Sequence[str]
) -> dict[str, uuid.UUID]:
    """owner id -> account id of the existing accounts of one kind among ``owner_ids``, in one query."""
    if not owner_ids:
        return {}
    rows = session.execute(
        text(
            "SELECT owner_id, id FROM ledger_accounts WHERE ledger = :ledger AND kind = :kind "
            "AND owner_type = :owner_type AND owner_id = ANY(:owners)"
        ),
        {"ledger": ledger, "kind": kind.value, "owner_type": owner_type, "owners": list(owner_ids)},
    ).all()
    return {row[0]: row[1] for row in rows}


def set_closed(session: Session, account_id: uuid.UUID, closed: bool) -> None:
    session.execute(update(accounts).where(accounts.c.id == account_id).values(closed=closed))


def lock_accounts(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Any]:
    """Row locks in one fixed order (by id): two transactions never wait on each other in a cycle."""
    rows = session.execute(
        select(*LOCK_COLUMNS).where(accounts.c.id.in_(sorted(set(ids)))).order_by(accounts.c.id).with_for_update()
    ).all()
    return {row.id: row for row in rows}


def wallets_for_expiry(session: Session, *, scheme: str, year: int, after: uuid.UUID | None, limit: int) -> list[Any]:
    """Wallets of a scheme-year with money left, a page at a time (not locked: the caller locks in id order)."""
    query = (
        select(*LOCK_COLUMNS)
        .where(
            accounts.c.kind == AccountKind.training_wallet.value,
            accounts.c.scheme == scheme,
            accounts.c.year == year,
            accounts.c.credits_posted > accounts.c.debits_posted + accounts.c.debits_pending,
        )
        .order_by(accounts.c.id)
        .limit(limit)
    )
    if after is not None:
        query = query.where(accounts.c.id > after)
    return list(session.execute(query).all())


def expiry_schemes(session: Session) -> list[tuple[str, int]]:
    rows = session.execute(
        select(accounts.c.scheme, accounts.c.year)
        .where(accounts.c.kind == AccountKind.training_wallet.value, accounts.c.scheme.is_not(None))
        .distinct()
    ).all()
    return [(r.scheme, r.year) for r in rows if r.year is not None]


# transfers ------------------------------------------------------------------------------------------------


def transfers_by_ids(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Any]:
    rows = session.execute(select(transfers).where(transfers.c.id.in_(list(set(ids))))).all()
    return {row.id: row for row in rows}


CREATE_TRANSFERS_SQL = (
    "SELECT * FROM ledger_create_transfers(%s::uuid[], %s::uuid[], %s::uuid[], %s::bigint[], %s::integer[],"
    " %s::text[], %s::text[], %s::uuid[], %s::integer[], %s::text[], %s::text[], %s::timestamptz)"
)
CREATE_TRANSFER_SQL = (
    "SELECT * FROM ledger_create_transfer(%s::uuid, %s::uuid, %s::uuid, %s::bigint, %s::integer, %s::text,"
    " %s::text, %s::uuid, %s::integer, %s::text, %s::text, %s::timestamptz)"
)


def create_transfer(
    session: Session,
    *,
    id: uuid.UUID,
    debit: uuid.UUID | None,
    credit: uuid.UUID | None,
    amount: int | None,
    ledger: int | None,
    code: str,
    mode: str,
    pending: uuid.UUID | None,
    timeout: int | None,
    ref_type: str,
    ref_id: str,
    now: datetime,
) -> list[Any]:
    """Call ``ledger_create_transfer`` (migrations 0008, 0010) for one transfer, the hot path: scalars are far
    cheaper to send than arrays, and the call goes through the connection's kept cursor (:func:`_posting_cursor`).
    Rows as :func:`create_transfers`."""
    cur = _posting_cursor(session)
    cur.execute(
        CREATE_TRANSFER_SQL, (id, debit, credit, amount, ledger, code, mode, pending, timeout, ref_type, ref_id, now)
    )
    return cur.fetchall()


CREATE_POSTED_SQL = (
    "SELECT r_error, r_index, r_details, r_created, r_seq, r_ledger, r_timeout, r_created_at"
    " FROM ledger_create_transfer(%s::uuid, %s::uuid, %s::uuid, %s::bigint, %s::integer, %s::text, %s::text, NULL,"
    " %s::integer, %s::text, %s::text, %s::timestamptz)"
)
"""The hot path's call (a posted or pending transfer that resolves nothing): only the columns the caller does not
already know. The other fields of the result are the request's own: the function writes them as given, and a retry
is answered only when every one of them equals the stored transfer's."""
_CREATE_POSTED_ON_LOOP = positional(CREATE_POSTED_SQL)[0]
_CREATE_TRANSFER_ON_LOOP = positional(CREATE_TRANSFER_SQL)[0]


def create_posted(
    session: Session,
    *,
    id: uuid.UUID,
    debit: uuid.UUID,
    credit: uuid.UUID,
    amount: int,
    ledger: int | None,
    code: str,
    mode: str,
    timeout: int | None,
    ref_type: str,
    ref_id: str,
    now: datetime,
) -> tuple[Any, ...]:
    """Call ``ledger_create_transfer`` for one posted or pending transfer without ``pending_id``: one statement, one
    row back as a plain tuple ``(error, index, details, created, seq, ledger, timeout_at, created_at)``, through
    the connection's kept cursor. A refusal has ``error`` set and wrote nothing."""
    cur = _posting_cursor(session, _POSTED_CURSOR, None)
    cur.execute(CREATE_POSTED_SQL, (id, debit, credit, amount, ledger, code, mode, timeout, ref_type, ref_id, now))
    row: tuple[Any, ...] = cur.fetchone()
    return row


async def create_posted_alone_on_loop(conn: asyncpg.Connection, **params: Any) -> tuple[Any, ...]:
    """:func:`create_posted` as a whole transaction on a loop connection outside a transaction block
    (``db.on_loop``, ADR 0014, 0023, 0028): the function's one statement is the unit of work, committed durably
    before the answer, in one round trip, prepared on the server (asyncpg's statement cache). The same row back (a
    plain tuple); a refusal rolled itself back and wrote nothing."""
    if conn.is_in_transaction():
        raise ValueError("expects a loop connection outside a transaction block (db.on_loop)")
    return await (await create_posted_on_loop(conn, **params))()  # the parameters of create_posted_on_loop


async def create_transfer_on_loop(
    conn: asyncpg.Connection,
    *,
    id: uuid.UUID,
    debit: uuid.UUID | None,
    credit: uuid.UUID | None,
    amount: int | None,
    ledger: int | None,
    code: str,
    mode: str,
    pending: uuid.UUID | None,
    timeout: int | None,
    ref_type: str,
    ref_id: str,
    now: datetime,
) -> list[Any]:
    """:func:`create_transfer` (any mode, every result column, rows as named tuples) as a whole transaction on a
    loop connection outside a transaction block, as :func:`create_posted_alone_on_loop`."""
    if conn.is_in_transaction():
        raise ValueError("expects a loop connection outside a transaction block (db.on_loop)")
    params = (id, debit, credit, amount, ledger, code, mode, pending, timeout, ref_type, ref_id, now)
    return named_rows(await conn.fetch(_CREATE_TRANSFER_ON_LOOP, *params))


def create_transfers(
    session: Session,
    *,
    ids: list[uuid.UUID],
    debits: list[uuid.UUID | None],
    credits: list[uuid.UUID | None],
    amounts: list[int | None],
    ledgers: list[int | None],
    codes: list[str],
    modes: list[str],
    pendings: list[uuid.UUID | None],
    timeouts: list[int | None],
    ref_types: list[str],
    ref_ids: list[str],
    now: datetime,
) -> list[Any]:
    """Call ``ledger_create_transfers`` (migrations 0008, 0010) in the session's transaction: one round trip, rows in
    binary, as named tuples of the function's result columns (``r_error``, ``r_index``, ``r_details``, ``r_created``,
    ``r_id`` ...). Either one refusal row (``r_error`` set) and nothing written, or one row per transfer."""
    params = (ids, debits, credits, amounts, ledgers, codes, modes, pendings, timeouts, ref_types, ref_ids, now)
    with _psycopg_connection(session).cursor(binary=True, row_factory=namedtuple_row) as cur:
        cur.execute(CREATE_TRANSFERS_SQL, params)
        return list(cur.fetchall())


_POSTING_CURSOR = "prakerja.ledger.posting_cursor"
_POSTED_CURSOR = "prakerja.ledger.posted_cursor"


def _posting_cursor(session: Session, key: str = _POSTING_CURSOR, row_factory: Any = namedtuple_row) -> Any:
    """A binary cursor kept in the pooled connection's ``info`` for the single-transfer call: a new cursor per call
    (its adapters and the loaders of the 17 result columns) cost about as much client CPU as the rest of the
    service. It lives exactly as long as the DBAPI connection: SQLAlchemy empties a pooled connection's ``info``
    when it invalidates or reconnects it, so a new connection always gets a new cursor. The statement itself is
    prepared on the server by psycopg after a few executions (``prepare_threshold``), as any fixed query."""
    pooled = session.connection().connection
    cur = pooled.info.get(key)
    if cur is None:
        driver: Any = pooled.driver_connection
        options = {} if row_factory is None else {"row_factory": row_factory}
        cur = driver.cursor(binary=True, **options)
        pooled.info[key] = cur
    return cur


def expired_pending(session: Session, now: datetime, limit: int) -> list[uuid.UUID]:
    p = transfers.alias("p")
    r = transfers.alias("r")
    rows = session.execute(
        select(p.c.id)
        .where(
            p.c.mode == TransferMode.pending.value,
            p.c.timeout_at.is_not(None),
            p.c.timeout_at <= now,
            ~select(r.c.id).where(r.c.pending_id == p.c.id).exists(),
        )
        .order_by(p.c.timeout_at)
        .limit(limit)
    ).all()
    return [row.id for row in rows]


def history(session: Session, account_id: uuid.UUID, limit: int) -> list[Any]:
    """The account's transfers, newest first, with the posted balance after each (window over all of them)."""
    return list(
        session.execute(
            text(
                """
                SELECT * FROM (
                    SELECT t.*,
                        CASE WHEN t.mode IN ('posted', 'post_pending')
                             THEN CASE WHEN t.credit_account_id = :acct THEN t.amount ELSE -t.amount END
                             ELSE 0 END AS change,
                        CASE WHEN t.mode = 'pending'
                                  THEN CASE WHEN t.credit_account_id = :acct THEN t.amount ELSE -t.amount END
                             WHEN t.mode IN ('post_pending', 'void_pending')
                                  THEN CASE WHEN t.credit_account_id = :acct THEN -p.amount ELSE p.amount END
                             ELSE 0 END AS pending_change,
                        sum(CASE WHEN t.mode IN ('posted', 'post_pending')
                             THEN CASE WHEN t.credit_account_id = :acct THEN t.amount ELSE -t.amount END
                             ELSE 0 END) OVER (ORDER BY t.seq) AS running
                    FROM ledger_transfers t
                    LEFT JOIN ledger_transfers p ON p.id = t.pending_id
                    WHERE t.debit_account_id = :acct OR t.credit_account_id = :acct
                ) h ORDER BY seq DESC LIMIT :limit
                """
            ),
            {"acct": account_id, "limit": limit},
        ).all()
    )


def totals_by_code(session: Session, *, scheme: str, year: int, ledger: int) -> dict[tuple[str, str], int]:
    """(code, mode) -> sum of amounts, over transfers touching an account of this scheme-year."""
    rows = session.execute(
        text(
            """
            SELECT t.code, t.mode, sum(t.amount) AS total
            FROM ledger_transfers t
            JOIN ledger_accounts d ON d.id = t.debit_account_id
            JOIN ledger_accounts c ON c.id = t.credit_account_id
            WHERE t.ledger = :ledger
              AND ((d.scheme = :scheme AND d.year = :year) OR (c.scheme = :scheme AND c.year = :year))
            GROUP BY t.code, t.mode
            """
        ),
        {"scheme": scheme, "year": year, "ledger": ledger},
    ).all()
    return {(r.code, r.mode): int(r.total) for r in rows}


def pending_open_amount(session: Session, *, scheme: str, year: int) -> int:
    return int(
        session.execute(
            select(func.coalesce(func.sum(accounts.c.debits_pending), 0)).where(
                accounts.c.kind == AccountKind.training_wallet.value,
                accounts.c.scheme == scheme,
                accounts.c.year == year,
            )
        ).scalar_one()
    )


# check ----------------------------------------------------------------------------------------------------

_GENESIS_SQL = "'\\x0000000000000000000000000000000000000000000000000000000000000000'::bytea"
_CANONICAL_TEXT_SQL = """
ledger_canonical(t.id, t.ledger, t.code, t.mode, t.debit_account_id, t.credit_account_id, t.amount, t.pending_id,
    t.timeout_at, t.ref_type, t.ref_id, t.created_at)
"""
_SIDES_SQL = f"""
    SELECT t.debit_account_id AS account, t.seq, t.id, t.debit_prev_hash AS prev, t.hash, t.debit_link AS link,
           coalesce(t.hash, t.debit_link) AS result, CASE WHEN t.hash IS NULL THEN {_CANONICAL_TEXT_SQL} END AS body
    FROM ledger_transfers t
    UNION ALL
    SELECT t.credit_account_id, t.seq, t.id, t.credit_prev_hash, t.hash, t.credit_link,
           coalesce(t.hash, t.credit_link), CASE WHEN t.hash IS NULL THEN {_CANONICAL_TEXT_SQL} END
    FROM ledger_transfers t
"""
"""Each transfer once per account it touches: its own link (format 1), or its part of the account's batch link
(format 2, ``link`` set on the account's last transfer of the batch), in write order (``seq``)."""
_STEPS_SQL = f"""
    SELECT s.*, coalesce(sum((s.result IS NOT NULL)::integer) OVER (
               PARTITION BY s.account ORDER BY s.seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS step
    FROM ({_SIDES_SQL}) s
"""
"""The sides numbered into steps of each account's chain: a step ends at each row that carries a link (a format-1
transfer, or the account's last transfer of a batch); a batch's transfers of one account form one step."""

CHECK_QUERIES: dict[str, str] = {
    "sum_zero": """
        SELECT ledger, sum(debits_posted) - sum(credits_posted) AS posted,
               sum(debits_pending) - sum(credits_pending) AS pending
        FROM ledger_accounts GROUP BY ledger
        HAVING sum(debits_posted) <> sum(credits_posted) OR sum(debits_pending) <> sum(credits_pending)
    """,
    "totals": """
        WITH legs AS (
            SELECT t.debit_account_id AS account, t.mode, t.amount, -1 AS side, p.amount AS pending_amount
            FROM ledger_transfers t LEFT JOIN ledger_transfers p ON p.id = t.pending_id
            UNION ALL
            SELECT t.credit_account_id, t.mode, t.amount, 1, p.amount
            FROM ledger_transfers t LEFT JOIN ledger_transfers p ON p.id = t.pending_id
        ), sums AS (
            SELECT account,
                coalesce(sum(CASE WHEN side = -1 AND mode = 'pending' THEN amount
                                  WHEN side = -1 AND mode IN ('post_pending', 'void_pending') THEN -pending_amount
                             END), 0) AS dp,
                coalesce(sum(CASE WHEN side = -1 AND mode IN ('posted', 'post_pending') THEN amount END), 0) AS dpo,
                coalesce(sum(CASE WHEN side = 1 AND mode = 'pending' THEN amount
                                  WHEN side = 1 AND mode IN ('post_pending', 'void_pending') THEN -pending_amount
                             END), 0) AS cp,
                coalesce(sum(CASE WHEN side = 1 AND mode IN ('posted', 'post_pending') THEN amount END), 0) AS cpo
            FROM legs GROUP BY account
        )
        SELECT a.id FROM ledger_accounts a LEFT JOIN sums s ON s.account = a.id
        WHERE a.debits_pending <> coalesce(s.dp, 0) OR a.debits_posted <> coalesce(s.dpo, 0)
           OR a.credits_pending <> coalesce(s.cp, 0) OR a.credits_posted <> coalesce(s.cpo, 0)
        LIMIT 20
    """,
    "unknown_accounts": """
        SELECT t.id FROM ledger_transfers t
        WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = t.debit_account_id)
           OR NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.id = t.credit_account_id)
        LIMIT 20
    """,
    "resolved_twice": """
        SELECT pending_id FROM ledger_transfers WHERE pending_id IS NOT NULL
        GROUP BY pending_id HAVING count(*) > 1 LIMIT 20
    """,
    "resolves_non_pending": """
        SELECT t.id FROM ledger_transfers t LEFT JOIN ledger_transfers p ON p.id = t.pending_id
        WHERE t.pending_id IS NOT NULL
          AND (p.id IS NULL OR p.mode <> 'pending' OR p.debit_account_id <> t.debit_account_id
               OR p.credit_account_id <> t.credit_account_id OR t.amount > p.amount)
        LIMIT 20
    """,
    "hash": f"SELECT t.id FROM ledger_transfers t WHERE t.hash IS NOT NULL AND t.hash <> {CANONICAL_SQL} LIMIT 20",
    "links": f"""
        WITH steps AS (
            SELECT account, step, count(*) AS n, count(hash) AS n_one,
                   (array_agg(coalesce(hash, link) ORDER BY seq DESC))[1] AS result,
                   (array_agg(prev ORDER BY seq))[1] AS prev,
                   (array_agg(id ORDER BY seq))[1] AS first_id,
                   string_agg(body || E'\\n', '' ORDER BY seq) FILTER (WHERE hash IS NULL) AS bodies
            FROM ({_STEPS_SQL}) marked
            GROUP BY account, step
        ), ordered AS (
            SELECT s.*, lag(s.result, 1, {_GENESIS_SQL}) OVER (PARTITION BY s.account ORDER BY s.step) AS expected
            FROM steps s
        )
        SELECT DISTINCT ON (account) account, first_id FROM ordered
        WHERE result IS NULL
           OR (n_one > 0 AND (n <> 1 OR prev IS DISTINCT FROM expected))
           OR (n_one = 0 AND result <> sha256(expected || convert_to(bodies, 'UTF8')))
        ORDER BY account, step
        LIMIT 20
    """,
    "heads": f"""
        WITH newest AS (
            SELECT DISTINCT ON (account) account, result FROM ({_SIDES_SQL}) s
            WHERE result IS NOT NULL ORDER BY account, seq DESC
        )
        SELECT a.id FROM ledger_accounts a LEFT JOIN newest l ON l.account = a.id
        WHERE coalesce(l.result, {_GENESIS_SQL}) <> a.head_hash
        LIMIT 20
    """,
}


def run_check(session: Session, name: str) -> list[Any]:
    return list(session.execute(text(CHECK_QUERIES[name])).all())


def count_transfers_and_accounts(session: Session) -> tuple[int, int]:
    n_transfers = session.execute(select(func.count()).select_from(transfers)).scalar_one()
    n_accounts = session.execute(select(func.count()).select_from(accounts)).scalar_one()
    return int(n_transfers), int(n_accounts)


# batch (COPY) ---------------------------------------------------------------------------------------------

TRANSFER_COPY_COLUMNS = (
    "id",
    "debit_account_id",
    "credit_account_id",
    "amount",
    "debit_link",
    "credit_link",
    "ledger",
    "code",
    "mode",
    "ref_type",
    "ref_id",
    "created_at",
)
"""The batch's COPY columns: the fields that differ per row first, then those shared by a group of rows."""
COPY_BLOCK = 5000
"""Lines per COPY write on the batch path."""


def _psycopg_connection(session: Session) -> Any:
    return session.connection().connection.driver_connection


def batch_lock_accounts(session: Session, rows: bytes) -> tuple[int, int, int, bool, bytes, bytes]:
    """COPY the batch's accounts (binary rows ``id, position, debits, credits``: distinct ids in ascending order,
    with the sums the batch moves) into a temporary table, lock those accounts in id order and return
    ``(found, lowest ledger, highest ledger, any closed, ids, heads)``: ``ids`` and ``heads`` are the found
    accounts' 16-byte ids and 32-byte chain heads, each concatenated in lock order (two values to send and read
    instead of a row per account). :func:`batch_apply_deltas` then updates them from the same table.

    ``id = ANY(ARRAY(...))``: one scan of the primary key (bitmap scans are turned off for it) that visits the
    wanted leaf pages in id order, so rows come out sorted and are locked in that order without a sort, and a
    batch of 100,000 in a table of millions reads only its own pages (``IN (SELECT ...)`` was planned as a
    de-duplicating aggregate and one index probe per id; a join, as a hash or merge join over the whole table:
    both several times slower). The aggregates take the rows
    in the order the subquery locked them (an ``ORDER BY`` inside them sorted all the rows again, on disk); the
    caller compares ``ids`` with the ids it expects, so the order is checked, not assumed."""
    conn = _psycopg_connection(session)
    with conn.cursor() as cur:
        cur.execute(
            "DROP TABLE IF EXISTS ledger_batch_ids;"
            " CREATE TEMP TABLE ledger_batch_ids (id uuid, position integer, debits bigint, credits bigint)"
            " ON COMMIT DROP"
        )
        with cur.copy("COPY ledger_batch_ids FROM STDIN (FORMAT BINARY)") as copy:
            copy.write(pgcopy.SIGNATURE)
            copy.write(rows)
            copy.write(pgcopy.TRAILER)
        # The planner cannot know how many ids the subquery gives (it guesses 10), so left alone it reads the
        # accounts with a bitmap scan, which loses the index order, and sorts them again, on disk past work_mem:
        # half the statement's CPU. Without bitmap scans it walks the primary key, whose order is the lock order.
        # The setting is local to this statement: the caller's value comes back right after it (a refusal rolls
        # the savepoint back, and the setting with it).
        before = cur.execute("SELECT current_setting('enable_bitmapscan')").fetchone()[0]
        cur.execute("SET LOCAL enable_bitmapscan = off")
        cur.execute(
            "SELECT count(*), min(a.ledger), max(a.ledger), coalesce(bool_or(a.closed), false),"
            " coalesce(string_agg(uuid_send(a.id), ''::bytea), ''::bytea),"
            " coalesce(string_agg(a.head_hash, ''::bytea), ''::bytea)"
            " FROM (SELECT id, ledger, closed, head_hash FROM ledger_accounts"
            " WHERE id = ANY(ARRAY(SELECT id FROM ledger_batch_ids)) ORDER BY id FOR UPDATE) a",
            binary=True,
        )
        row = cur.fetchone()
        cur.execute("SELECT set_config('enable_bitmapscan', %s, true)", (before,))
        return int(row[0]), row[1], row[2], bool(row[3]), bytes(row[4]), bytes(row[5])


def batch_locked_flags(session: Session) -> list[tuple[int, bool]]:
    """``(ledger, closed)`` of the accounts locked by :func:`batch_lock_accounts`, in id order (a batch that spans
    ledgers or touches a closed account is checked transfer by transfer)."""
    with _psycopg_connection(session).cursor() as cur:
        cur.execute(
            "SELECT a.ledger, a.closed FROM ledger_accounts a"
            " WHERE a.id = ANY(ARRAY(SELECT id FROM ledger_batch_ids)) ORDER BY a.id",
            binary=True,
        )
        return [(int(r[0]), bool(r[1])) for r in cur.fetchall()]


def batch_flagged_totals(session: Session, id_texts: Sequence[str]) -> dict[str, tuple[bool, bool, int, int, int, int]]:
    """Balance flags and totals of those of ``id_texts`` that carry a flag (naming the account a refused batch
    would overdraw)."""
    with _psycopg_connection(session).cursor() as cur:
        cur.execute(
            "SELECT id::text, debits_must_not_exceed_credits, credits_must_not_exceed_debits, debits_pending,"
            " debits_posted, credits_pending, credits_posted FROM ledger_accounts"
            " WHERE id = ANY(%s::uuid[]) AND (debits_must_not_exceed_credits OR credits_must_not_exceed_debits)",
            (list(id_texts),),
        )
        return {r[0]: (r[1], r[2], r[3], r[4], r[5], r[6]) for r in cur.fetchall()}


def batch_missing_account(session: Session) -> uuid.UUID | None:
    """An id of ``ledger_batch_ids`` that is no account (after :func:`batch_lock_accounts` found fewer rows)."""
    with _psycopg_connection(session).cursor() as cur:
        cur.execute(
            "SELECT b.id FROM ledger_batch_ids b LEFT JOIN ledger_accounts a ON a.id = b.id WHERE a.id IS NULL LIMIT 1"
        )
        row = cur.fetchone()
        return row[0] if row else None


def batch_existing(session: Session, id_texts: Sequence[str]) -> dict[str, tuple[Any, ...]]:
    """The transfers of a batch that already exist (slow path, only after a conflict), by id text:
    ``(debit, credit, amount, code, ref_type, ref_id, mode)`` with the accounts as text (no UUID objects made)."""
    conn = _psycopg_connection(session)
    with conn.cursor() as cur:
        cur.execute(
            "DROP TABLE IF EXISTS ledger_batch_tids; CREATE TEMP TABLE ledger_batch_tids (id uuid) ON COMMIT DROP"
        )
        with cur.copy("COPY ledger_batch_tids (id) FROM STDIN") as copy:
            for start in range(0, len(id_texts), COPY_BLOCK):
                copy.write("\n".join(id_texts[start : start + COPY_BLOCK]) + "\n")
        cur.execute(
            "SELECT t.id::text, t.debit_account_id::text, t.credit_account_id::text, t.amount, t.code, t.ref_type,"
            " t.ref_id, t.mode FROM ledger_transfers t WHERE t.id = ANY(ARRAY(SELECT id FROM ledger_batch_tids))"
        )
        return {row[0]: tuple(row[1:]) for row in cur.fetchall()}


def batch_copy_transfers(session: Session, blocks: Iterable[bytes]) -> None:
    """Binary COPY of blocks of rows already encoded by the caller (columns ``TRANSFER_COPY_COLUMNS``): the batch
    builds each row from pieces it computed once per account, code and reference, far cheaper than dumping every
    value of every row."""
    conn = _psycopg_connection(session)
    statement = f"COPY ledger_transfers ({', '.join(TRANSFER_COPY_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
    # a writer thread sends each block (and waits on the socket while the server stores it) while this thread
    # builds the next one: the chain hashing and the server's inserts overlap on two cores
    with conn.cursor() as cur, cur.copy(statement, writer=QueuedLibpqWriter(cur)) as copy:
        copy.write(pgcopy.SIGNATURE)
        for block in blocks:
            copy.write(block)
        copy.write(pgcopy.TRAILER)


def batch_apply_deltas(session: Session, heads: bytes) -> None:
    """One aggregated UPDATE of every account locked by :func:`batch_lock_accounts`: its sums added, its new chain
    head taken from ``heads`` (32 bytes per account, in lock order) by its position; the CHECK constraints still
    apply row by row. The ``ANY(ARRAY(...))`` condition reaches the accounts through the primary key instead of
    hashing the whole table."""
    with _psycopg_connection(session).cursor() as cur:
        cur.execute(
            "UPDATE ledger_accounts a SET debits_posted = a.debits_posted + d.debits,"
            " credits_posted = a.credits_posted + d.credits,"
            " head_hash = substring(%s::bytea FROM d.position * 32 + 1 FOR 32)"
            " FROM ledger_batch_ids d WHERE a.id = d.id AND a.id = ANY(ARRAY(SELECT id FROM ledger_batch_ids))",
            (heads,),
            binary=True,
        )


def empty_forfeit_exists(session: Session, transfer_id: uuid.UUID) -> bool:
    return session.get(EmptyForfeit, transfer_id) is not None


def record_empty_forfeit(session: Session, transfer_id: uuid.UUID, participant_id: str, now: datetime) -> None:
    session.execute(
        pg_insert(EmptyForfeit)
        .values(transfer_id=transfer_id, participant_id=participant_id, created_at=now)
        .on_conflict_do_nothing(index_elements=["transfer_id"])
    )
