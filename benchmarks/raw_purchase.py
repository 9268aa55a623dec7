"""The raw PostgreSQL reference of a complete purchase (issue 13 "Performance"; ``benchmarks/marketplace.py``).

``raw_purchase.sql`` (next to this file) is a pgbench script: one run of it is one complete purchase's rows in plain
SQL (its header says what it holds and what not). This module makes the three small look-up tables it picks cards,
courses and platforms from, runs it with pgbench on the benchmark's server and database, and reads the CPU it cost
from ``/proc``: PostgreSQL's process tree (``raw_purchase_pg_us``) and pgbench's own (the client, apart).

Importable both as ``raw_purchase`` (the benchmarks put their folder on ``sys.path``) and as
``benchmarks.raw_purchase`` (``tests/benchmarks``): no import of a sibling module at import time.
"""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).with_name("raw_purchase.sql")
LOOKUPS = ("bench_raw_cards", "bench_raw_courses", "bench_raw_platforms")
TOP_UP = 10**12
"""Credit given to each wallet by ``prepare(top_up=True)`` (scratch database only), so that a card the script picks
twice can pay again: the rows a purchase writes are the same whatever the balance."""


def pgbench_binary() -> str | None:
    """The embedded server's own pgbench (same version as the server), or one on the PATH; None when none."""
    found = os.environ.get("PRAKERJA_PGBENCH")
    if found:
        return found
    try:
        from prakerja.pgembed import bin_path

        bundled = bin_path() / "pgbench"
        if bundled.exists():
            return str(bundled)
    except (ImportError, OSError, RuntimeError):
        pass
    return shutil.which("pgbench")


def prepare(conninfo: str, *, top_up: bool = False) -> dict[str, int]:
    """(Re)make the look-up tables from the database's funded cards, approved courses listed by a platform, and
    platform credentials whose platform lists them; with ``top_up``, credit every training wallet with
    :data:`TOP_UP` by SQL (see there). Returns the counts pgbench is given (``-D cards=... courses=...
    platforms=...``)."""
    import psycopg

    with psycopg.connect(conninfo) as conn:
        for table in LOOKUPS:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.execute(
            "CREATE TABLE bench_raw_cards AS SELECT row_number() OVER (ORDER BY id)::int AS n, card_number_index "
            "FROM selection_recipients WHERE funded_at IS NOT NULL"
        )
        conn.execute(
            "CREATE TABLE bench_raw_platforms AS SELECT row_number() OVER (ORDER BY c.id)::int AS n, "
            "c.id AS credential_id FROM auth_partner_credentials c JOIN auth_partners p ON p.id = c.partner_id "
            "WHERE p.role = 'platform' AND c.revoked_at IS NULL "
            "AND EXISTS (SELECT FROM catalog_listings l WHERE l.platform_id = p.id)"
        )
        # courses every such platform lists, so any platform may buy any of them
        conn.execute(
            "CREATE TEMP TABLE bench_raw_sellers AS SELECT DISTINCT k.partner_id FROM auth_partner_credentials k "
            "JOIN bench_raw_platforms b ON b.credential_id = k.id"
        )
        conn.execute(
            "CREATE TABLE bench_raw_courses AS SELECT row_number() OVER (ORDER BY c.id)::int AS n, c.id AS course_id "
            "FROM catalog_courses c WHERE c.status = 'approved' AND (SELECT count(DISTINCT l.platform_id) "
            "FROM catalog_listings l JOIN bench_raw_sellers s ON s.partner_id = l.platform_id "
            "WHERE l.course_id = c.id AND l.status = 'listed') = (SELECT count(*) FROM bench_raw_sellers)"
        )
        for table in LOOKUPS:
            conn.execute(f"ALTER TABLE {table} ADD PRIMARY KEY (n)")
        if top_up:
            conn.execute(
                "UPDATE ledger_accounts SET credits_posted = credits_posted + %s "
                "WHERE kind = 'training_wallet' AND owner_type = 'participant'",
                (TOP_UP,),
            )
        counts = {}
        for name in ("cards", "courses", "platforms"):
            row = conn.execute(f"SELECT count(*) FROM bench_raw_{name}").fetchone()
            counts[name] = int(row[0]) if row else 0
        conn.commit()
        for table in (*LOOKUPS, "ledger_accounts"):
            conn.execute(f"ANALYZE {table}")
        conn.commit()
    if not all(counts.values()):
        raise RuntimeError(f"nothing to buy with: {counts}")
    return counts


def drop(conninfo: str) -> None:
    import psycopg

    with psycopg.connect(conninfo) as conn:
        for table in LOOKUPS:
            conn.execute(f"DROP TABLE IF EXISTS {table}")
        conn.commit()


def command(conninfo: str, counts: dict[str, int], *, clients: int, seconds: float | None = None,
            transactions: int | None = None) -> list[str]:  # fmt: skip
    """The pgbench command line: ``clients`` connections (``-j`` up to the cores), prepared statements, no vacuum of
    pgbench's own tables, for ``seconds`` (``-T``) or ``transactions`` per client (``-t``)."""
    binary = pgbench_binary()
    if binary is None:
        raise RuntimeError("no pgbench binary (the embedded server's, PRAKERJA_PGBENCH or the PATH)")
    threads = max(1, min(clients, os.cpu_count() or 1))
    out = [binary, "-n", "-M", "prepared", "-c", str(clients), "-j", str(threads), "-f", str(SCRIPT)]
    out += [f"-D{name}={n}" for name, n in sorted(counts.items())]
    out += ["-T", str(max(1, round(seconds)))] if seconds is not None else ["-t", str(transactions or 1)]
    return [*out, conninfo]


def parse(output: str) -> dict[str, Any]:
    """pgbench's summary: purchases done, failed, tps (without the initial connection time)."""
    processed = re.search(r"number of transactions actually processed: (\d+)", output)
    failed = re.search(r"number of failed transactions: (\d+)", output)
    tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output)
    if not processed or not tps:
        raise RuntimeError(f"unexpected pgbench output: {output[-800:]}")
    return {
        "purchases": int(processed.group(1)),
        "failed": int(failed.group(1)) if failed else 0,
        "tps": float(tps.group(1)),
    }


def run(
    conninfo: str,
    counts: dict[str, int],
    *,
    clients: int,
    seconds: float,
    database_pid: int | None,
    warm_seconds: float = 2.0,
    quick_commits: bool = False,
) -> dict[str, Any]:
    """The script from ``clients`` connections for ``warm_seconds`` (connections opened, statements prepared,
    caches filled: not counted, as the app's connections are warm when it is measured) and then ``seconds``
    measured: purchases done in that window (rows of ``training_purchases``, read before and after), their rate,
    and CPU per purchase (us) of PostgreSQL's process tree (``database_pid``'s); and pgbench's own CPU per purchase
    over its whole run (the client, apart). ``quick_commits``: every commit without waiting for its WAL flush
    (``synchronous_commit = off`` for pgbench's connections), to show what the durable commits cost."""
    import psycopg
    from cpu import roles_per_op, tree_cpu_by_role, tree_cpu_seconds  # benchmarks/cpu.py (on sys.path)

    def purchases(conn: psycopg.Connection[Any]) -> int:
        row = conn.execute("SELECT count(*) FROM training_purchases").fetchone()
        return int(row[0]) if row else 0

    environment = dict(os.environ)
    if quick_commits:
        environment["PGOPTIONS"] = (environment.get("PGOPTIONS", "") + " -c synchronous_commit=off").strip()
    before_client = resource.getrusage(resource.RUSAGE_CHILDREN)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        started = purchases(conn)
        process = subprocess.Popen(
            command(conninfo, counts, clients=clients, seconds=warm_seconds + seconds + 1.5),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
        )  # fmt: skip
        time.sleep(warm_seconds)
        first = purchases(conn)
        db_first = tree_cpu_seconds(database_pid) if database_pid else 0.0
        roles_first = tree_cpu_by_role(database_pid) if database_pid else {}
        window = time.perf_counter()
        time.sleep(seconds)
        db_last = tree_cpu_seconds(database_pid) if database_pid else 0.0
        roles_last = tree_cpu_by_role(database_pid) if database_pid else {}
        last = purchases(conn)
        window = time.perf_counter() - window
        stdout, stderr = process.communicate(timeout=seconds + 300)
        total = purchases(conn) - started
    after_client = resource.getrusage(resource.RUSAGE_CHILDREN)
    if process.returncode != 0 and "actually processed" not in stdout:
        raise RuntimeError(f"pgbench failed ({process.returncode}): {stderr[-1500:]}")
    found = parse(stdout)
    client = (after_client.ru_utime + after_client.ru_stime) - (before_client.ru_utime + before_client.ru_stime)
    measured = max(1, last - first)
    return {
        **found,
        "clients": clients,
        "measured_purchases": last - first,
        "tps": measured / window,
        "pgbench_tps": found["tps"],
        "errors": stderr.strip().splitlines()[-3:] if process.returncode != 0 else [],
        "pg_us": round((db_last - db_first) / measured * 1e6),
        "pg_by_role_us": roles_per_op(roles_first, roles_last, measured),
        "client_us": round(client / max(1, total) * 1e6),
    }
