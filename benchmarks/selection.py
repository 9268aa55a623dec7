"""Selection benchmark: commitment + draw + persistence of every entry's result and probability, for N eligible
applicants across the 514 regency strata, with a raw PostgreSQL sort of the same rows as the reference.

    python benchmarks/selection.py [--applicants N] [--runs R]

Uses its own database: a new one on PRAKERJA_DATABASE_URL's server, or an embedded PostgreSQL under
/tmp/prakerja-bench-selection (PRAKERJA_BENCH_HOME); migrated with Alembic and dropped at the end. The timed part is
exactly what an operator runs: ``selection.service.commit`` (eligible.csv, Merkle root, signed commitment.json) and
``selection.service.seed`` (verifies the folder, draws, writes seed.json and results.csv, COPYs every result and
probability into ``selection_results``, queues the fairness report), then the commit of that transaction. The
fairness report (the job the draw queues; computed again at the announcement) is timed separately
(``fairness_job_seconds``). The published folder of the last run is left in place and named in the JSON line
(``artefacts``); ``verified`` is ``prakerja selection verify`` run on it in a separate process. Not a test:
nothing here asserts a duration."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import resource
import secrets
import shutil
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from prakerja.db import normalise_url  # noqa: E402

REFERENCE = "drand/quicknet/round/benchmark"


def _home() -> Path:
    return Path(os.environ.get("PRAKERJA_BENCH_HOME", "/tmp/prakerja-bench-selection"))


def _admin_url() -> str:
    home = _home()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["PRAKERJA_HOME"] = str(home)
    external = os.environ.get("PRAKERJA_DATABASE_URL")
    if external:
        return normalise_url(external)
    from prakerja.pgembed import embedded_url

    return embedded_url(home)


def _regencies() -> list[str]:
    """The 514 current Kemendagri regency/city codes (the registration domain's region list)."""
    from prakerja.registration.rules import regions

    codes = sorted(r.code for p in regions.all_provinces() for r in regions.regencies_in(p.code))
    return codes


def _seed_wave(engine: Engine, applicants: int, strata: list[str]) -> uuid.UUID:
    """Set-up (not timed): a closed wave with quotas and N eligible entries written with COPY."""
    from prakerja import lottery
    from prakerja.auth.models import Account, Role
    from prakerja.kit.ids import new_id
    from prakerja.kit.pii import blind_index, encrypt
    from prakerja.schemes.rules import file_hash
    from prakerja.waves.models import Quota, StratumLevel, Wave, WaveState
    from prakerja.waves.rules import apportion

    rng = secrets.SystemRandom()
    weights = {code: rng.randint(1, 20) for code in strata}
    per_stratum = apportion(applicants, weights)
    quotas = apportion(applicants // 5, {c: w * rng.choice((1, 1, 1, 6)) for c, w in weights.items()})
    t0 = datetime(2026, 3, 1, tzinfo=UTC)
    with Session(engine) as session:
        account = Account(
            id=new_id(),
            email="bench@example.org",
            email_index=blind_index("bench@example.org", "email"),
            password_hash="!bench",
            role=Role.applicant,
            display_name="Bench",
        )
        wave = Wave(
            id=new_id(),
            number=1,
            title="Benchmark",
            state=WaveState.closed,
            scheme_name="2023-normal",
            scheme_hash=file_hash("2023-normal"),
            opens_at=t0,
            closes_at=t0 + timedelta(days=7),
            total_quota=sum(quotas.values()),
            stratum_level=StratumLevel.regency,
            provinces=[],
            priority_tiers=[{"name": "laid_off", "whitelist_types": ["laid_off"], "regencies": []}],
            quota_method="applicants",
        )
        session.add_all([account, wave])
        session.flush()
        session.add_all([Quota(wave_id=wave.id, stratum=c, quota=q) for c, q in quotas.items()])
        session.commit()
        wave_id, account_id = wave.id, account.id
    # One ciphertext stands in for every entry secret: set-up speed only (proofs are not generated here).
    secret_blob = encrypt("00" * 32, "waves_entries.entry_secret").hex()
    with engine.begin() as conn:
        raw: Any = conn.connection.driver_connection
        with (
            raw.cursor() as cur,
            cur.copy(
                "COPY waves_entries (id, wave_id, applicant_id, account_id, stratum, regency, joined_at, consent_at, "
                "entry_secret, entry_hash, status, tier, active, note) FROM STDIN"
            ) as copy,
        ):
            chunk: list[str] = []
            minute = 0
            for code, count in per_stratum.items():
                for _ in range(count):
                    digest = lottery.entry_hash(str(wave_id), secrets.token_bytes(32))
                    tier = 0 if rng.random() < 0.1 else 1
                    joined = (t0 + timedelta(seconds=minute)).isoformat()
                    minute += 1
                    chunk.append(
                        f"{uuid.uuid4()}\t{wave_id}\t{uuid.uuid4()}\t{account_id}\t{code}\t{code}\t{joined}\t{joined}\t"
                        f"\\\\x{secret_blob}\t\\\\x{digest}\teligible\t{tier}\tt\t\n"
                    )
                    if len(chunk) >= 50_000:
                        copy.write("".join(chunk))
                        chunk = []
            if chunk:
                copy.write("".join(chunk))
        conn.execute(text("ANALYZE waves_entries"))
    return wave_id


def _cpu_seconds() -> float:
    """CPU of this process and of its children that have exited (worker processes of the lottery, if any)."""
    mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + children.ru_utime + children.ru_stime


def _database_cpu(engine: Engine) -> Any:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from cpu import DatabaseCpu  # benchmarks/cpu.py

    return DatabaseCpu(engine.url.render_as_string(hide_password=False))


def _process_cpu(pid: int) -> tuple[float, float]:
    """(user, system) CPU seconds of one process from ``/proc`` (the session's PostgreSQL backend)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def _cpu_counters(backend: int | None) -> dict[str, Any]:
    """Per-phase CPU: ours (this process and its joined helper processes) and the session's PostgreSQL backend,
    each split into user time (our Python and C libraries; PostgreSQL's own work) and system time (the kernel:
    pipes, sockets, file writes, page faults)."""

    def ours(index: int) -> Any:
        def read() -> float:
            mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
            return (mine.ru_utime + children.ru_utime) if index == 0 else (mine.ru_stime + children.ru_stime)

        return read

    counters = {"ours_user": ours(0), "ours_sys": ours(1)}
    if backend is not None and Path(f"/proc/{backend}/stat").exists():
        last = [0.0]  # the counters are read in order: user reads the file once for both

        def postgres_user() -> float:
            user, last[0] = _process_cpu(backend)
            return user

        counters["postgres_user"] = postgres_user
        counters["postgres_sys"] = lambda: last[0]
    return counters


def _timeline(database: Any, backend: int) -> Any:
    """A sampler of who works when (``cpu.Timeline``): our main thread, our other threads, our helper processes,
    the session's PostgreSQL backend, its other backends (more connections, parallel workers) and its background
    processes (WAL writer, checkpointer, autovacuum...)."""
    from cpu import Timeline, _role

    roles: dict[int, str] = {}

    def label(kind: str, pid: int) -> str:
        if kind == "main":
            return "ours: main thread"
        if kind == "thread":
            return "ours: other threads"
        if kind == "child":
            return "ours: helper processes"
        if pid == backend:
            return "postgres: session backend"
        role = roles.setdefault(pid, _role(pid))
        return "postgres: parallel workers, other backends" if role == "backend" else "postgres: background"

    return Timeline(database.pid, label)


TIMELINE_COLUMNS = (
    ("ours: main thread", "main"),
    ("ours: other threads", "threads"),
    ("ours: helper processes", "helpers"),
    ("postgres: session backend", "pg session"),
    ("postgres: parallel workers, other backends", "pg workers"),
    ("postgres: background", "pg bg"),
)


def _two_free_cores(timeline: dict[str, dict[str, float]]) -> dict[str, float]:
    """Per phase, the least wall time its work could take with both cores free (no neighbours): its CPU (ours and
    PostgreSQL's) over two cores, but never less than its busiest process's CPU (one process uses one core at a
    time). A lower bound: waits (locks, fsync, a process idle for another's answer) are left out."""
    out: dict[str, float] = {}
    for name, row in timeline.items():
        if name == "whole run":
            continue
        cpu = {k: v for k, v in row.items() if k.startswith(("ours:", "postgres:"))}
        out[name] = max(sum(cpu.values()) / 2, max(cpu.values(), default=0.0))
    return out


def _print_timeline(timeline: dict[str, dict[str, float]]) -> None:
    """Per phase: wall seconds, CPU seconds of each process, and how many of the two cores ours and PostgreSQL's
    kept busy (the machine's, neighbours included, beside it)."""
    head = "".join(f"{short:>12}" for _, short in TIMELINE_COLUMNS)
    free = _two_free_cores(timeline)
    print(f"  {'phase (who works when; CPU seconds)':<58}{'wall':>7}{head}{'busy':>7}{'machine':>9}{'2 free':>8}")
    for name, row in timeline.items():
        cells = "".join(f"{row.get(label, 0.0):12.2f}" for label, _ in TIMELINE_COLUMNS)
        projected = free.get(name, sum(free.values()))
        print(
            f"  {name[:58]:<58}{row['wall']:7.2f}{cells}{row['cores_busy_ours_and_postgres']:7.2f}"
            f"{row['cores_busy_machine']:9.2f}{projected:8.2f}"
        )


def _spans_of_an_older_service() -> list[tuple[str, float, float]]:
    """With a service whose phase timers keep no spans (``main`` before branch ``lotx``), the draw module's phases
    are wrapped to record them here, so that both print the same per-phase table; else nothing."""
    from contextlib import contextmanager

    module = importlib.import_module("prakerja.selection.service.draw")
    from prakerja.selection.service.phases import Phases

    spans: list[tuple[str, float, float]] = []
    if hasattr(Phases({}), "spans"):
        return spans
    if hasattr(module.phase, "spans_here"):  # wrapped by an earlier run
        kept: list[tuple[str, float, float]] = module.phase.spans_here
        kept.clear()
        return kept
    original = module.phase

    @contextmanager
    def phase(name: str) -> Any:
        started = time.perf_counter()
        try:
            with original(name):
                yield
        finally:
            spans.append((name, started, time.perf_counter()))

    phase.spans_here = spans  # type: ignore[attr-defined]
    module.phase = phase  # type: ignore[assignment]
    return spans


def _timed_run(engine: Engine, wave_id: uuid.UUID, root: Path) -> tuple[float, Path, dict[str, Any]]:
    from prakerja.audit.service import Actor
    from prakerja.selection import service
    from prakerja.selection.service.phases import phase, recording

    actor = Actor(id=None, role="benchmark")
    value = secrets.token_hex(32)
    database = _database_cpu(engine)
    with Session(engine) as session:
        backend = session.execute(text("SELECT pg_backend_pid()")).scalar_one()
        session.commit()  # the same connection stays with the session (the engine's pool hands it back)
    older = _spans_of_an_older_service()
    with Session(engine) as session, recording(_cpu_counters(backend)) as phases:
        if session.execute(text("SELECT pg_backend_pid()")).scalar_one() != backend:  # another pooled connection
            phases.counters = {k: v for k, v in phases.counters.items() if k.startswith("ours")}
        session.commit()
        timeline = _timeline(database, backend)
        timeline.start()
        database.start()
        cpu_before = _cpu_seconds()
        started = time.perf_counter()
        draw = service.commit(
            session, wave_id, randomness_source="benchmark", randomness_reference=REFERENCE, actor=actor, root=root
        )
        committed = time.perf_counter()
        service.seed(session, wave_id, reference=REFERENCE, value=value, actor=actor)
        with phase("draw: transaction commit"):
            session.commit()
        finished = time.perf_counter()
        cpu = {"client": _cpu_seconds() - cpu_before, "database": database.stop()}
        timeline.stop()
        spans = [
            *getattr(phases, "spans", older),
            ("commit: other (locks, quotas, audit)", started, committed),
            ("draw: other (locks, seed checks, audit)", committed, finished),
        ]
        who_when = {name: {k: round(v, 3) for k, v in row.items()} for name, row in timeline.spans(spans).items()}
        whole = timeline.spans([("whole run", started, finished)])["whole run"]
        who_when["whole run"] = {k: round(v, 3) for k, v in whole.items()}
        database_roles = {role: [round(u, 3), round(k, 3)] for role, (u, k) in database.roles.items()}
        phase_cpu = {name: {k: round(v, 3) for k, v in usage.items()} for name, usage in phases.usage.items()}
        known = {k: sum(u.get(k, 0.0) for u in phases.usage.values()) for k in phases.counters}
        # what no phase holds: ours outside the phases, PostgreSQL's other processes (WAL writer, checkpointer...)
        phase_cpu["outside the phases"] = {
            "ours": round(cpu["client"] - known.get("ours_user", 0.0) - known.get("ours_sys", 0.0), 3),
            "postgres_other_processes": round(
                cpu["database"] - known.get("postgres_user", 0.0) - known.get("postgres_sys", 0.0), 3
            ),
        }
        phases["commit: other (locks, quotas, audit)"] = (committed - started) - sum(
            v for k, v in phases.items() if k.startswith("commit:")
        )
        phases["draw: other (locks, seed checks, audit)"] = (finished - committed) - sum(
            v for k, v in phases.items() if not k.startswith("commit:")
        )
        # Not in the timed scope (commitment + draw + persistence of results and probabilities): the
        # fairness report, the job the draw queued (and computed again at the announcement), timed on its own.
        report_started = time.perf_counter()
        service.record_fairness(session, wave_id)
        session.commit()
        fairness_seconds = time.perf_counter() - report_started
        detail = {
            "commit_seconds": round(committed - started, 3),
            "draw_seconds": round(finished - committed, 3),
            "fairness_job_seconds": round(fairness_seconds, 3),
            "selected": draw.selected_count,
            "fairness_ok": draw.fairness_ok,
            "cpu_seconds": {k: round(v, 3) for k, v in cpu.items()},
            "phases": {k: round(v, 3) for k, v in phases.items()},
            "cpu_seconds_by_phase": phase_cpu,
            "database_cpu_seconds_by_role": database_roles,
            # per phase: wall seconds, CPU seconds of each process (ours: main thread, other threads, helpers;
            # PostgreSQL's session backend, other backends, background), cores kept busy (ours and PostgreSQL's,
            # and the whole machine's)
            "who_works_when": who_when,
        }
        return finished - started, Path(draw.folder), detail


def _raw_sort(engine: Engine, wave_id: uuid.UUID) -> float:
    """The reference: PostgreSQL ranks the same rows the same way (tier, then a keyed hash: sha256(seed ||
    entry_hash), built in, where the lottery uses HMAC-SHA256) into a table."""
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL work_mem = '256MB'"))  # the same memory the selection's own sorts get
        started = time.perf_counter()
        conn.execute(
            text(
                "CREATE TEMP TABLE bench_sorted ON COMMIT DROP AS SELECT stratum, tier, entry_hash, "
                "row_number() OVER (PARTITION BY stratum ORDER BY tier, sha256(:seed || entry_hash), entry_hash) "
                "AS rank "
                "FROM waves_entries WHERE wave_id = :w"
            ),
            {"w": wave_id, "seed": secrets.token_bytes(32)},
        )
        return time.perf_counter() - started


def _accounting(detail: dict[str, Any], raw_roles: dict[str, float]) -> dict[str, Any]:
    """A run's CPU seconds by who spends them: ours (user, sys: every phase and what is outside them) and
    PostgreSQL's (the session backend; the other processes by role from ``/proc``)."""
    phases = detail["cpu_seconds_by_phase"]
    ours_user = sum(p.get("ours_user", 0.0) for p in phases.values())
    ours_sys = sum(p.get("ours_sys", 0.0) for p in phases.values())
    outside = phases.get("outside the phases", {}).get("ours", 0.0)
    # what no phase holds is shared out as the phases' own split
    if ours_user + ours_sys > 0:
        ours_user, ours_sys = (
            ours_user + outside * ours_user / (ours_user + ours_sys),
            ours_sys + outside * ours_sys / (ours_user + ours_sys),
        )
    roles = {r: u + k for r, (u, k) in detail.get("database_cpu_seconds_by_role", {}).items()}
    database = detail["cpu_seconds"]["database"]
    backend = roles.pop("backend", database)
    return {
        "ours_user": ours_user,
        "ours_sys": ours_sys,
        "postgres": database,
        "postgres_backend": backend,
        "postgres_other_by_role": dict(sorted(roles.items(), key=lambda kv: -kv[1])),
    }


def _verify(folder: Path) -> bool:
    out = subprocess.run(
        [sys.executable, "-m", "prakerja", "selection", "verify", str(folder), "--require-draw"],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
    )
    return out.returncode == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--applicants", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1, help="Repeat on fresh waves; report the median.")
    args = parser.parse_args()

    admin_url = _admin_url()
    from prakerja import migrate
    from prakerja.config import reset_settings

    reset_settings()
    name = f"prakerja_bench_selection_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    os.environ["PRAKERJA_DATABASE_URL"] = url
    reset_settings()
    migrate.upgrade(url=url)
    engine = create_engine(url)
    from prakerja import db

    db.use_engine(engine)
    strata = _regencies()
    root = _home() / "publications"
    times: list[float] = []
    sorts: list[float] = []
    sort_cpu: list[float] = []
    sort_roles: list[dict[str, float]] = []
    details: list[dict[str, Any]] = []
    folder = root
    try:
        setup = time.perf_counter()
        wave_id = _seed_wave(engine, args.applicants, strata)
        print(f"{args.applicants:,} eligible entries seeded in {time.perf_counter() - setup:.1f}s (not timed)")
        for run in range(args.runs):
            if run:  # the same entries again: back to a closed wave without a draw, a fresh folder
                from prakerja.selection.repository import results_partition

                with engine.begin() as conn:
                    conn.execute(text(f"DROP TABLE IF EXISTS {results_partition(wave_id)}"))
                    conn.execute(text("DELETE FROM selection_draws WHERE wave_id = :w"), {"w": wave_id})
                    conn.execute(text("UPDATE waves_waves SET state = 'closed' WHERE id = :w"), {"w": wave_id})
                shutil.rmtree(folder)
            database = _database_cpu(engine)
            database.start()
            cpu_before = _cpu_seconds()
            sorts.append(_raw_sort(engine, wave_id))
            client_cpu = _cpu_seconds() - cpu_before
            sort_cpu.append(client_cpu + database.stop())
            sort_roles.append({"client": client_cpu, **{r: u + k for r, (u, k) in database.roles.items()}})
            seconds, folder, detail = _timed_run(engine, wave_id, root)
            times.append(seconds)
            details.append(detail)
            print(
                f"run {run + 1}: commitment {detail['commit_seconds']}s + draw and persistence "
                f"{detail['draw_seconds']}s = {seconds:.2f}s; raw PostgreSQL sort {sorts[-1]:.2f}s"
            )
        verified = _verify(folder)
    finally:
        engine.dispose()
        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    seconds = statistics.median(times)
    raw = statistics.median(sorts)
    middle = details[times.index(seconds)] if seconds in times else details[-1]
    by_phase = {
        name: {k: round(v / args.applicants * 1e6, 2) for k, v in usage.items()}
        for name, usage in middle["cpu_seconds_by_phase"].items()
    }
    print(f"CPU us per entry by phase (median run, {middle['commit_seconds'] + middle['draw_seconds']:.2f} s):")
    for name, usage in by_phase.items():
        wall = middle["phases"].get(name)
        print(f"  {name:<78} {'' if wall is None else f'{wall:6.2f} s'}  {usage}")
    print(
        "Who works when (median run; CPU seconds per process in each phase's wall time; busy = cores kept busy by "
        "ours and PostgreSQL's, machine = by every process; 2 free = the phase's least wall time with both cores "
        "free):"
    )
    _print_timeline(middle["who_works_when"])
    accounting = _accounting(middle, sort_roles[times.index(seconds)] if seconds in times else sort_roles[-1])
    per = 1e6 / args.applicants
    print(
        f"Who spends the CPU (median run, us per entry; raw sort {statistics.median(sort_cpu) * per:.2f}): "
        f"our Python and C libraries (user) {accounting['ours_user'] * per:.2f}, our kernel time "
        f"{accounting['ours_sys'] * per:.2f}, PostgreSQL {accounting['postgres'] * per:.2f} (session backend "
        f"{accounting['postgres_backend'] * per:.2f}; other processes: "
        + ", ".join(f"{r} {v * per:.2f}" for r, v in accounting["postgres_other_by_role"].items())
        + ")"
    )
    raw_cpu = statistics.median(sort_cpu)
    total_cpu = statistics.median(sum(d["cpu_seconds"].values()) for d in details)
    print(
        f"Against the raw sort: time {seconds / raw:.2f} x, CPU {total_cpu / raw_cpu:.2f} x; "
        f"PostgreSQL alone {accounting['postgres'] / raw_cpu:.2f} x, PostgreSQL + our kernel time "
        f"{(accounting['postgres'] + accounting['ours_sys']) / raw_cpu:.2f} x, our Python (user) "
        f"{accounting['ours_user'] / raw_cpu:.2f} x"
    )
    free = sum(_two_free_cores(middle["who_works_when"]).values())
    if raw_cpu:
        print(
            f"With both cores free (median run; each phase at least its busiest process's CPU): {free:.2f} s against "
            f"the raw sort's {raw_cpu:.2f} s on one core: {free / raw_cpu:.2f} x"
        )
    print(
        json.dumps(
            {
                "benchmark": "selection",
                "applicants": args.applicants,
                "strata": len(strata),
                "runs": args.runs,
                "seconds": round(seconds, 3),
                "raw_sort_seconds": round(raw, 3),
                "ratio": round(seconds / raw, 2) if raw else None,
                "cpu_us_per_op": round(
                    statistics.median(sum(d["cpu_seconds"].values()) for d in details) / args.applicants * 1e6, 2
                ),
                "raw_sort_cpu_us_per_op": round(statistics.median(sort_cpu) / args.applicants * 1e6, 2),
                "cpu_ratio": round(
                    statistics.median(sum(d["cpu_seconds"].values()) for d in details) / statistics.median(sort_cpu), 2
                )
                if sort_cpu and statistics.median(sort_cpu)
                else None,
                "cpu_us_per_op_by_phase": by_phase,
                # Who spends the CPU (median run, us per entry): our process and its helpers (user: Python and C
                # libraries; sys: the kernel on our behalf), PostgreSQL's session backend and its other processes
                # by role; and each part against the raw sort's whole CPU (the fallback: what remains
                # without any Python of ours).
                "cpu_us_per_op_split": {
                    "ours_user": round(accounting["ours_user"] * per, 2),
                    "ours_sys": round(accounting["ours_sys"] * per, 2),
                    "postgres": round(accounting["postgres"] * per, 2),
                    "postgres_backend": round(accounting["postgres_backend"] * per, 2),
                    "postgres_other_by_role": {
                        r: round(v * per, 2) for r, v in accounting["postgres_other_by_role"].items()
                    },
                },
                "raw_sort_cpu_us_per_op_split": {
                    r: round(v * per, 2)
                    for r, v in (sort_roles[times.index(seconds)] if seconds in times else sort_roles[-1]).items()
                },
                "time_ratio": round(seconds / raw, 2) if raw else None,
                "who_works_when": middle["who_works_when"],
                # the median run's phases with both cores free (each phase: its CPU over two cores, at least its
                # busiest process's), against the raw sort's CPU (one backend: its time on a free core)
                "two_free_cores_seconds": round(sum(_two_free_cores(middle["who_works_when"]).values()), 3),
                "two_free_cores_time_ratio": round(sum(_two_free_cores(middle["who_works_when"]).values()) / raw_cpu, 2)
                if raw_cpu
                else None,
                "cpu_ratio_postgres_only": round(accounting["postgres"] / raw_cpu, 2) if raw_cpu else None,
                "cpu_ratio_postgres_and_our_kernel": round(
                    (accounting["postgres"] + accounting["ours_sys"]) / raw_cpu, 2
                )
                if raw_cpu
                else None,
                "cpu_ratio_our_python": round(accounting["ours_user"] / raw_cpu, 2) if raw_cpu else None,
                "fairness_job_seconds": round(statistics.median(d["fairness_job_seconds"] for d in details), 3),
                "runs_seconds": [round(t, 3) for t in times],
                "details": details,
                "verified": verified,
                "artefacts": str(folder),
            }
        )
    )


if __name__ == "__main__":
    main()
