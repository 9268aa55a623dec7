"""Purchase creation and confirmation in-process: the ``Session`` functions against their loop twins (issue 13).

    python benchmarks/purchase_in_process.py [--purchases N] [--rounds R]

CPU per call of ``training.service.purchases.create`` + ``confirm`` (each in its own ``db.unit_of_work()``, called
directly: no HTTP, no signature, no worker-thread hop, no idempotency record) against ``create_on_loop`` +
``confirm_on_loop`` (each inside ``async with db.on_loop() as conn, conn.transaction():``, as the signed frame on
the event loop opens it), on the same data: ``--rounds`` rounds, each ``--purchases`` fresh funded cards bought
with each version (the order alternates from round to round). The creations of a batch are measured apart from
its confirmations; the one-time codes are read between the two (not measured). The reference, in the same rounds:
a transaction holding one ``SELECT 1`` on a loop connection, twice per purchase (the floor of two calls on the
loop). ``loop_piped`` (a tree from before ADR 0028 only, whose loop connections are psycopg's): the loop twins with
the caller's transaction opened inside ``conn.pipeline()`` (``BEGIN`` sent with the first statements, ``COMMIT`` read
at the end); asyncpg has no pipeline of different statements. CPU from ``/proc`` (``benchmarks/cpu.py``): this
process (``time.process_time``) and the PostgreSQL server's process tree. Medians over the rounds; the last line
printed is one JSON object.

Set-up as ``benchmarks/marketplace.py`` (its seeding functions): a scratch database ``prakerja_bench_purchase``
on the embedded server under ``.prakerja-bench`` (or ``PRAKERJA_BENCH_DATABASE_URL``), one institution with a
webhook endpoint, one platform, 16 courses with five sessions each, funded recipients with verified phones.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import marketplace  # benchmarks/marketplace.py
from cpu import DatabaseCpu  # benchmarks/cpu.py

ROOT = Path(__file__).resolve().parents[1]


def otps(url: str, accounts: list[str]) -> list[str]:
    """Each account's latest one-time code, from the development sender's storage (not measured)."""
    import psycopg

    from prakerja.jobs import libpq_conninfo
    from prakerja.kit.pii import decrypt

    found = []
    with psycopg.connect(libpq_conninfo(url)) as conn:
        for account in accounts:
            row = conn.execute(
                "SELECT body FROM notifications_messages WHERE account_id = %s ORDER BY created_at DESC, id DESC"
                " LIMIT 1",
                (account,),
            ).fetchone()
            assert row is not None
            body = decrypt(bytes(row[0]), "notifications_messages.body")
            found.append(body.split("Kode OTP Kartu Prakerja: ")[1][:6])
    return found


def measure(url: str, run: Callable[[], Any]) -> tuple[float, float, Any]:
    """(own CPU s, PostgreSQL CPU s, result) of ``run()``."""
    database = DatabaseCpu(url)
    database.start()
    own = time.process_time()
    result = run()
    own = time.process_time() - own
    return own, database.stop(), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--purchases", type=int, default=100, help="purchases per version per round (100)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (3)")
    args = parser.parse_args()

    os.environ.setdefault("PRAKERJA_HOME", str(ROOT / ".prakerja-bench"))
    marketplace.DB_NAME = "prakerja_bench_purchase"
    url = marketplace.scratch_database()
    os.environ.update({"PRAKERJA_DATABASE_URL": url, "PRAKERJA_LOG_LEVEL": "WARNING"})
    from prakerja import db, migrate
    from prakerja.audit.service import Actor
    from prakerja.config import reset_settings
    from prakerja.partners import service as partners
    from prakerja.partners.models import PartnerRole
    from prakerja.partners.service import PartnerCaller
    from prakerja.training import service
    from prakerja.training.schemas import PurchaseCreate

    reset_settings()
    db.dispose()
    migrate.upgrade(url=url)
    institutions, platforms = marketplace.seed_partners(1, 1)
    with db.unit_of_work() as session:
        partners.add_webhook_endpoint(
            session,
            partner_id=uuid.UUID(institutions[0]["id"]),
            url="https://lembaga.example/hook",
            actor=Actor.system(),
        )
    courses = marketplace.seed_courses(len(marketplace.TOPICS), institutions, platforms)
    warm = 10
    cards = marketplace.seed_recipients(3 * (args.rounds * args.purchases + warm))
    with db.unit_of_work() as session:
        from sqlalchemy import text

        session.execute(text("ANALYZE"))
    platform_id = uuid.UUID(platforms[0]["id"])
    caller = PartnerCaller(
        credential_id=uuid.uuid4(),
        client_code=platforms[0]["client_code"],
        key_id=uuid.uuid4(),
        partner_id=platform_id,
        partner_name="Platform Belajar 1",
        role=PartnerRole.platform,
        timestamp=0,
        signature="",
    )

    def orders(batch: list[tuple[str, str]]) -> list[PurchaseCreate]:
        return [
            PurchaseCreate(
                card_number=card,
                course_id=courses[i % len(courses)],
                platform_order_id=f"order-{account}",
                platform_account_id=f"akun-{account}",
            )
            for i, (card, account) in enumerate(batch)
        ]

    loop = asyncio.new_event_loop()

    def by_session(batch: list[tuple[str, str]]) -> tuple[float, float, float, float]:
        data = orders(batch)

        def create() -> list[str]:
            made = []
            for item in data:
                with db.unit_of_work() as session:
                    made.append(
                        service.purchases.create(session, platform_id=platform_id, data=item, actor=caller.actor)
                    )
            return [m.purchase_id for m in made]

        own_c, db_c, ids = measure(url, create)
        codes = otps(url, [account for _, account in batch])

        def confirm() -> None:
            for purchase_id, otp in zip(ids, codes, strict=True):
                with db.unit_of_work() as session:
                    service.purchases.confirm(
                        session, purchase_id=purchase_id, platform_id=platform_id, otp=otp, actor=caller.actor
                    )

        own_f, db_f, _ = measure(url, confirm)
        return own_c, db_c, own_f, db_f

    def frame(conn: Any, piped: bool) -> Any:
        """The caller's transaction; with ``piped``, opened inside a pipeline, so that ``BEGIN`` travels with the
        first statements and ``COMMIT`` is read at the pipeline's end."""
        if not piped:
            return conn.transaction()
        stack = contextlib.AsyncExitStack()

        async def enter() -> None:
            await stack.enter_async_context(conn.pipeline())
            await stack.enter_async_context(conn.transaction())

        class Frame:
            async def __aenter__(self) -> None:
                await enter()

            async def __aexit__(self, *exc: Any) -> None:
                await stack.__aexit__(*exc)

        return Frame()

    def on_loop(batch: list[tuple[str, str]], piped: bool = False) -> tuple[float, float, float, float]:
        data = orders(batch)

        async def create() -> list[str]:
            made = []
            for item in data:
                async with db.on_loop() as conn, frame(conn, piped):
                    made.append(await service.purchases.create_on_loop(conn, caller=caller, data=item))
            return [m.purchase_id for m in made]

        own_c, db_c, ids = measure(url, lambda: loop.run_until_complete(create()))
        codes = otps(url, [account for _, account in batch])

        async def confirm() -> None:
            for purchase_id, otp in zip(ids, codes, strict=True):
                async with db.on_loop() as conn, frame(conn, piped):
                    await service.purchases.confirm_on_loop(conn, caller=caller, purchase_id=purchase_id, otp=otp)

        own_f, db_f, _ = measure(url, lambda: loop.run_until_complete(confirm()))
        return own_c, db_c, own_f, db_f

    def reference(batch: list[tuple[str, str]]) -> tuple[float, float, float, float]:
        """The floor of a call on the loop: a transaction with one ``SELECT 1`` (twice: creation, confirmation)."""

        async def one() -> None:
            for _ in batch:
                async with db.on_loop() as conn, conn.transaction():
                    if hasattr(conn, "fetchval"):  # asyncpg (ADR 0028)
                        await conn.fetchval("SELECT 1")
                    else:  # psycopg: a tree from before ADR 0028
                        await (await conn.execute("SELECT 1")).fetchone()

        own_c, db_c, _ = measure(url, lambda: loop.run_until_complete(one()))
        own_f, db_f, _ = measure(url, lambda: loop.run_until_complete(one()))
        return own_c, db_c, own_f, db_f

    piped = not hasattr(db, "positional")  # psycopg loop connections (a tree from before ADR 0028)
    runners = {
        "session": by_session,
        "loop": on_loop,
        **({"loop_piped": lambda batch: on_loop(batch, piped=True)} if piped else {}),
        "reference": reference,
    }
    by_session(cards[:warm])  # connections, prepared statements, the institution's payable
    on_loop(cards[warm : 2 * warm])
    if piped:
        on_loop(cards[2 * warm : 3 * warm], piped=True)
    rest = cards[3 * warm :]
    figures: dict[str, list[tuple[float, float, float, float]]] = {name: [] for name in runners}
    for r in range(args.rounds):
        names = list(runners) if r % 2 == 0 else list(reversed(runners))
        for name in names:
            if name == "reference":
                batch = cards[: args.purchases]
            else:
                batch, rest = rest[: args.purchases], rest[args.purchases :]
            figures[name].append(runners[name](batch))
            print(f"  round {r + 1} {name} done", file=sys.stderr)
    loop.close()

    def per_call(name: str, index: int) -> float:
        return round(statistics.median(f[index] for f in figures[name]) / args.purchases * 1e6, 1)

    result: dict[str, Any] = {"purchases": args.purchases, "rounds": args.rounds}
    for name in figures:
        web_create, db_create = per_call(name, 0), per_call(name, 1)
        web_confirm, db_confirm = per_call(name, 2), per_call(name, 3)
        result[name] = {
            "create_us": {"web": web_create, "db": db_create},
            "confirm_us": {"web": web_confirm, "db": db_confirm},
            "both_us": {
                "web": round(web_create + web_confirm, 1),
                "db": round(db_create + db_confirm, 1),
                "total": round(web_create + web_confirm + db_create + db_confirm, 1),
            },
        }
    for name in [n for n in runners if n != "reference"]:
        result[f"{name}_over_reference"] = round(
            result[name]["both_us"]["total"] / result["reference"]["both_us"]["total"], 2
        )
    result["loop_over_session"] = round(result["loop"]["both_us"]["total"] / result["session"]["both_us"]["total"], 3)
    db.dispose()
    marketplace.drop_database(url)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
