"""Exactly once under crashes (issue 14): payout runs killed with SIGKILL at random points, then finished.

    python benchmarks/payout_crashes.py [--runs N] [--participants P] [--seed S] [--kind incentive|settlement|both]

For each of ``--runs`` payout runs (one run date each, ``--participants`` due entitlements spread over a bank
paying by API, an e-wallet paying by API and a bank taking pain.001 files; with ``--kind settlement`` as many
institutions' scheduled settlements over the two banks, paid by the settlement run of the day; ``both`` alternates
an incentive run and a settlement run), against the payment simulator on
loopback with faults on (slow answers past the program's timeout, 5xx, duplicated and delayed callbacks) and the
program's web app receiving the callbacks:
1. a worker process starts and sends the run and is killed with SIGKILL one to three times: either by itself at a
   random step (after the ledger posting, before an HTTP call, *between the partner's answer and recording it*,
   after recording) or by this process after a random delay;
2. then two workers run the same run at once until it completes.
Afterwards: every due entitlement (or settlement) of the run paid exactly once at the simulator (``times_paid ==
1``; ``lost`` counts those unpaid, ``duplicates`` those paid more than once), ``ledger.service.check`` clean, the
run's in-flight accounts (payouts or settlement) at zero and no instruction left open. The last line is one JSON
object with ``runs``, ``kills``, ``duplicates``, ``lost``, ``ledger_ok``, ``stuck``, ``seconds`` and ``by_kind``.

Database: ``PRAKERJA_DATABASE_URL`` if set, else an embedded server under /tmp/prakerja-bench-payouts (a scratch
database, dropped at the end). The worker shortens the retry backoff and the HTTP timeout so a run finishes in
seconds (the same code paths, other constants)."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("posted", "before_send", "after_send", "recorded")
FAULTS = {"timeout": 0.1, "server_error": 0.1, "duplicate_callback": 0.3, "delayed_callback": 0.2}
PASS_CHECK_AFTER = timedelta(milliseconds=300)
WORKER_DEADLINE = 90.0


# --- the worker (a separate process, killed at will) -------------------------------------------------------------


KINDS = {"incentive": ("incentives",), "settlement": ("settlement",), "both": ("incentives", "settlement")}


def worker(run_date: date, stage: str | None, occurrence: int, kind: str = "incentives") -> int:
    import httpx

    from prakerja.audit.service import Actor
    from prakerja.db import session_factory, unit_of_work
    from prakerja.payouts.models import PayoutRun, RunKind, RunStatus
    from prakerja.payouts.providers import paying
    from prakerja.payouts.service import results, runs

    paying.SEND_TIMEOUT = httpx.Timeout(1.0, connect=1.0)
    paying.FILE_TIMEOUT = paying.SEND_TIMEOUT
    results.BACKOFF = (timedelta(milliseconds=200),) * 6
    seen = 0

    def point(reached: str) -> None:
        nonlocal seen
        if reached == stage:
            seen += 1
            if seen >= occurrence:
                os.kill(os.getpid(), signal.SIGKILL)

    with unit_of_work() as session:
        run_id = runs.start(session, kind=RunKind(kind), run_date=run_date, actor=Actor.system()).id
    factory = session_factory()
    deadline = time.monotonic() + WORKER_DEADLINE
    with httpx.Client() as http:
        while time.monotonic() < deadline:
            runs.execute(factory, run_id, http=http, checkpoint=point, check_after=PASS_CHECK_AFTER)
            with factory() as session:
                run = session.get(PayoutRun, run_id)
                if run is not None and run.status is RunStatus.completed:
                    return 0
            time.sleep(0.1)
    return 3


# --- the harness -------------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Outcome:
    entitlements: int
    duplicates: int
    lost: int
    ledger_ok: bool
    stuck: int
    kills: int


class Zygote:
    """A process that has imported the program once and forks each worker on request: a worker starts in
    milliseconds instead of re-importing everything (seconds on a busy machine), so many kills fit in a run. The
    zygote itself holds no database connection and runs no thread; each forked worker opens its own."""

    def __init__(self, url: str) -> None:
        env = {**os.environ, "PRAKERJA_DATABASE_URL": url, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}"}
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--zygote"],
            env=env,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def _ask(self, command: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the zygote died")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def spawn(self, run_date: date, stage: str | None, occurrence: int, kind: str = "incentives") -> int:
        command = {"spawn": run_date.isoformat(), "stage": stage, "occurrence": occurrence, "kind": kind}
        return int(self._ask(command)["pid"])

    def wait(self, pid: int, timeout: float) -> int:
        return int(self._ask({"wait": pid, "timeout": timeout})["code"])

    def close(self) -> None:
        if self.process.stdin is not None:
            self.process.stdin.close()
        self.process.wait(timeout=30)


def zygote() -> int:
    """Serve spawn/wait commands (one JSON object per line) until stdin closes."""
    import httpx  # noqa: F401  (imported once, here, for every worker)

    from prakerja import db  # noqa: F401
    from prakerja.payouts.service import results, runs  # noqa: F401

    for line in sys.stdin:
        command = json.loads(line)
        if "spawn" in command:
            pid = os.fork()
            if pid == 0:
                code = 1
                try:
                    code = worker(
                        date.fromisoformat(command["spawn"]),
                        command["stage"],
                        command["occurrence"],
                        command.get("kind", "incentives"),
                    )
                except BaseException:
                    traceback.print_exc()
                finally:
                    os._exit(code)
            answer: dict[str, Any] = {"pid": pid}
        else:
            pid, deadline = int(command["wait"]), time.monotonic() + float(command["timeout"])
            while True:
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    break
                if time.monotonic() > deadline:
                    os.kill(pid, signal.SIGKILL)
                    _, status = os.waitpid(pid, 0)
                    break
                time.sleep(0.02)
            answer = {"code": os.waitstatus_to_exitcode(status)}
        sys.stdout.write(json.dumps(answer) + "\n")
        sys.stdout.flush()
    return 0


def crash_run(
    zygote: Zygote, sim: Any, run_date: date, participants: int, rng: random.Random, kind: str = "incentives"
) -> Outcome:
    """Seed one run's payees, kill its worker at random points, finish it with two workers, check it."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session
    from tests.payouts.run_factories import create_organisation_settlement, create_participant

    from prakerja import db
    from prakerja.ledger import service as ledger
    from prakerja.payouts.models import (
        Entitlement,
        EntitlementStatus,
        InstructionStatus,
        PayoutBatch,
        PayoutInstruction,
        PayoutProvider,
        PayoutRun,
        ProviderKind,
        RunKind,
        Settlement,
        SettlementStatus,
    )
    from prakerja.simulators.payments.state import Customer

    settlement = kind == "settlement"
    factory = db.session_factory()
    with factory() as session:
        providers = list(session.scalars(select(PayoutProvider).order_by(PayoutProvider.code)))
        if settlement:
            providers = [p for p in providers if p.kind is ProviderKind.bank]
        payee_ids = []
        for i in range(participants):
            provider = providers[i % len(providers)]
            if settlement:
                org = create_organisation_settlement(session, provider, period=f"{run_date:%Y-%m}")
                number, holder, nik, key = org.number, "", "", org.settlement_id
            else:
                person = create_participant(session, provider, due_on=run_date)
                number, holder, nik, key = person.number, "PESERTA UJI", "3201000000000001", person.entitlement_id
            sim.partners[provider.code].customers[number] = Customer(
                number=number, holder_name=holder or "LEMBAGA UJI", nik=nik, phone=number
            )
            payee_ids.append(key)
        session.commit()

    kills, wanted = 0, rng.randint(1, 3)
    for _ in range(2 * wanted):  # until the wanted number of kills landed, or a worker finished the run
        if rng.random() < 0.6:
            pid = zygote.spawn(run_date, rng.choice(STAGES), rng.randint(1, 2), kind)
        else:
            pid = zygote.spawn(run_date, None, 0, kind)
            time.sleep(rng.uniform(0.02, 0.8))
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        code = zygote.wait(pid, WORKER_DEADLINE + 30)
        kills += code == -signal.SIGKILL
        if code == 0 or kills >= wanted:
            break
    finishers = [zygote.spawn(run_date, None, 0, kind) for _ in range(2)]  # two workers on the same run at once
    for pid in finishers:
        code = zygote.wait(pid, WORKER_DEADLINE + 30)
        if code != 0:
            print(f"a finishing worker exited with {code}", file=sys.stderr)

    with Session(db.get_engine()) as session:
        run = session.scalars(
            select(PayoutRun).where(PayoutRun.run_date == run_date, PayoutRun.kind == RunKind(kind))
        ).one()
        instructions = list(session.scalars(select(PayoutInstruction).where(PayoutInstruction.run_id == run.id)))
        paid_e2e = {
            p.end_to_end_id: p.times_paid for partner in sim.partners.values() for p in partner.payments.values()
        }
        by_payee: dict[uuid.UUID, int] = {}
        for instruction in instructions:
            key = instruction.settlement_id if settlement else instruction.entitlement_id
            assert key is not None
            by_payee[key] = by_payee.get(key, 0) + paid_e2e.get(instruction.end_to_end_id, 0)
        if settlement:
            done = {
                s.id: s.status is SettlementStatus.paid
                for s in session.scalars(select(Settlement).where(Settlement.id.in_(payee_ids)))
            }
        else:
            done = {
                e.id: e.status is EntitlementStatus.paid
                for e in session.scalars(select(Entitlement).where(Entitlement.id.in_(payee_ids)))
            }
        lost = sum(1 for e in payee_ids if by_payee.get(e, 0) == 0 or not done[e])
        duplicates = sum(1 for e in payee_ids if by_payee.get(e, 0) > 1)
        stuck = sum(1 for i in instructions if i.status in (InstructionStatus.ready, InstructionStatus.sent))
        in_flight = ledger.settlement_in_flight if settlement else ledger.payouts_in_flight
        for batch in session.scalars(select(PayoutBatch).where(PayoutBatch.run_id == run.id)):
            stuck += in_flight(session, batch.id).balance != 0
        session.commit()
        report = ledger.check(session)
        if not report.ok:
            print(f"ledger problems: {report.problems[:5]}", file=sys.stderr)
    return Outcome(len(payee_ids), duplicates, lost, report.ok, stuck, kills)


def start_servers(url: str, seed: int) -> tuple[Any, list[Any]]:
    """The payment simulator (three partners, faults on) and the program's web app, each on a loopback port."""
    import uvicorn

    from prakerja.app import create_app
    from prakerja.payouts.providers import signing
    from prakerja.simulators.payments.app import create_app as create_sim
    from prakerja.simulators.payments.state import Partner, Simulator

    partners = {
        "bni": Partner(code="bni", kind="bank", secret=signing.new_secret(), rng=random.Random(seed)),
        "ovo": Partner(code="ovo", kind="ewallet", secret=signing.new_secret(), rng=random.Random(seed + 1)),
        "mandiri": Partner(code="mandiri", kind="bank", secret=signing.new_secret(), rng=random.Random(seed + 2)),
    }
    for partner in partners.values():
        partner.faults.update(FAULTS)
    program_port, sim_port = free_port(), free_port()
    simulator = Simulator(partners=partners, program_url=f"http://127.0.0.1:{program_port}")
    servers = [
        uvicorn.Server(uvicorn.Config(create_sim(simulator), host="127.0.0.1", port=sim_port, log_level="error")),
        uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=program_port, log_level="error")),
    ]
    for server in servers:
        threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not all(s.started for s in servers):
        if time.monotonic() > deadline:
            raise RuntimeError("servers did not start")
        time.sleep(0.05)
    simulator.base_url = f"http://127.0.0.1:{sim_port}"
    return simulator, servers


def seed_providers(simulator: Any, total_amount: int) -> None:
    from tests.payouts.run_factories import create_provider, fund_cash_budget

    from prakerja import db
    from prakerja.payouts.models import Channel, ProviderKind

    with db.session_factory()() as session:
        for code, partner in simulator.partners.items():
            create_provider(
                session,
                code=code,
                base_url=f"{simulator.base_url}/{code}",
                secret=partner.secret,
                kind=ProviderKind.ewallet if partner.kind == "ewallet" else ProviderKind.bank,
                channel=Channel.file if code == "mandiri" else Channel.api,
            )
        fund_cash_budget(session, amount=total_amount)
        session.commit()


def harness(url: str, *, runs: int, participants: int, seed: int, kind: str = "incentive") -> dict[str, Any]:
    """Everything but the database's creation: used by ``main`` and by tests/payouts/test_crash_kill.py."""
    from tests.payouts.run_factories import AMOUNT

    rng = random.Random(seed)
    simulator, servers = start_servers(url, seed)
    workers = Zygote(url)
    started = time.monotonic()
    try:
        kinds = KINDS[kind]
        seed_providers(simulator, AMOUNT * participants * runs + AMOUNT)
        totals: dict[str, Any] = {
            "runs": 0,
            "entitlements": 0,
            "kills": 0,
            "duplicates": 0,
            "lost": 0,
            "stuck": 0,
            "ledger_ok": True,
            "by_kind": {k: {"runs": 0, "payees": 0, "duplicates": 0, "lost": 0} for k in kinds},
        }
        for index in range(runs):
            run_kind = kinds[index % len(kinds)]
            outcome = crash_run(
                workers, simulator, date(2026, 1, 1) + timedelta(days=index), participants, rng, run_kind
            )
            mine = totals["by_kind"][run_kind]
            mine["runs"] += 1
            mine["payees"] += outcome.entitlements
            mine["duplicates"] += outcome.duplicates
            mine["lost"] += outcome.lost
            totals["runs"] += 1
            totals["entitlements"] += outcome.entitlements
            totals["kills"] += outcome.kills
            totals["duplicates"] += outcome.duplicates
            totals["lost"] += outcome.lost
            totals["stuck"] += outcome.stuck
            totals["ledger_ok"] = totals["ledger_ok"] and outcome.ledger_ok
            print(
                f"run {index + 1}/{runs} ({run_kind}): kills {outcome.kills}, duplicates {outcome.duplicates}, "
                f"lost {outcome.lost}, stuck {outcome.stuck}, ledger {'ok' if outcome.ledger_ok else 'BROKEN'}",
                file=sys.stderr,
                flush=True,
            )
        totals["seconds"] = round(time.monotonic() - started, 1)
        totals["faults"] = FAULTS
        return totals
    finally:
        workers.close()
        for server in servers:
            server.should_exit = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--participants", type=int, default=24)
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--kind", choices=sorted(KINDS), default="incentive")
    parser.add_argument("--zygote", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.zygote:
        sys.exit(zygote())

    sys.path[:0] = [str(ROOT / "src"), str(ROOT)]
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    from prakerja.db import normalise_url

    external = os.environ.get("PRAKERJA_DATABASE_URL")
    if external:
        admin_url = normalise_url(external)
    else:
        from prakerja.pgembed import embedded_url

        home = Path(os.environ.get("PRAKERJA_BENCH_HOME", "/tmp/prakerja-bench-payouts"))
        home.mkdir(parents=True, exist_ok=True)
        os.environ["PRAKERJA_HOME"] = str(home)
        admin_url = embedded_url(home)
    name = f"prakerja_bench_payouts_{os.getpid()}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    os.environ["PRAKERJA_DATABASE_URL"] = url
    try:
        from prakerja import db, migrate
        from prakerja.config import reset_settings

        reset_settings()
        migrate.upgrade(url=url)
        db.dispose()
        totals = harness(
            url, runs=options.runs, participants=options.participants, seed=options.seed, kind=options.kind
        )
        db.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    print(json.dumps(totals))
    if totals["duplicates"] or totals["lost"] or totals["stuck"] or not totals["ledger_ok"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
