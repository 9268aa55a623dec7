"""Payouts benchmark (issue 14): N due incentives from entitlement to reconciled payout, through the product's code
and the payment simulator on loopback, with the ledger's own batch posting of N transfers as the reference.

    python benchmarks/payouts.py [--payouts N] [--providers P] [--chunk K]

Set-up (not the product's paths, and said so): one applicant account shared by the seeded recipients (only a
failure notification would read it), N recipients, N active payout accounts (numbers and holder names encrypted
as the product stores them), N incentive payables on the ledger and N scheduled entitlements due today, all
written with COPY; the cash budget allocated with ``ledger.service.allocate_budget``.

Reference (same run, same database): the N scheduled entitlements' money, budget -> payables, posted by the
ledger's batch path (``ledger.service.post_batches``, chunks of K, one run on one connection: what
benchmarks/ledger.py reports as ``batch_one_run_tps``), under the transfer ids the entitlements carry.

Measured (the product's code, ``payouts.service``): ``runs.start`` (the due entitlements claimed, one batch per
provider with control totals, the instructions), then ``runs.execute`` passes until the run is completed: the
ledger's payable -> payouts in flight (``ledger.service.post_runs``), one pain.001 file per batch to the simulator,
its pain.002 read back and applied (in flight -> disbursed through ``ledger.service.post_batch``), then each
provider's camt.053 statement of the day fetched and reconciled (``reconciliation.fetch_and_ingest``). The
simulator runs as its own process (``prakerja sim payments --any-account``), so its CPU is counted apart.

The phase table splits the time by wrapping (never replacing) the product's functions. Checks afterwards: every
entitlement ``paid``, every instruction ``succeeded``, no open reconciliation difference (``unreconciled``), no
end-to-end id paid more than once at the simulator (``duplicates``), the ledger's ``check`` clean and the
payouts-in-flight accounts at zero. Last line: one JSON object. Not a test: nothing here asserts a duration.

Database: PRAKERJA_DATABASE_URL's server, or the embedded PostgreSQL under /tmp/prakerja-bench-payouts; a scratch
database, migrated with Alembic and dropped at the end."""

from __future__ import annotations

import argparse
import functools
import json
import os
import secrets
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "src"), str(ROOT / "benchmarks"), str(ROOT)]

from cpu import DatabaseCpu, tree_cpu_seconds  # noqa: E402

SCHEME = "2023-normal"
AMOUNT = 600_000
PROVIDERS = ("bni", "bri", "mandiri", "bca", "bsi", "btn", "permata", "cimb")

PHASES: dict[str, float] = defaultdict(float)
"""Phase -> seconds, filled by the wrappers."""
PHASE_CPU: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])
"""Phase -> CPU seconds meanwhile of this process (all its threads), the simulator and PostgreSQL."""
WATCHED: dict[str, int | None] = {"simulator": None, "postgres": None}
QUIET = {"posting", "entitlements due", "statement ingested", "reconciliation"}
"""Phases called many times (no progress line each)."""


MEASURING = [0.0]
"""CPU seconds this process spent reading /proc for the per-phase figures (a scan of every process): left out of
ours."""


def own_cpu() -> float:
    """This process's CPU seconds (all threads), less what measuring cost."""
    return time.process_time() - MEASURING[0]


def _cpus() -> tuple[float, float, float]:
    started = time.process_time()
    sim, pg = WATCHED["simulator"], WATCHED["postgres"]
    others = (tree_cpu_seconds(sim) if sim else 0.0, tree_cpu_seconds(pg) if pg else 0.0)
    MEASURING[0] += time.process_time() - started
    return (own_cpu(), *others)


_STACK = threading.local()
"""The phases open in this thread, innermost last: [phase, seconds of inner phases, their CPU]."""


def timed(phase: str, function: Callable[..., Any]) -> Callable[..., Any]:
    """Time ``function`` as ``phase``, less the phases called inside it (each second counted in one phase). Exact
    with one batch worker; with several (threads), phases overlap and the per-phase CPU of a process is shared."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        stack = _STACK.__dict__.setdefault("open", [])
        frame: list[Any] = [phase, 0.0, [0.0, 0.0, 0.0]]
        stack.append(frame)
        started, before = time.perf_counter(), _cpus()
        try:
            return function(*args, **kwargs)
        finally:
            elapsed = time.perf_counter() - started
            after = _cpus()
            used = [after[index] - before[index] for index in range(3)]
            stack.pop()
            PHASES[phase] += elapsed - frame[1]
            for index in range(3):
                PHASE_CPU[phase][index] += used[index] - frame[2][index]
            if stack:
                stack[-1][1] += elapsed
                for index in range(3):
                    stack[-1][2][index] += used[index]
            if phase not in QUIET:
                print(f"  {phase}: {PHASES[phase]:.1f} s so far", file=sys.stderr, flush=True)

    return wrapper


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _admin_url() -> str:
    from prakerja.db import normalise_url

    external = os.environ.get("PRAKERJA_DATABASE_URL")
    if external:
        return normalise_url(external)
    from prakerja.pgembed import embedded_url

    home = Path(os.environ.get("PRAKERJA_BENCH_HOME", "/tmp/prakerja-bench-payouts"))
    home.mkdir(parents=True, exist_ok=True)
    os.environ["PRAKERJA_HOME"] = str(home)
    return embedded_url(home)


# --- the simulator -----------------------------------------------------------------------------------------------


def start_simulator(secrets_by_code: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    command = [sys.executable, "-m", "prakerja", "sim", "payments", "--port", str(port), "--any-account"]
    for code, secret in secrets_by_code.items():
        command += ["--partner", f"{code}:bank:{secret}"]
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(command, env=env, cwd=ROOT)
    import httpx

    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{base}/_health", timeout=2).status_code == 200:
                return process, base
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError("the payment simulator did not start")
        time.sleep(0.2)


# --- set-up (COPY, not the product's paths) ----------------------------------------------------------------------


def _copy(session: Any, table: str, columns: list[str], rows: Any) -> None:
    raw = session.connection().connection.driver_connection
    with raw.cursor() as cur, cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def seed(url: str, n: int, providers: int, sim_base: str, secrets_by_code: dict[str, str], due: date) -> list[Any]:
    """Providers, recipients, payout accounts, ledger payables, entitlements; returns the BatchTransfers that fund
    the payables (posted by the reference phase)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session
    from tests.payouts.run_factories import create_provider, fund_cash_budget
    from tests.selection.factories import create_wave

    from prakerja.auth.models import Account, Role
    from prakerja.kit.clock import utcnow
    from prakerja.kit.ids import new_id
    from prakerja.kit.pii import blind_index, encrypt
    from prakerja.ledger import service as ledger
    from prakerja.ledger.models import GENESIS, AccountKind, LedgerCode, TransferCode
    from prakerja.ledger.schemas import BatchTransfer
    from prakerja.payouts import rules
    from prakerja.payouts.models import Channel, ProviderKind

    engine = create_engine(url)
    now = utcnow()
    year = due.year
    with Session(engine) as session:
        provider_rows = [
            create_provider(
                session,
                code=code,
                base_url=f"{sim_base}/{code}",
                secret=secrets_by_code[code],
                kind=ProviderKind.bank,
                channel=Channel.file,
            )
            for code in list(secrets_by_code)[:providers]
        ]
        fund_cash_budget(session, amount=n * AMOUNT)
        budget = ledger.state_budget(session, scheme=SCHEME, year=year, ledger=LedgerCode.cash).id
        wave = create_wave(session).id
        email = f"peserta-bench-{uuid.uuid4().hex[:8]}@example.org"
        applicant = Account(
            id=new_id(),
            email=email,
            email_index=blind_index(email, "email"),
            password_hash="!bench",
            role=Role.applicant,
            display_name="Peserta Bench",
        )
        session.add(applicant)
        session.flush()
        card = encrypt("0000000000000000", "selection_recipients.card_number")
        recipients = [new_id() for _ in range(n)]
        participants = [uuid.uuid4() for _ in range(n)]
        _copy(
            session,
            "selection_recipients",
            [
                "id",
                "created_at",
                "wave_id",
                "entry_hash",
                "applicant_id",
                "account_id",
                "card_number",
                "card_number_index",
                "card_last4",
                "scheme_name",
                "training_balance",
                "funding_transfer_id",
                "first_purchase_deadline",
                "status",
            ],
            (
                (
                    recipients[i],
                    now,
                    wave,
                    secrets.token_bytes(32),
                    participants[i],
                    applicant.id,
                    card,
                    secrets.token_bytes(32),
                    "0000",
                    SCHEME,
                    3_500_000,
                    uuid.uuid4(),
                    now + timedelta(days=30),
                    "active",
                )
                for i in range(n)
            ),
        )
        holder = "PESERTA BENCH"

        def account_rows() -> Any:
            for i in range(n):
                provider = provider_rows[i % len(provider_rows)]
                number = f"{i:010d}"
                yield (
                    new_id(),
                    now,
                    recipients[i],
                    participants[i],
                    applicant.id,
                    provider.id,
                    encrypt(number, "payouts_accounts.number"),
                    blind_index(f"{provider.code}:{number}", "payout_account"),
                    rules.mask_number(number),
                    encrypt(holder, "payouts_accounts.holder_name"),
                    "active",
                    0,
                    now,
                )

        _copy(
            session,
            "payouts_accounts",
            [
                "id",
                "created_at",
                "recipient_id",
                "participant_id",
                "account_id",
                "provider_id",
                "number",
                "number_index",
                "number_masked",
                "holder_name",
                "status",
                "otp_attempts",
                "linked_at",
            ],
            account_rows(),
        )
        payables = [new_id() for _ in range(n)]
        _copy(
            session,
            "ledger_accounts",
            [
                "id",
                "ledger",
                "kind",
                "owner_type",
                "owner_id",
                "scheme",
                "year",
                "debits_must_not_exceed_credits",
                "credits_must_not_exceed_debits",
                "closed",
                "debits_pending",
                "debits_posted",
                "credits_pending",
                "credits_posted",
                "head_hash",
                "created_at",
            ],
            (
                (
                    payables[i],
                    int(LedgerCode.cash),
                    AccountKind.incentive_payable.value,
                    "participant",
                    str(participants[i]),
                    SCHEME,
                    year,
                    True,
                    False,
                    False,
                    0,
                    0,
                    0,
                    0,
                    GENESIS,
                    now,
                )
                for i in range(n)
            ),
        )
        schedules = [uuid.uuid4() for _ in range(n)]
        _copy(
            session,
            "payouts_entitlements",
            [
                "id",
                "created_at",
                "recipient_id",
                "participant_id",
                "kind",
                "instalment",
                "scheme",
                "year",
                "amount",
                "due_on",
                "status",
                "source_ref",
                "schedule_transfer_id",
            ],
            (
                (
                    new_id(),
                    now,
                    recipients[i],
                    participants[i],
                    "incentive",
                    1,
                    SCHEME,
                    year,
                    AMOUNT,
                    due,
                    "scheduled",
                    f"bench:{i}",
                    schedules[i],
                )
                for i in range(n)
            ),
        )
        session.commit()
    engine.dispose()
    code, ref_type, ref_id = TransferCode.incentive, "payouts_bench", "seed"
    return [BatchTransfer(schedules[i], budget, payables[i], AMOUNT, code, ref_type, ref_id) for i in range(n)]


# --- the run -----------------------------------------------------------------------------------------------------


def instrument() -> None:
    """Time the product's phases by wrapping its functions (the same functions run)."""
    from prakerja.ledger import service as ledger
    from prakerja.payouts.providers import camt
    from prakerja.payouts.repository import reconciliation as recon_rows
    from prakerja.payouts.repository import runs as run_rows
    from prakerja.payouts.service import runs

    run_rows.claim_due = timed("entitlements due", run_rows.claim_due)
    runs.start = timed("run creation/batching", runs.start)
    runs._post_ledger = timed("ledger pending transfers", runs._post_ledger)
    runs._send_file = timed("instructions sent", runs._send_file)
    runs._send_api = timed("instructions sent", runs._send_api)
    runs._ask_files = timed("results applied", runs._ask_files)
    ledger.post_batch = timed("posting", ledger.post_batch)
    camt.fetch_statement = timed("statement ingested", camt.fetch_statement)
    camt.read_statement = timed("statement ingested", camt.read_statement)
    recon_rows.stage_lines = timed("statement ingested", recon_rows.stage_lines)
    recon_rows.insert_staged_entries = timed("statement ingested", recon_rows.insert_staged_entries)
    recon_rows.record_differences = timed("reconciliation", recon_rows.record_differences)
    recon_rows.explain_differences = timed("reconciliation", recon_rows.explain_differences)


def pay_and_reconcile(url: str, run_date: date, workers: int) -> dict[str, Any]:
    import httpx
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    from prakerja.audit.service import Actor
    from prakerja.kit.clock import JAKARTA
    from prakerja.payouts.models import PayoutProvider, RunKind, RunStatus
    from prakerja.payouts.service import reconciliation, runs

    engine = create_engine(url, pool_size=4 * max(1, workers))
    factory = sessionmaker(engine)
    passes = 0
    with factory() as session:
        run_id = runs.start(session, kind=RunKind.incentives, run_date=run_date, actor=Actor.system()).id
        session.commit()
    with httpx.Client() as http:
        while True:
            summary = runs.execute(factory, run_id, http=http, workers=workers)
            passes += 1
            if summary.errors:
                print(f"pass {passes}: {summary.errors[:3]}", file=sys.stderr)
            with factory() as session:
                run = runs.repository.run(session, run_id)
                if run is not None and run.status is RunStatus.completed:
                    break
            if passes >= 20:
                raise RuntimeError("the run did not complete in 20 passes")
            time.sleep(0.5)
    day = datetime.now(UTC).astimezone(JAKARTA).date()
    with factory() as session:
        codes = [p.code for p in session.query(PayoutProvider).order_by(PayoutProvider.code)]

    def reconcile(code: str) -> Any:
        with factory() as session:
            report = reconciliation.fetch_and_ingest(session, provider_code=code, day=day, actor=Actor.system())
            session.commit()
            return report

    # each bank's statement is its own job: ``workers`` of them at once, as that many job workers would
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        reports = list(pool.map(reconcile, codes))
    engine.dispose()
    return {"run_id": run_id, "passes": passes, "statements": reports}


def verify(url: str, run_id: uuid.UUID, sim_base: str, codes: list[str], n: int) -> dict[str, Any]:
    import httpx
    from sqlalchemy import create_engine, text
    from sqlalchemy.orm import Session

    from prakerja.ledger import service as ledger

    engine = create_engine(url)
    with Session(engine) as session:
        paid = session.execute(text("SELECT count(*) FROM payouts_entitlements WHERE status = 'paid'")).scalar_one()
        succeeded = session.execute(
            text("SELECT count(*) FROM payouts_instructions WHERE run_id = :r AND status = 'succeeded'"), {"r": run_id}
        ).scalar_one()
        open_differences = session.execute(
            text("SELECT count(*) FROM payouts_differences WHERE resolved_at IS NULL")
        ).scalar_one()
        batches = session.execute(text("SELECT id FROM payouts_batches WHERE run_id = :r"), {"r": run_id}).scalars()
        in_flight = sum(ledger.payouts_in_flight(session, b).balance for b in batches)
        started = time.perf_counter()
        report = ledger.check(session)
        check_seconds = time.perf_counter() - started
    engine.dispose()
    duplicates = at_partner = 0
    for code in codes:
        for payment in httpx.get(f"{sim_base}/{code}/sim/paid", timeout=300).json():
            at_partner += payment["times"] >= 1
            duplicates += payment["times"] > 1
    unreconciled = (n - paid) + (n - succeeded) + open_differences + (n - at_partner)
    return {
        "paid": paid,
        "succeeded": succeeded,
        "open_differences": open_differences,
        "paid_at_partner": at_partner,
        "duplicates": duplicates,
        "unreconciled": unreconciled,
        "in_flight_left": in_flight,
        "ledger_ok": report.ok,
        "ledger_check_seconds": round(check_seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--payouts", type=int, default=1_000_000)
    parser.add_argument("--providers", type=int, default=4, help=f"payment partners, 1-{len(PROVIDERS)}")
    parser.add_argument("--chunk", type=int, default=10_000, help="transfers per ledger batch (the reference)")
    parser.add_argument("--profile", action="store_true", help="cProfile the run (to stderr; slows it)")
    parser.add_argument(
        "--workers", type=int, default=None, help="batches (and statements) worked at once (default: the product's)"
    )
    parser.add_argument("--no-check", action="store_true", help="skip ledger.service.check (minutes at 1M)")
    options = parser.parse_args()
    n, providers = options.payouts, max(1, min(options.providers, len(PROVIDERS)))
    if options.workers is None:
        from prakerja.payouts.service.runs import BATCH_WORKERS

        options.workers = BATCH_WORKERS

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin_url = _admin_url()
    name = f"prakerja_bench_payouts_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    os.environ["PRAKERJA_DATABASE_URL"] = url
    sim: subprocess.Popen[bytes] | None = None
    try:
        from prakerja import db, migrate
        from prakerja.config import reset_settings
        from prakerja.kit.clock import JAKARTA
        from prakerja.ledger import service as ledger
        from prakerja.payouts.providers import signing

        reset_settings()
        migrate.upgrade(url=url)
        db.dispose()
        secrets_by_code = {code: signing.new_secret() for code in PROVIDERS[:providers]}
        sim, sim_base = start_simulator(secrets_by_code)
        run_date = datetime.now(UTC).astimezone(JAKARTA).date()
        load_before = os.getloadavg()

        started = time.perf_counter()
        funding = seed(url, n, providers, sim_base, secrets_by_code, run_date)
        seed_seconds = time.perf_counter() - started

        # the reference: the ledger's own batch posting of N transfers (and the entitlements' money on the payables)
        engine = create_engine(url)
        from sqlalchemy.orm import sessionmaker

        database = DatabaseCpu(url)
        database.start()
        ours_before = time.process_time()
        started = time.perf_counter()
        ledger.post_batches(sessionmaker(engine), (funding[i : i + options.chunk] for i in range(0, n, options.chunk)))
        reference_seconds = time.perf_counter() - started
        reference_cpu = {
            "ours": (time.process_time() - ours_before) / n * 1e6,
            "postgres": database.stop() / n * 1e6,
        }
        engine.dispose()
        del funding
        with create_engine(url, isolation_level="AUTOCOMMIT").connect() as conn:
            conn.execute(text("VACUUM ANALYZE"))

        # the product's run, timed
        instrument()
        database.start()
        WATCHED["simulator"], WATCHED["postgres"] = sim.pid, database.pid
        ours_before = own_cpu()
        sim_before = tree_cpu_seconds(sim.pid)
        started = time.perf_counter()
        if options.profile:
            import cProfile
            import pstats

            profiler = cProfile.Profile()
            outcome = profiler.runcall(pay_and_reconcile, url, run_date, options.workers)
            pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(40)
        else:
            outcome = pay_and_reconcile(url, run_date, options.workers)
        seconds = time.perf_counter() - started
        cpu = {
            "ours": (own_cpu() - ours_before) / n * 1e6,
            "simulator": (tree_cpu_seconds(sim.pid) - sim_before) / n * 1e6,
            "postgres": database.stop() / n * 1e6,
        }
        load_after = os.getloadavg()
        codes = list(secrets_by_code)
        if options.no_check:
            from prakerja.ledger import service as ledger_service

            ledger_service.check = lambda session: type("Skipped", (), {"ok": None})()
        checks = verify(url, outcome["run_id"], sim_base, codes, n)
    finally:
        if sim is not None:
            sim.terminate()
            sim.wait(timeout=30)
        from prakerja import db

        db.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    order = [
        "entitlements due",
        "run creation/batching",
        "ledger pending transfers",
        "instructions sent",
        "results applied",
        "posting",
        "statement ingested",
        "reconciliation",
    ]
    phases, phase_cpu = dict(PHASES), dict(PHASE_CPU)
    zero = [0.0, 0.0, 0.0]
    accounted = sum(phases.get(p, 0.0) for p in order)
    print(
        f"payouts benchmark: {n:,} due incentives, {providers} partners (pain.001/pain.002 files, camt.053), "
        f"{options.workers} batch worker(s){' (phases overlap: indicative)' if options.workers > 1 else ''}"
    )
    print(f"{'phase':<28}{'seconds':>10}{'per payout':>14}   CPU us per payout: ours / simulator / postgres")
    print(f"{'seed (COPY, set-up)':<28}{seed_seconds:>10.1f}{'':>14}")
    print(f"{'reference: ledger batch':<28}{reference_seconds:>10.1f}{reference_seconds / n * 1e6:>11.0f} us")
    for phase in order:
        value = phases.get(phase, 0.0)
        ours, simulator, postgres = (v / n * 1e6 for v in phase_cpu.get(phase, zero))
        print(f"{phase:<28}{value:>10.1f}{value / n * 1e6:>11.0f} us   {ours:>8.0f} {simulator:>8.0f} {postgres:>8.0f}")
    print(f"{'other (commits, HTTP, misc)':<28}{seconds - accounted:>10.1f}{(seconds - accounted) / n * 1e6:>11.0f} us")
    print(f"{'total, due -> reconciled':<28}{seconds:>10.1f}{seconds / n * 1e6:>11.0f} us")
    print(
        f"cpu us per payout: ours {cpu['ours']:.0f}, simulator {cpu['simulator']:.0f}, postgres {cpu['postgres']:.0f}"
        f"; reference: ours {reference_cpu['ours']:.0f}, postgres {reference_cpu['postgres']:.0f}"
    )
    print(f"load average before {load_before[0]:.1f}, after {load_after[0]:.1f}; checks {checks}")
    result = {
        "payouts": n,
        "providers": providers,
        "workers": options.workers,
        "seconds": round(seconds, 1),
        "ledger_reference_seconds": round(reference_seconds, 1),
        "ratio_to_reference": round(seconds / reference_seconds, 2) if reference_seconds else None,
        "duplicates": checks["duplicates"],
        "unreconciled": checks["unreconciled"],
        "phases": {p: round(phases.get(p, 0.0), 1) for p in order},
        "phase_cpu_us_per_op": {
            p: {
                k: round(v / n * 1e6, 1)
                for k, v in zip(("ours", "simulator", "postgres"), phase_cpu.get(p, zero), strict=True)
            }
            for p in order
        },
        "seed_seconds": round(seed_seconds, 1),
        "passes": outcome["passes"],
        "cpu_us_per_op": {k: round(v, 1) for k, v in cpu.items()},
        "reference_cpu_us_per_op": {k: round(v, 1) for k, v in reference_cpu.items()},
        "cpu_ratio_to_reference": round(sum(cpu.values()) / sum(reference_cpu.values()), 2)
        if sum(reference_cpu.values())
        else None,
        "ledger_ok": checks["ledger_ok"],
        "in_flight_left": checks["in_flight_left"],
        "load_average": [round(load_before[0], 1), round(load_after[0], 1)],
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
