"""The audit chain's cost in PostgreSQL, per entry, for the ways of linking it (issue 13, branch ``maudit``, ADR 0039).

    PYTHONPATH=src python3 benchmarks/audit_link.py [--transactions N] [--rounds R] [--entries K]
    PYTHONPATH=src python3 benchmarks/audit_link.py --concurrency 16 [--think-ms 0.5] [--seconds S]

Each variant lives in a schema of its own of one scratch database (``prakerja_bench_audit`` on the embedded server,
or ``PRAKERJA_BENCH_DATABASE_URL``), with the columns, indexes and triggers of ``audit_entries`` and its head:

- ``commit_update`` (``main``, migrations 0021 and 0036): the entry INSERTed unlinked, a deferred constraint trigger
  at COMMIT locks the head (``SELECT ... FOR UPDATE``), UPDATEs the entry (a second row version, four index entries:
  not HOT, ``seq`` is indexed) and the head;
- ``commit_update_ret``: the same, the head moved by one ``UPDATE ... RETURNING old.hash`` (PostgreSQL 18);
- ``commit_link_row``: the link in a narrow table of its own (``seq`` primary key, entry id unique, previous hash,
  hash), INSERTed by the deferred trigger; the entry is written once and never updated (ADR 0039);
- ``commit_link_row_noidx``: the same without the unique index on the entry id;
- ``insert_link``: linked by a BEFORE INSERT trigger (one row version; the chain lock held from the INSERT to the
  commit);
- ``commit_hot``: the link UPDATE made HOT: ``seq`` indexed by BRIN only (a summarizing index: PostgreSQL 16 and
  later keep such an update HOT), ``fillfactor`` 85.

Per variant, in turn (``--rounds`` rounds of ``--transactions`` transactions each, one connection per variant):
``BEGIN``, one INSERT of ``--entries`` entries (as the composed statements write them), ``COMMIT``; the backend's
CPU from ``/proc`` and the server's WAL bytes, per entry, medians over the rounds. Then the PostgreSQL tree's CPU
over a ``VACUUM`` of each variant's tables (what autovacuum would spend on the dead row versions). With
``pg_stat_statements`` loaded (``track = all``), the link step's statements per entry.

``--concurrency C``: C connections per variant, each transaction ``BEGIN``, the INSERT, ``--think-ms`` of client
time (the composed statement's answer read, the idempotency answer stored: the frame's last round trip), one more
statement, ``COMMIT``; committed transactions per second per variant (variants in turn), to see what holding the
chain lock from the INSERT (``insert_link``) does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

GENESIS = "'\\x" + "00" * 32 + "'::bytea"

COLUMNS = """
    occurred_at timestamptz NOT NULL, actor_id uuid, actor_role varchar(32) NOT NULL, action varchar(64) NOT NULL,
    object_type varchar(64) NOT NULL, object_id varchar(128) NOT NULL, reason text NOT NULL, data jsonb NOT NULL,
    request_id varchar(64)"""

REFUSE = """
CREATE FUNCTION {s}.refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'restrict_violation'; END $$;
CREATE TABLE {s}.audit_head (id integer PRIMARY KEY, seq bigint NOT NULL, hash bytea NOT NULL);
INSERT INTO {s}.audit_head VALUES (1, 0, GENESIS);
"""

VARIANTS: dict[str, str] = {
    "commit_update": """
CREATE TABLE {s}.audit_entries (seq bigint, COLUMNS, prev_hash bytea, hash bytea,
    id bigint PRIMARY KEY DEFAULT nextval('{s}.ids'), body_digest bytea);
CREATE INDEX ON {s}.audit_entries (actor_id);
CREATE INDEX ON {s}.audit_entries (object_type, object_id);
CREATE UNIQUE INDEX ON {s}.audit_entries (seq);
CREATE TRIGGER append_only BEFORE DELETE ON {s}.audit_entries FOR EACH ROW WHEN (OLD.hash IS NOT NULL)
    EXECUTE FUNCTION {s}.refuse();
CREATE TRIGGER linked_only_once BEFORE UPDATE ON {s}.audit_entries FOR EACH ROW
    WHEN (OLD.hash IS NOT NULL OR OLD.body_digest IS DISTINCT FROM NEW.body_digest) EXECUTE FUNCTION {s}.refuse();
CREATE FUNCTION {s}.link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE head_seq bigint; head_hash bytea; new_seq bigint; new_hash bytea;
BEGIN
    IF NEW.hash IS NOT NULL THEN RETURN NULL; END IF;
    SELECT seq, hash INTO head_seq, head_hash FROM {s}.audit_head WHERE id = 1 FOR UPDATE;
    new_seq := head_seq + 1;
    new_hash := sha256(head_hash || int8send(new_seq) || NEW.body_digest);
    UPDATE {s}.audit_entries SET seq = new_seq, prev_hash = head_hash, hash = new_hash
        WHERE id = NEW.id AND hash IS NULL;
    IF NOT FOUND THEN RETURN NULL; END IF;
    UPDATE {s}.audit_head SET seq = new_seq, hash = new_hash WHERE id = 1;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER link AFTER INSERT ON {s}.audit_entries DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION {s}.link();
""",
    "commit_update_ret": """
CREATE TABLE {s}.audit_entries (seq bigint, COLUMNS, prev_hash bytea, hash bytea,
    id bigint PRIMARY KEY DEFAULT nextval('{s}.ids'), body_digest bytea);
CREATE INDEX ON {s}.audit_entries (actor_id);
CREATE INDEX ON {s}.audit_entries (object_type, object_id);
CREATE UNIQUE INDEX ON {s}.audit_entries (seq);
CREATE TRIGGER append_only BEFORE DELETE ON {s}.audit_entries FOR EACH ROW WHEN (OLD.hash IS NOT NULL)
    EXECUTE FUNCTION {s}.refuse();
CREATE TRIGGER linked_only_once BEFORE UPDATE ON {s}.audit_entries FOR EACH ROW
    WHEN (OLD.hash IS NOT NULL OR OLD.body_digest IS DISTINCT FROM NEW.body_digest) EXECUTE FUNCTION {s}.refuse();
CREATE FUNCTION {s}.link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE prev bytea; new_seq bigint; new_hash bytea;
BEGIN
    IF NEW.hash IS NOT NULL THEN RETURN NULL; END IF;
    UPDATE {s}.audit_head SET seq = seq + 1, hash = sha256(hash || int8send(seq + 1) || NEW.body_digest)
        WHERE id = 1 RETURNING WITH (OLD AS o, NEW AS n) o.hash, n.seq, n.hash INTO prev, new_seq, new_hash;
    UPDATE {s}.audit_entries SET seq = new_seq, prev_hash = prev, hash = new_hash WHERE id = NEW.id AND hash IS NULL;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER link AFTER INSERT ON {s}.audit_entries DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION {s}.link();
""",
    "commit_link_row": """
CREATE TABLE {s}.audit_entries (COLUMNS, id bigint PRIMARY KEY DEFAULT nextval('{s}.ids'), body_digest bytea);
CREATE INDEX ON {s}.audit_entries (actor_id);
CREATE INDEX ON {s}.audit_entries (object_type, object_id);
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {s}.audit_entries FOR EACH ROW EXECUTE FUNCTION {s}.refuse();
CREATE TABLE {s}.audit_links (seq bigint PRIMARY KEY, entry_id bigint NOT NULL UNIQUE, prev_hash bytea NOT NULL,
    hash bytea NOT NULL);
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {s}.audit_links FOR EACH ROW EXECUTE FUNCTION {s}.refuse();
CREATE FUNCTION {s}.link() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH h AS (UPDATE {s}.audit_head SET seq = seq + 1, hash = sha256(hash || int8send(seq + 1) || NEW.body_digest)
               WHERE id = 1 RETURNING WITH (OLD AS o, NEW AS n) o.hash AS prev_hash, n.seq, n.hash)
    INSERT INTO {s}.audit_links (seq, entry_id, prev_hash, hash) SELECT h.seq, NEW.id, h.prev_hash, h.hash FROM h;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER link AFTER INSERT ON {s}.audit_entries DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION {s}.link();
""",
    "insert_link": """
CREATE TABLE {s}.audit_entries (seq bigint, COLUMNS, prev_hash bytea, hash bytea,
    id bigint PRIMARY KEY DEFAULT nextval('{s}.ids'), body_digest bytea);
CREATE INDEX ON {s}.audit_entries (actor_id);
CREATE INDEX ON {s}.audit_entries (object_type, object_id);
CREATE UNIQUE INDEX ON {s}.audit_entries (seq);
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON {s}.audit_entries FOR EACH ROW EXECUTE FUNCTION {s}.refuse();
CREATE FUNCTION {s}.link() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE {s}.audit_head SET seq = seq + 1, hash = sha256(hash || int8send(seq + 1) || NEW.body_digest)
        WHERE id = 1 RETURNING WITH (OLD AS o, NEW AS n) o.hash, n.seq, n.hash INTO NEW.prev_hash, NEW.seq, NEW.hash;
    RETURN NEW;
END $$;
CREATE TRIGGER link BEFORE INSERT ON {s}.audit_entries FOR EACH ROW EXECUTE FUNCTION {s}.link();
""",
    "commit_hot": """
CREATE TABLE {s}.audit_entries (seq bigint, COLUMNS, prev_hash bytea, hash bytea,
    id bigint PRIMARY KEY DEFAULT nextval('{s}.ids'), body_digest bytea) WITH (fillfactor = 85);
CREATE INDEX ON {s}.audit_entries (actor_id);
CREATE INDEX ON {s}.audit_entries (object_type, object_id);
CREATE INDEX ON {s}.audit_entries USING brin (seq);
CREATE TRIGGER append_only BEFORE DELETE ON {s}.audit_entries FOR EACH ROW WHEN (OLD.hash IS NOT NULL)
    EXECUTE FUNCTION {s}.refuse();
CREATE TRIGGER linked_only_once BEFORE UPDATE ON {s}.audit_entries FOR EACH ROW
    WHEN (OLD.hash IS NOT NULL OR OLD.body_digest IS DISTINCT FROM NEW.body_digest) EXECUTE FUNCTION {s}.refuse();
CREATE FUNCTION {s}.link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE prev bytea; new_seq bigint; new_hash bytea;
BEGIN
    IF NEW.hash IS NOT NULL THEN RETURN NULL; END IF;
    UPDATE {s}.audit_head SET seq = seq + 1, hash = sha256(hash || int8send(seq + 1) || NEW.body_digest)
        WHERE id = 1 RETURNING WITH (OLD AS o, NEW AS n) o.hash, n.seq, n.hash INTO prev, new_seq, new_hash;
    UPDATE {s}.audit_entries SET seq = new_seq, prev_hash = prev, hash = new_hash WHERE id = NEW.id AND hash IS NULL;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER link AFTER INSERT ON {s}.audit_entries DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION {s}.link();
""",
}
VARIANTS["commit_link_row_noidx"] = VARIANTS["commit_link_row"].replace(
    "entry_id bigint NOT NULL UNIQUE", "entry_id bigint NOT NULL"
)

INSERT = """
INSERT INTO {s}.audit_entries (occurred_at, actor_id, actor_role, action, object_type, object_id, reason, data,
    request_id, body_digest)
SELECT now(), e.actor_id, 'platform', e.action, 'purchase', e.object_id, '', e.data::jsonb, e.request_id, e.digest
FROM unnest(%(actor)s::uuid[], %(action)s::text[], %(object)s::text[], %(data)s::text[], %(request)s::text[],
            %(digest)s::bytea[]) WITH ORDINALITY AS e(actor_id, action, object_id, data, request_id, digest, n)
ORDER BY e.n
"""


STATEMENTS = (
    "SELECT query, calls, total_exec_time, shared_blks_hit + shared_blks_read, wal_records, wal_bytes"
    " FROM pg_stat_statements WHERE query ~ 'audit_(head|links|entries)' AND query !~ 'CREATE|pg_stat'"
)


def _url() -> str:
    url = os.environ.get("PRAKERJA_BENCH_DATABASE_URL")
    if url:
        return url
    os.environ.setdefault("PRAKERJA_HOME", str(ROOT / ".prakerja-bench"))
    from prakerja.pgembed import embedded_url

    return embedded_url(Path(os.environ["PRAKERJA_HOME"]), "postgres")


def _cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _params(k: int, n: int) -> dict[str, Any]:
    import uuid

    data = [json.dumps({"course_id": str(uuid.uuid4()), "price": 750000, "platform": "PLAT-01", "n": n})] * k
    return {
        "actor": [str(uuid.uuid4())] * k,
        "action": ["ledger.purchase_reserved", "training.purchase_started", "training.purchase_confirmed"][:k]
        + ["x.y"] * max(0, k - 3),
        "object": [str(uuid.uuid4()) for _ in range(k)],
        "data": data,
        "request": [uuid.uuid4().hex] * k,
        "digest": [hashlib.sha256(f"{n}-{i}".encode()).digest() for i in range(k)],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transactions", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--entries", type=int, default=2, help="entries per transaction (one INSERT)")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--concurrency", type=int, default=0)
    parser.add_argument("--think-ms", type=float, default=0.5)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    import psycopg

    from prakerja.jobs import libpq_conninfo

    admin_dsn = libpq_conninfo(_url())
    with psycopg.connect(admin_dsn, autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS prakerja_bench_audit")
        admin.execute("CREATE DATABASE prakerja_bench_audit")
    dsn = psycopg.conninfo.make_conninfo(admin_dsn, dbname="prakerja_bench_audit")
    variants = args.variants.split(",")
    admin = psycopg.connect(dsn, autocommit=True)
    statements = False
    try:
        admin.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        admin.execute("SELECT pg_stat_statements_reset()")
        statements = True
    except psycopg.Error:
        pass
    for name in variants:
        ddl = (REFUSE + VARIANTS[name]).replace("COLUMNS", COLUMNS).replace("GENESIS", GENESIS)
        admin.execute(f"CREATE SCHEMA {name}; CREATE SEQUENCE {name}.ids;")
        admin.execute(ddl.replace("{s}", name))
    postmaster = int(
        Path(admin.execute("SHOW data_directory").fetchone()[0], "postmaster.pid").read_text().split()[0]  # type: ignore[index]
    )
    from cpu import tree_cpu_seconds  # benchmarks/cpu.py

    if args.concurrency:
        _concurrency(dsn, variants, args)
        return
    conns = {name: psycopg.connect(dsn) for name in variants}
    pids = {name: conn.info.backend_pid for name, conn in conns.items()}
    k = args.entries
    results: dict[str, dict[str, list[float]]] = {name: {"cpu": [], "wal": []} for name in variants}
    counter = 0
    per_statement: dict[str, dict[str, list[float]]] = {}
    for _round in range(args.rounds + 1):  # the first round warms up (plans cached) and is not counted
        for name in variants:
            conn = conns[name]
            sql = INSERT.format(s=name)
            batches = [_params(k, counter + i) for i in range(args.transactions)]
            counter += args.transactions
            wal0 = admin.execute("SELECT pg_current_wal_insert_lsn()").fetchone()[0]  # type: ignore[index]
            cpu0 = _cpu(pids[name])
            for params in batches:
                conn.execute(sql, params, prepare=True)
                conn.commit()
            cpu = _cpu(pids[name]) - cpu0
            wal = admin.execute("SELECT pg_current_wal_insert_lsn() - %s::pg_lsn", (wal0,)).fetchone()[0]  # type: ignore[index]
            if _round:
                results[name]["cpu"].append(cpu * 1e6 / (args.transactions * k))
                results[name]["wal"].append(float(wal) / (args.transactions * k))
            if statements:  # PostgreSQL 18 identifies a statement by its tables' names, not their schemas: per chunk
                if _round:
                    for row in admin.execute(STATEMENTS).fetchall():
                        into = per_statement.setdefault(name, {}).setdefault(" ".join(row[0].split())[:90], [0.0] * 5)
                        for i, value in enumerate(row[1:]):
                            into[i] += float(value)
                admin.execute("SELECT pg_stat_statements_reset()")
    report: dict[str, Any] = {}
    print(f"{'variant':24} {'backend us/entry (rounds)':44} {'median':>7} {'WAL B/entry':>11}")
    for name in variants:
        cpu, wal = results[name]["cpu"], results[name]["wal"]
        report[name] = {
            "backend_us_per_entry": round(statistics.median(cpu), 1),
            "wal_bytes_per_entry": round(statistics.median(wal)),
        }
        rounds = " ".join(f"{v:.0f}" for v in cpu)
        print(f"{name:24} {rounds:44} {statistics.median(cpu):7.1f} {statistics.median(wal):11.0f}")
    if statements:
        print("\nthe INSERT and the link step, pg_stat_statements (track = all), per entry:")
        entries = args.transactions * args.rounds * k
        for name, found in per_statement.items():
            for text, (calls, total, blocks, records, wal) in sorted(found.items()):
                print(
                    f"  {name:22} {calls / entries:4.1f} calls {total * 1000 / entries:7.1f} us"
                    f" {blocks / entries:5.1f} blocks {records / entries:4.1f} WAL records {wal / entries:6.0f} B"
                    f"  {text[:60]}"
                )
    print("\nVACUUM of each variant's tables (the dead row versions' cleaning), PostgreSQL tree CPU per entry:")
    for name in variants:
        tables = ["audit_entries", "audit_head"] + (["audit_links"] if "link_row" in name else [])
        before = tree_cpu_seconds(postmaster)
        for table in tables:
            admin.execute(f"VACUUM {name}.{table}")
        used = tree_cpu_seconds(postmaster) - before
        entries = args.transactions * (args.rounds + 1) * k
        size = admin.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = %s AND c.relkind = 'r'",
            (name,),
        ).fetchone()[0]  # type: ignore[index]
        report[name]["vacuum_us_per_entry"] = round(used * 1e6 / entries, 1)
        report[name]["bytes_per_entry"] = round(int(size) / entries)
        print(f"  {name:24} {used * 1e6 / entries:7.1f} us   tables with indexes {int(size) / entries:6.0f} B/entry")
    for conn in conns.values():
        conn.close()
    admin.close()
    if not args.keep:
        with psycopg.connect(admin_dsn, autocommit=True) as a:
            a.execute("DROP DATABASE prakerja_bench_audit")
    print(json.dumps(report))


def _concurrency(dsn: str, variants: list[str], args: argparse.Namespace) -> None:
    import psycopg

    report: dict[str, Any] = {}
    for _round in range(2):
        for name in variants:
            sql = INSERT.format(s=name)
            stop = time.monotonic() + args.seconds
            done = [0] * args.concurrency
            waits = [0.0] * args.concurrency

            def worker(
                i: int, sql: str = sql, stop: float = stop, done: list[int] = done, waits: list[float] = waits
            ) -> None:
                with psycopg.connect(dsn) as conn:
                    n = 0
                    while time.monotonic() < stop:
                        started = time.monotonic()
                        conn.execute(sql, _params(args.entries, i * 10_000_000 + n), prepare=True)
                        time.sleep(args.think_ms / 1000)
                        conn.execute("SELECT 1")
                        conn.commit()
                        waits[i] += time.monotonic() - started
                        n += 1
                    done[i] = n

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(args.concurrency)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            rate = sum(done) / args.seconds
            latency = sum(waits) / max(1, sum(done)) * 1000
            report.setdefault(name, []).append({"tx_per_s": round(rate, 1), "ms_per_tx": round(latency, 2)})
            print(f"{name:24} {rate:8.1f} transactions/s  {latency:6.2f} ms a transaction", file=sys.stderr)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
