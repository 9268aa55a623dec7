"""The signed call's frame on one asyncpg connection: what a round trip and a durable commit cost (branch ``mframe``).

    python benchmarks/frame_round_trips.py [--iterations N] [--rounds R]

One asyncpg connection on uvloop, in one process, against a scratch database migrated as the app's (embedded server
under ``.prakerja-bench`` or ``PRAKERJA_BENCH_DATABASE_URL``), 20,000 idempotency records in it, analyzed. Each
variant runs ``--iterations`` times per round, the variants in turn within each round; per variant the medians over
the rounds of this process's CPU (``time.process_time``), PostgreSQL's (its process tree, ``benchmarks/cpu.py``) and
the wall time, per iteration:

- ``begin_rollback``: ``BEGIN``, ``ROLLBACK`` (two round trips: what one costs);
- ``claim_prepared``: ``BEGIN``, the prepared ``idempotency_claim``, ``ROLLBACK`` (the frame's claim today);
- ``claim_folded``: ``BEGIN; SELECT f(...)`` in one message of the simple query protocol (no parameters: the values
  written into the text as hex, as a safe caller must), then ``ROLLBACK``; ``f`` is a temporary copy of what the
  claim does that answers nothing (ADR 0033, "Rejected");
- ``store_prepared``: ``BEGIN``, the prepared ``INSERT`` of an idempotency record, ``COMMIT``;
- ``store_folded``: ``BEGIN``, then ``INSERT ...; COMMIT`` in one message, values as hex;
- ``commit_durable`` / ``commit_quick``: one autocommit ``INSERT`` of an idempotency record, the second with
  ``set_config('synchronous_commit', 'off', true)`` in the statement (the admission's commit, ADR 0033).

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import marketplace  # benchmarks/marketplace.py
from cpu import postmaster_pid, tree_cpu_seconds  # benchmarks/cpu.py

ROOT = Path(__file__).resolve().parents[1]

FOLDED_CLAIM = """
CREATE FUNCTION pg_temp.claim_or_raise(p_lock bigint, p_scope text, p_key text, p_now timestamptz)
RETURNS void LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    stored_until timestamptz;
BEGIN
    IF NOT pg_try_advisory_xact_lock(p_lock) THEN
        RAISE EXCEPTION 'in use' USING ERRCODE = 'IK409';
    END IF;
    SELECT k.expires_at INTO stored_until FROM idempotency_keys k WHERE k.scope = p_scope AND k.key = p_key;
    IF FOUND AND stored_until > p_now THEN
        RAISE EXCEPTION 'stored' USING ERRCODE = 'IK200';
    END IF;
END
$$
"""

INSERT = (
    "INSERT INTO idempotency_keys (scope, key, fingerprint, method, path, status_code, response_body, created_at,"
    " expires_at) VALUES "
)


def text_literal(value: str) -> str:
    return f"convert_from(decode('{value.encode().hex()}', 'hex'), 'UTF8')"


def bytes_literal(value: bytes) -> str:
    return f"decode('{value.hex()}', 'hex')"


def time_literal(value: datetime) -> str:
    return f"'{value.isoformat()}'::timestamptz"


async def measure(url: str, iterations: int, rounds: int) -> dict[str, dict[str, float]]:
    import asyncpg

    conn = await asyncpg.connect(url)
    await conn.execute(FOLDED_CLAIM)
    database = postmaster_pid(url)
    answer = b'{"purchase_id":"' + b"0" * 36 + b'","status":"otp_sent","otp_expires_at":"2026-12-06T19:05:00Z"}'
    fingerprint = bytes(32)
    scope = "partner:" + str(uuid.uuid4())
    path = "/partner/v1/purchases"
    counter = iter(range(10**9))

    def now() -> datetime:
        return datetime.now(UTC)

    async def begin_rollback() -> None:
        await conn.execute("BEGIN")
        await conn.execute("ROLLBACK")

    async def claim_prepared() -> None:
        n = next(counter)
        await conn.execute("BEGIN")
        await conn.fetchrow(
            "SELECT locked, fingerprint, status_code, response_body, expires_at FROM idempotency_claim($1, $2, $3)",
            n,
            scope,
            f"key-{n}",
        )
        await conn.execute("ROLLBACK")

    async def claim_folded() -> None:
        n = next(counter)
        await conn.execute(
            f"BEGIN; SELECT pg_temp.claim_or_raise({n}, {text_literal(scope)}, {text_literal(f'key-{n}')},"
            f" {time_literal(now())})"
        )
        await conn.execute("ROLLBACK")

    async def store_prepared() -> None:
        n = next(counter)
        at = now()
        await conn.execute("BEGIN")
        await conn.execute(
            INSERT + "($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            scope,
            f"store-{n}",
            fingerprint,
            "POST",
            path,
            201,
            answer,
            at,
            at + timedelta(days=1),
        )
        await conn.execute("COMMIT")

    async def store_folded() -> None:
        n = next(counter)
        at = now()
        values = ", ".join(
            (
                text_literal(scope),
                text_literal(f"store-{n}"),
                bytes_literal(fingerprint),
                text_literal("POST"),
                text_literal(path),
                "201",
                bytes_literal(answer),
                time_literal(at),
                time_literal(at + timedelta(days=1)),
            )
        )
        await conn.execute("BEGIN")
        await conn.execute(f"{INSERT}({values}); COMMIT")

    async def commit_durable() -> None:
        n = next(counter)
        await conn.execute(
            INSERT + "($1, $2, '', 'X', '', 0, '', now(), now())",
            scope,
            f"durable-{n}",
        )

    async def commit_quick() -> None:
        n = next(counter)
        await conn.execute(
            "WITH quick AS (SELECT set_config('synchronous_commit', 'off', true)) "
            + INSERT.replace(" VALUES ", " ")
            + "SELECT $1, $2, '', 'X', '', 0, '', now(), now() FROM quick",
            scope,
            f"quick-{n}",
        )

    variants: list[Callable[[], Awaitable[None]]] = [
        begin_rollback,
        claim_prepared,
        claim_folded,
        store_prepared,
        store_folded,
        commit_durable,
        commit_quick,
    ]
    # a table of a run's size, analyzed (so that no plan is chosen for an empty table: the folded claim's function
    # got a sequential scan that way, 400 us a call), then prepared statements, plans and caches
    await conn.execute(
        INSERT.replace(" VALUES ", " ") + "SELECT 'partner:seed', 'seed-' || i, '', 'X', '', 0, '', now(), now()"
        " FROM generate_series(1, 20000) i"
    )
    await conn.execute("ANALYZE idempotency_keys")
    for variant in variants:
        for _ in range(50):
            await variant()
    figures: dict[str, list[tuple[float, float, float]]] = {v.__name__: [] for v in variants}
    for r in range(rounds):
        for variant in variants:
            db_before = tree_cpu_seconds(database) if database else 0.0
            own_before, wall_before = time.process_time(), time.perf_counter()
            for _ in range(iterations):
                await variant()
            own, wall = time.process_time() - own_before, time.perf_counter() - wall_before
            used_db = (tree_cpu_seconds(database) - db_before) if database else 0.0
            figures[variant.__name__].append(
                (own / iterations * 1e6, used_db / iterations * 1e6, wall / iterations * 1e6)
            )
        print(f"  round {r + 1} done", file=sys.stderr)
    await conn.close()
    return {
        name: {
            "client_us": round(statistics.median(f[0] for f in runs)),
            "database_us": round(statistics.median(f[1] for f in runs)),
            "wall_us": round(statistics.median(f[2] for f in runs)),
        }
        for name, runs in figures.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=600, help="iterations of each variant per round (600)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (3)")
    args = parser.parse_args()

    import uvloop

    os.environ.setdefault("PRAKERJA_HOME", str(ROOT / ".prakerja-bench"))
    marketplace.DB_NAME = "prakerja_bench_frame"
    url, _ = marketplace.scratch_database()
    os.environ.update({"PRAKERJA_DATABASE_URL": url, "PRAKERJA_LOG_LEVEL": "WARNING"})
    from prakerja import db, migrate
    from prakerja.config import reset_settings

    reset_settings()
    db.dispose()
    migrate.upgrade(url=url)
    db.dispose()
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    try:
        result = uvloop.run(measure(plain, args.iterations, args.rounds))
    finally:
        marketplace.drop_database(url)
    for name, figures in result.items():
        print(
            f"{name:16} client {figures['client_us']:6} us  PostgreSQL {figures['database_us']:6} us"
            f"  wall {figures['wall_us']:6} us"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    asyncio.set_event_loop_policy(None)
    main()
