"""Where a purchase's PostgreSQL time goes, call by call (issue 13 "Performance", ADR 0029).

    python benchmarks/purchase_profile.py [--calls N] [--sustain S] [--connections C] [--courses N]
    python benchmarks/purchase_profile.py --setup      # once: load pg_stat_statements (a server restart applies it)
    python benchmarks/purchase_profile.py --teardown   # unload it again before measuring CPU with marketplace.py

The same scratch database, server and signed calls as ``benchmarks/marketplace.py`` (its helpers are reused), on a
smaller catalogue; after an optional sustained load (``--sustain`` seconds from 16 connections, so the tables have
the size and statistics of a run), ``--calls`` inquiries, then their purchases, then their confirmations, then as
many signed pings, each phase from ``--connections`` connections (1: no lock waits, so execution time is CPU). For
each phase: the web processes' and the PostgreSQL backends' CPU per call from ``/proc`` (by process role), and from
``pg_stat_statements`` (``track = all``: the statements inside functions and triggers too) every statement's calls,
execution time, buffers and WAL per call, and ``pg_stat_user_functions`` (``track_functions = all``) per call.
``pg_stat_statements`` costs CPU itself: measure CPU with ``marketplace.py`` after ``--teardown``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from typing import Any

import marketplace as m  # benchmarks/marketplace.py
from cpu import postmaster_pid, tree_cpu_by_role, tree_cpu_seconds  # benchmarks/cpu.py

STATEMENTS = (
    "SELECT calls, total_exec_time, shared_blks_hit, wal_records, toplevel,"
    " left(regexp_replace(query, '\\s+', ' ', 'g'), 150) FROM pg_stat_statements"
    " WHERE query NOT LIKE '%%pg_stat%%' ORDER BY total_exec_time DESC LIMIT %s"
)
FUNCTIONS = "SELECT schemaname || '.' || funcname, calls, total_time, self_time FROM pg_stat_user_functions"


def server_conninfo() -> str:
    from prakerja.jobs import libpq_conninfo
    from prakerja.pgembed import embedded_url

    home = m.ROOT / ".prakerja-bench"
    home.mkdir(exist_ok=True)
    return libpq_conninfo(embedded_url(home))


def configure(load: bool) -> None:
    import psycopg

    with psycopg.connect(server_conninfo(), autocommit=True) as conn:
        if load:
            conn.execute("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'")
            conn.execute("ALTER SYSTEM SET pg_stat_statements.track = 'all'")
            conn.execute("ALTER SYSTEM SET track_functions = 'all'")
        else:
            conn.execute("ALTER SYSTEM RESET shared_preload_libraries")
            conn.execute("ALTER SYSTEM RESET pg_stat_statements.track")
            conn.execute("ALTER SYSTEM RESET track_functions")
    print("applied at the benchmark server's next start", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=150)
    parser.add_argument("--sustain", type=float, default=20.0, help="sustained purchases first (seconds; 0: none)")
    parser.add_argument("--connections", type=int, default=1, help="connections in the call-by-call phases")
    parser.add_argument("--courses", type=int, default=160)
    parser.add_argument("--top", type=int, default=30, help="statements shown per phase")
    parser.add_argument("--setup", action="store_true")
    parser.add_argument("--teardown", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("PRAKERJA_HOME", str(m.ROOT / ".prakerja-bench"))
    if args.setup or args.teardown:
        configure(args.setup)
        return
    import psycopg
    import uvloop

    url, _ = m.scratch_database()
    env = {
        **os.environ,
        "PRAKERJA_DATABASE_URL": url,
        "PRAKERJA_LOG_LEVEL": "WARNING",
        "PRAKERJA_POOL_SIZE": "20",
        "PRAKERJA_PARTNER_RATE_LIMIT_PER_MINUTE": "100000",
    }
    os.environ.update(env)
    from prakerja import db, migrate
    from prakerja.config import reset_settings
    from prakerja.jobs import libpq_conninfo

    reset_settings()
    db.dispose()
    migrate.upgrade(url=url)
    institutions, platforms = m.seed_partners(20, 4)
    courses = m.seed_courses(max(16, args.courses // 16 * 16), institutions, platforms)
    cards = m.seed_recipients(300 + args.calls + int(args.sustain * 120))
    dsn = libpq_conninfo(url)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ANALYZE")
        try:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            conn.execute("SELECT pg_stat_statements_reset()")
        except psycopg.Error:
            sys.exit("pg_stat_statements is not loaded: run with --setup first")
    db.dispose()
    work = [(card, account, platforms[i % len(platforms)]) for i, (card, account) in enumerate(cards)]
    warm, calls, sustained = work[:300], work[300 : 300 + args.calls], work[300 + args.calls :]
    port = m.free_port()
    server = m.start_server(env, port, 2)
    database = postmaster_pid(url) or 0
    watch = {"server": server.pid, "database": database}
    report: dict[str, Any] = {}
    try:
        m.run_load("purchase", port, [{"work": warm, "courses": courses, "dsn": dsn}], 4, 6, watch)
        if args.sustain:
            jobs = [{"work": sustained[p::2], "courses": courses, "dsn": dsn} for p in range(2)]
            done = m.run_load("purchase", port, jobs, 8, args.sustain, watch)
            report["sustained"] = {"purchases": done["ok"], "cpu_us_per_purchase": done["cpu_us_per_op"]}
        items = [{"card": c, "account": a, "platform": p, "tag": uuid.uuid4().hex[:12]} for c, a, p in calls]
        rng = random.Random(7)
        admin = psycopg.connect(dsn, autocommit=True)
        for step in ("inquiry", "purchase", "confirm", "ping"):
            if step == "confirm":
                uvloop.run(_phones(dsn, items))
            todo = _requests(step, items, courses, rng)
            admin.execute("SELECT pg_stat_statements_reset()")
            admin.execute("SELECT pg_stat_reset()")
            time.sleep(0.5)
            functions_before = {r[0]: r[1:] for r in admin.execute(FUNCTIONS).fetchall()}
            before = {name: tree_cpu_seconds(pid) for name, pid in watch.items()}
            roles_before = tree_cpu_by_role(database)
            good = uvloop.run(_phase(port, step, todo, args.connections))
            used = {name: tree_cpu_seconds(pid) - before[name] for name, pid in watch.items()}
            roles = tree_cpu_by_role(database)
            time.sleep(0.7)
            n = max(1, good)
            statements = admin.execute(STATEMENTS % int(args.top)).fetchall()
            functions = {r[0]: r[1:] for r in admin.execute(FUNCTIONS).fetchall()}
            report[step] = {
                "calls": good,
                "web_us": round(used["server"] / n * 1e6),
                "database_us": round(used["database"] / n * 1e6),
                "database_us_by_role": {
                    role: round((sum(roles[role]) - sum(roles_before.get(role, (0.0, 0.0)))) / n * 1e6)
                    for role in roles
                    if sum(roles[role]) != sum(roles_before.get(role, (0.0, 0.0)))
                },
                "toplevel_statements": round(sum(r[0] for r in statements if r[4]) / n, 2),
                "toplevel_exec_us": round(sum(r[1] for r in statements if r[4]) * 1000 / n),
                "statements": [
                    {
                        "calls": round(r[0] / n, 2),
                        "exec_us": round(r[1] * 1000 / n),
                        "buffers": round(r[2] / n, 1),
                        "wal_records": round(r[3] / n, 1),
                        "toplevel": r[4],
                        "query": r[5],
                    }
                    for r in statements
                ],
                "functions": {
                    name: {
                        "calls": round((v[0] - functions_before.get(name, (0, 0, 0))[0]) / n, 2),
                        "total_us": round((v[1] - functions_before.get(name, (0, 0, 0))[1]) * 1000 / n),
                    }
                    for name, v in functions.items()
                    if v[0] != functions_before.get(name, (0, 0, 0))[0]
                },
            }
            print(f"{step}: web {report[step]['web_us']} us, db {report[step]['database_us']} us", file=sys.stderr)
        admin.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        db.dispose()
    print(json.dumps(report, indent=1))


def _requests(step: str, items: list[dict[str, Any]], courses: list[str], rng: random.Random) -> list[Any]:
    out: list[Any] = []
    for it in items:
        p, tag = it["platform"], it["tag"]
        if step == "inquiry":
            body = json.dumps({"card_number": it["card"]}).encode()
            out.append((it, m.signed("POST", "/partner/v1/cards/inquiry", body, p, f"bi-{tag}")))
        elif step == "purchase":
            body = json.dumps(
                {
                    "card_number": it["card"],
                    "course_id": rng.choice(courses),
                    "platform_order_id": f"order-b{tag}",
                    "platform_account_id": f"akun-{it['account']}",
                }
            ).encode()
            out.append((it, m.signed("POST", "/partner/v1/purchases", body, p, f"bp-{tag}")))
        elif step == "confirm" and "purchase_id" in it:
            body = json.dumps({"otp": it["otp"]}).encode()
            path = f"/partner/v1/purchases/{it['purchase_id']}/confirm"
            out.append((it, m.signed("POST", path, body, p, f"bc-{tag}")))
        elif step == "ping":
            out.append((it, m.signed("GET", f"{m.PING_PATH}?n={uuid.uuid4().hex}", b"", p, None)))
    return out


async def _phones(dsn: str, items: list[dict[str, Any]]) -> None:
    import psycopg

    async with await psycopg.AsyncConnection.connect(dsn) as conn:
        for it in items:
            if "purchase_id" in it:
                it["otp"] = await m._otp(conn, it["account"])


async def _phase(port: int, step: str, todo: list[Any], connections: int) -> int:
    good = 0

    async def worker() -> None:
        nonlocal good
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        http = m.Http(reader, writer)
        try:
            while todo:
                it, request = todo.pop()
                status, answer, _ = await http.call(request)
                if 200 <= status < 300:
                    good += 1
                    if step == "purchase":
                        it["purchase_id"] = json.loads(answer)["purchase_id"]
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return good


if __name__ == "__main__":
    main()
