"""Two schemas, one process, the same seconds (issue 13 "Performance", branch ``mconf``, ADR 0040).

    python3 benchmarks/confirm_schema_ab.py [CHUNK] [CHUNKS]     # SOCKET, DB_MAIN, DB_BRANCH in the environment

The confirmation's purchase-and-codes write (its ``taken``, ``confirmed`` and ``codes`` CTEs, as
``training.repository.confirm_on_loop`` sends them, on a purchase copied from one the database holds, awaiting its
code) and the copy's ``INSERT`` (what a creation adds to ``training_purchases``), each in its own durable transaction,
on two databases of one server that ``benchmarks/purchase_statements.py`` left with the same workload: one migrated
by ``main`` (``DB_MAIN``), one by this branch (``DB_BRANCH``). ``CHUNKS`` chunks of ``CHUNK`` of each, alternating
(the order swapped every chunk); each backend's CPU from ``/proc/<pid>/schedstat`` (ns, the commit's flush
included). Medians per chunk and the median of the paired ratios.
"""

# ruff: noqa: E501, B905, RUF005  (a measurement script, kept as it was run)

import asyncio
import os
import random
import statistics
import sys
import uuid

import asyncpg

SOCK = os.environ.get("SOCKET", "/tmp/mconf/pgprof/pgdata")
DBS = {
    "main": os.environ.get("DB_MAIN", "prakerja_mconf_pm"),
    "mconf": os.environ.get("DB_BRANCH", "prakerja_mconf_pb"),
}
CHUNK, CHUNKS = int(sys.argv[1]) if len(sys.argv) > 1 else 50, int(sys.argv[2]) if len(sys.argv) > 2 else 20
ALPHA = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def code(n):
    return "".join(random.choice(ALPHA) for _ in range(n))


COPY = (
    "INSERT INTO training_purchases (id, created_at, recipient_id, participant_id, account_id, course_id, institution_id,"
    " platform_id, platform_order_id, platform_account_index, amount, refunded_amount, status, otp_hash, otp_expires_at,"
    " otp_attempts, pending_transfer_id, cancel_reason) SELECT $1, now(), recipient_id, participant_id, account_id, course_id,"
    " institution_id, platform_id, platform_order_id, platform_account_index, amount, 0, 'otp_sent', otp_hash,"
    " now() + interval '5 minutes', 0, $2, '' FROM training_purchases WHERE id = $3"
)
WRITE = {
    "main": "WITH taken AS (SELECT code FROM training_redeem_codes WHERE code = ANY($1::text[]) UNION ALL SELECT voucher_code FROM training_purchases WHERE voucher_code = ANY($1::text[])), confirmed AS (UPDATE training_purchases SET status = 'confirmed', confirmed_at = now(), voucher_code = $2 WHERE id = $3 AND status = 'otp_sent' AND NOT EXISTS (SELECT FROM taken) RETURNING id, institution_id), codes AS (INSERT INTO training_redeem_codes (id, created_at, purchase_id, session_id, institution_id, training_type, code, state, valid_from, valid_until) SELECT c.id, now(), confirmed.id, c.session_id, confirmed.institution_id, c.training_type, c.code, 'valid', c.valid_from, c.valid_until FROM confirmed, unnest($4::uuid[], $5::uuid[], $6::text[], $7::text[], $8::timestamptz[], $9::timestamptz[]) AS c(id, session_id, training_type, code, valid_from, valid_until)) SELECT ARRAY(SELECT code FROM taken)::text[]",
}
WRITE["mconf"] = WRITE["main"]


def sched(pid):
    return int(open(f"/proc/{pid}/schedstat").read().split()[0])


async def main():
    conns, pids, templates, sessions = {}, {}, {}, {}
    for k, d in DBS.items():
        c = await asyncpg.connect(host=SOCK, user="postgres", database=d)
        conns[k] = c
        pids[k] = await c.fetchval("SELECT pg_backend_pid()")
        rows = await c.fetch("SELECT id, course_id FROM training_purchases WHERE status = 'confirmed' LIMIT 50")
        templates[k] = rows
        sessions[k] = {}
        for r in rows:
            sessions[k][r["course_id"]] = await c.fetch(
                "SELECT id, training_type, starts_at FROM catalog_course_sessions WHERE course_id = $1 ORDER BY position",
                r["course_id"],
            )
    cpu = {k: {"copy": [], "write": []} for k in DBS}

    async def one(k):
        c, pid = conns[k], pids[k]
        t = random.choice(templates[k])
        ss = sessions[k][t["course_id"]]
        pid_ = uuid.uuid4()
        a = sched(pid)
        async with c.transaction():
            await c.execute(COPY, pid_, uuid.uuid4(), t["id"])
        b = sched(pid)
        codes = [code(10) for _ in ss]
        async with c.transaction():
            taken = await c.fetchval(
                WRITE[k],
                [code(12)] + codes,
                code(12),
                pid_,
                [uuid.uuid4() for _ in ss],
                [s["id"] for s in ss],
                [s["training_type"] for s in ss],
                codes,
                [s["starts_at"] for s in ss],
                [s["starts_at"] for s in ss],
            )
        e = sched(pid)
        assert not taken
        return b - a, e - b

    for k in DBS:  # warm
        for _ in range(20):
            await one(k)
    for n in range(CHUNKS):
        for k in DBS if n % 2 == 0 else list(DBS)[::-1]:
            cs, ws = 0, 0
            for _ in range(CHUNK):
                x, y = await one(k)
                cs += x
                ws += y
            cpu[k]["copy"].append(cs / CHUNK / 1e3)
            cpu[k]["write"].append(ws / CHUNK / 1e3)
    for k in DBS:
        print(
            k,
            "purchase INSERT + commit us: median",
            round(statistics.median(cpu[k]["copy"]), 1),
            "| confirm write (purchase UPDATE + 5 codes) + commit us: median",
            round(statistics.median(cpu[k]["write"]), 1),
            "chunks",
            len(cpu[k]["write"]),
        )
    print(
        "paired ratio write mconf/main:",
        round(statistics.median(m / b for m, b in zip(cpu["mconf"]["write"], cpu["main"]["write"])), 3),
        "copy:",
        round(statistics.median(m / b for m, b in zip(cpu["mconf"]["copy"], cpu["main"]["copy"])), 3),
    )


asyncio.run(main())
