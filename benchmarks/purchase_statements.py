"""The purchase's statements, call by call, in-process (issue 13 "Performance", branch ``mconf``, ADR 0040).

    cd benchmarks && PRAKERJA_BENCH_DATABASE_URL=URL PYTHONPATH=../src python3 purchase_statements.py [N] [OUT.json]

The signed calls of ``benchmarks/partner_asgi.py`` (inquiry, creation, confirmation) through the whole ASGI app,
on a server that loads ``pg_stat_statements`` (``track = all``: statements inside functions and triggers, foreign-key
checks included) and, for ``PROBE_EXPLAIN``, ``auto_explain``: ``N`` purchases to warm up (connections, prepared
statements, tables of a run's size), then (``PROBE_ANALYZE=1``) ``ANALYZE`` and ten more, then ``PROBE_ROUNDS``
rounds of ``N`` measured: per phase of the first, every statement's calls, execution time, buffers, WAL records and
bytes per call (``pg_stat_statements``) and the WAL written per call (``pg_current_wal_lsn``); per phase of every
round, the CPU of the database's backends (``/proc/<pid>/schedstat``, ns), of the server's process tree and of this
process, per call. The database (``PROBE_DB``, default ``prakerja_mconf_probe``) is kept for ``EXPLAIN`` and for
``benchmarks/confirm_schema_ab.py``. Options (environment): ``PROBE_SQL`` (run after the warm-up, e.g. a schema
variant), ``PROBE_NOSTAT``, ``PROBE_EXPLAIN`` with ``PROBE_MIN`` (``auto_explain`` of every statement over that many
ms, nested ones too, with buffers and WAL, into the server's log). The server: an embedded one started on its own
folder (``PYTHONPATH=../src python3 -c 'from pathlib import Path; from prakerja.pgembed import embedded_url;
print(embedded_url(Path("/tmp/pgprof")))'`` held open by a process) with ``shared_preload_libraries =
'pg_stat_statements,auto_explain'`` and ``pg_stat_statements.track = 'all'`` in its ``postgresql.auto.conf``.
"""

# ruff: noqa: E402, E501, SIM115, B023, B905  (a measurement script, kept as it was run)

import asyncio
import json
import os
import sys
import time
import uuid

import marketplace
from partner_asgi import call, signed_scope
from purchase_in_process import otps

N = int(sys.argv[1]) if len(sys.argv) > 1 else 200
OUT = sys.argv[2] if len(sys.argv) > 2 else "purchase_statements.json"
marketplace.DB_NAME = os.environ.get("PROBE_DB", "prakerja_mconf_probe")
url, _ = marketplace.scratch_database()
os.environ.update({"PRAKERJA_DATABASE_URL": url, "PRAKERJA_LOG_LEVEL": "WARNING"})
os.environ["PRAKERJA_PARTNER_RATE_LIMIT_PER_MINUTE"] = "100000"
import psycopg
import uvloop

from prakerja import db, migrate
from prakerja.app import create_app
from prakerja.audit.service import Actor
from prakerja.config import reset_settings
from prakerja.jobs import libpq_conninfo
from prakerja.partners import service as partners

reset_settings()
db.dispose()
migrate.upgrade(url=url)
institutions, platforms = marketplace.seed_partners(1, 1)
with db.unit_of_work() as session:
    partners.add_webhook_endpoint(
        session, partner_id=uuid.UUID(institutions[0]["id"]), url="https://lembaga.example/hook", actor=Actor.system()
    )
courses = marketplace.seed_courses(len(marketplace.TOPICS), institutions, platforms)
cards = marketplace.seed_recipients((1 + int(os.environ.get("PROBE_ROUNDS", "1"))) * N + 40)
admin = psycopg.connect(libpq_conninfo(url), autocommit=True)
admin.execute("ANALYZE")
admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
if os.environ.get("PROBE_EXPLAIN"):
    for k, v in [
        ("log_min_duration", os.environ.get("PROBE_MIN", "0")),
        ("log_analyze", "on"),
        ("log_buffers", "on"),
        ("log_wal", "on"),
        ("log_nested_statements", "on"),
        ("log_verbose", "off"),
        ("log_triggers", "on"),
    ]:
        admin.execute(f"ALTER DATABASE {marketplace.DB_NAME} SET auto_explain.{k} = '{v}'")
platform = platforms[0]
app = create_app()
loop = uvloop.new_event_loop()
asyncio.set_event_loop(loop)
Q = (
    "SELECT calls, total_exec_time, total_plan_time, plans, shared_blks_hit+shared_blks_read, wal_records, wal_bytes, wal_fpi, toplevel, rows,"
    " regexp_replace(query, '\\s+', ' ', 'g') FROM pg_stat_statements WHERE query NOT LIKE '%%pg_stat%%' ORDER BY total_exec_time DESC"
)
report = {}


def backends_ns():
    total = 0
    tag = marketplace.DB_NAME
    for e in os.listdir("/proc"):
        if e.isdigit():
            try:
                cmd = open(f"/proc/{e}/cmdline", "rb").read()
                if cmd.startswith(b"postgres: ") and tag.encode() in cmd:
                    total += int(open(f"/proc/{e}/schedstat").read().split()[0])
            except OSError:
                pass
    return total


from cpu import postmaster_pid, tree_cpu_seconds

PM = postmaster_pid(url)
cpu = {}


def run(batch, record, measure=False):
    items = [{"card": c, "account": a, "tag": uuid.uuid4().hex[:12]} for c, a in batch]
    for step in ("inquiry", "purchase", "confirm"):
        if step == "confirm":
            bought = [it for it in items if "purchase_id" in it]
            for it, code in zip(bought, otps(url, [it["account"] for it in bought])):
                it["otp"] = code
        if record:
            admin.execute("SELECT pg_stat_statements_reset()")
            lsn0 = admin.execute("SELECT pg_current_wal_lsn()").fetchone()[0]

        async def phase():
            for i, it in enumerate(items):
                tag = it["tag"]
                if step == "inquiry":
                    body = json.dumps({"card_number": it["card"]}).encode()
                    scope = signed_scope("POST", "/partner/v1/cards/inquiry", body, platform, f"ai-{tag}")
                elif step == "purchase":
                    body = json.dumps(
                        {
                            "card_number": it["card"],
                            "course_id": courses[i % len(courses)],
                            "platform_order_id": f"order-a{tag}",
                            "platform_account_id": f"akun-{it['account']}",
                        }
                    ).encode()
                    scope = signed_scope("POST", "/partner/v1/purchases", body, platform, f"ap-{tag}")
                else:
                    body = json.dumps({"otp": it["otp"]}).encode()
                    scope = signed_scope(
                        "POST", f"/partner/v1/purchases/{it['purchase_id']}/confirm", body, platform, f"ac-{tag}"
                    )
                status, answer = await call(app, scope, body)
                assert 200 <= status < 300, answer
                if step == "purchase":
                    it["purchase_id"] = json.loads(answer)["purchase_id"]

        b0, t0, o0 = backends_ns(), tree_cpu_seconds(PM), time.process_time()
        loop.run_until_complete(phase())
        b1, t1, o1 = backends_ns(), tree_cpu_seconds(PM), time.process_time()
        if measure:
            cpu.setdefault(step, []).append(
                ((b1 - b0) / 1e3 / len(items), (t1 - t0) * 1e6 / len(items), (o1 - o0) * 1e6 / len(items))
            )
        if record:
            time.sleep(0.3)
            lsn1 = admin.execute("SELECT pg_current_wal_lsn()").fetchone()[0]
            walbytes = admin.execute("SELECT pg_wal_lsn_diff(%s, %s)", (lsn1, lsn0)).fetchone()[0]
            n = len(items)
            rows = admin.execute(Q).fetchall()
            report[step] = {
                "wal_bytes_per_call_lsn": float(walbytes) / n,
                "statements": [
                    {
                        "calls": r[0] / n,
                        "exec_us": r[1] * 1000 / n,
                        "plan_us": r[2] * 1000 / n,
                        "plans": r[3] / n,
                        "blks": r[4] / n,
                        "wal_rec": r[5] / n,
                        "wal_bytes": float(r[6]) / n,
                        "fpi": r[7] / n,
                        "top": r[8],
                        "rows": r[9] / n,
                        "q": r[10],
                    }
                    for r in rows
                ],
            }
    return items


run(cards[:20], False)
run(cards[20 : 20 + N], False)
if os.environ.get("PROBE_SQL"):
    admin.execute(os.environ["PROBE_SQL"])
    db.dispose()
if os.environ.get("PROBE_ANALYZE"):
    admin.execute("ANALYZE")
    run(cards[20 + N : 20 + N + 10], False)
for r in range(int(os.environ.get("PROBE_ROUNDS", "1"))):
    run(cards[20 + N + 10 + r * N : 20 + 2 * N + 10 + r * N], r == 0 and not os.environ.get("PROBE_NOSTAT"), True)
for step, v in cpu.items():
    print(
        f"CPU {step}: backends {[round(x[0]) for x in v]} tree {[round(x[1]) for x in v]} web {[round(x[2]) for x in v]}"
    )
report["cpu"] = cpu
json.dump(report, open(OUT, "w"), indent=1)
for step, r in report.items():
    print(f"== {step}: WAL bytes/call (lsn) {r['wal_bytes_per_call_lsn']:.0f}")
    tot = sum(s["exec_us"] for s in r["statements"] if s["top"])
    print(f"   top-level exec us/call {tot:.0f}")
    for s in r["statements"][:40]:
        print(
            f"  {s['calls']:5.2f} {s['exec_us']:7.1f}us plan{s['plan_us']:5.1f} blk{s['blks']:6.1f} wal{s['wal_rec']:5.1f}/{s['wal_bytes']:6.0f}B fpi{s['fpi']:4.1f} rows{s['rows']:5.1f} {'T' if s['top'] else ' '} {s['q'][:230]}"
        )
db.dispose()
