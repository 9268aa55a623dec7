"""The signed partner calls of a purchase in-process, through the whole ASGI app (issue 13, branch ``mweb``).

    python benchmarks/partner_asgi.py [--purchases N] [--rounds R] [--profile FILE]

Calls ``prakerja.app.create_app()`` as an ASGI callable on this process's event loop (uvloop), with the exact
request each call of ``benchmarks/marketplace.py`` sends (signed, ``Idempotency-Key``, JSON body): per round,
``--purchases`` card inquiries, then as many purchases, then (the one-time codes read from the phone beforehand,
not measured) as many confirmations, then as many signed pings and as many ``GET /healthz``. No socket and no HTTP
parser: what is measured is the app's own CPU per call (this process's ``time.process_time``: middleware, routing,
dependencies, signature, JSON, the frame, the services and the database driver's client side), and PostgreSQL's
CPU per call (its process tree, ``benchmarks/cpu.py``), and the wall time per call (``wall_us``: one call at a time,
so how long a call holds what it locks; branch ``mframe``). Medians over the rounds; the last line is one JSON
object. The start-up objects are frozen out of the collector as the app's lifespan does under uvicorn (ADR 0034;
since branch ``mweb3``: before, a full collection of ~0.2 s fell in some rounds).

``--profile FILE`` runs one more round under ``cProfile`` with a CPU clock (``time.process_time``) and writes its
statistics to FILE (``python -m pstats FILE``), then prints the top functions by own time and by cumulative time.

Set-up as ``benchmarks/purchase_in_process.py``: a scratch database ``prakerja_bench_asgi`` on the embedded server
under ``.prakerja-bench`` (or ``PRAKERJA_BENCH_DATABASE_URL``), one institution with a webhook endpoint, one
platform, 16 courses, funded recipients with verified phones.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import hashlib
import hmac
import json
import os
import pstats
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import marketplace  # benchmarks/marketplace.py
from cpu import postmaster_pid, tree_cpu_seconds  # benchmarks/cpu.py
from purchase_in_process import otps  # benchmarks/purchase_in_process.py

ROOT = Path(__file__).resolve().parents[1]
STEPS = ("inquiry", "purchase", "confirm", "ping", "healthz")


AB_CHUNK = 10


class FlagsTogether:
    """Several boolean module attributes switched as one (``--ab-flag a:X,b:Y``, branch ``mshell``)."""

    def __init__(self, targets: list[tuple[Any, str]]) -> None:
        object.__setattr__(self, "targets", targets)

    def __getattr__(self, name: str) -> bool:
        module, attr = self.targets[0]
        return bool(getattr(module, attr))

    def __setattr__(self, name: str, value: bool) -> None:
        for module, attr in self.targets:
            setattr(module, attr, value)


def signed_scope(method: str, target: str, body: bytes, partner: dict, key: str | None) -> dict:  # type: ignore[type-arg]
    """The ASGI scope of the request ``marketplace.signed`` writes on the wire (same headers, same order)."""
    stamp = str(int(time.time()))
    message = partner["client_code"].encode() + stamp.encode() + method.encode() + target.encode() + body
    signature = hmac.new(partner["secret"].encode(), message, hashlib.sha256).hexdigest()
    headers = [
        (b"host", b"bench"),
        (b"client_code", partner["client_code"].encode()),
        (b"timestamp", stamp.encode()),
        (b"signature", signature.encode()),
    ]
    if key:
        headers.append((b"idempotency-key", key.encode()))
    if body or method != "GET":
        headers += [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    return plain_scope(method, target, headers)


def plain_scope(method: str, target: str, headers: list[tuple[bytes, bytes]]) -> dict:  # type: ignore[type-arg]
    path, _, query = target.partition("?")
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 40000),
        "scheme": "http",
        "root_path": "",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query.encode(),
        "headers": headers,
    }


async def call(app: Any, scope: dict, body: bytes) -> tuple[int, bytes]:  # type: ignore[type-arg]
    """One request through the ASGI app; (status, body)."""
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict:  # type: ignore[type-arg]
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:  # type: ignore[type-arg]
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--purchases", type=int, default=100, help="purchases per round (100)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (3)")
    parser.add_argument("--profile", default=None, help="profile one more round into this pstats file")
    parser.add_argument(
        "--ab",
        action="store_true",
        help="also alternate, in chunks of 10 calls, the direct path (ADR 0030) and FastAPI's path (forced by a"
        " module switch, partners.api.USE_DIRECT_PATH) and report the web CPU per call of each (branch mweb and later)",
    )
    parser.add_argument(
        "--ab-flag",
        default=None,
        metavar="MODULE:NAME",
        help="with --ab, alternate this boolean module attribute instead (e.g. prakerja.web.routing:LEAVES, branch"
        " mweb3; several, comma-separated, switched together: branch mshell); the two kinds are reported as 'on' and"
        " 'off'",
    )
    args = parser.parse_args()

    import uvloop

    os.environ.setdefault("PRAKERJA_HOME", str(ROOT / ".prakerja-bench"))
    marketplace.DB_NAME = "prakerja_bench_asgi"
    url, _ = marketplace.scratch_database()
    os.environ.update({"PRAKERJA_DATABASE_URL": url, "PRAKERJA_LOG_LEVEL": "WARNING"})
    os.environ["PRAKERJA_PARTNER_RATE_LIMIT_PER_MINUTE"] = "100000"
    from prakerja import db, migrate
    from prakerja.app import create_app
    from prakerja.audit.service import Actor
    from prakerja.config import reset_settings
    from prakerja.partners import api as partners_api
    from prakerja.partners import service as partners

    flag_module: Any = partners_api
    flag_name, flag_kinds = "USE_DIRECT_PATH", ("direct", "fastapi")
    if args.ab_flag:
        import importlib

        targets = []
        for one in args.ab_flag.split(","):
            module_name, _, name = one.partition(":")
            targets.append((importlib.import_module(module_name), name))
            assert isinstance(getattr(*targets[-1]), bool), one
        flag_kinds = ("on", "off")
        if len(targets) == 1:
            flag_module, flag_name = targets[0]
        else:
            flag_module, flag_name = FlagsTogether(targets), "together"

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
    warm = 20
    rounds = args.rounds + (1 if args.profile else 0)
    cards = marketplace.seed_recipients(rounds * args.purchases + warm)
    with db.unit_of_work() as session:
        from sqlalchemy import text

        session.execute(text("ANALYZE"))
    platform = platforms[0]
    database = postmaster_pid(url)
    app = create_app()
    try:  # what the app's lifespan does first when uvicorn starts it (ADR 0034), which this script does not run
        from prakerja.web import heap

        heap.freeze_startup_objects()
    except ImportError:  # a tree from before ADR 0034
        pass
    loop = uvloop.new_event_loop()
    ab_cpu: dict[str, dict[str, float]] = {step: {} for step in STEPS}
    ab_calls: dict[str, dict[str, int]] = {step: {} for step in STEPS}
    asyncio.set_event_loop(loop)

    def run_round(batch: list[tuple[str, str]], profiler: cProfile.Profile | None = None) -> dict[str, Any]:
        items = [{"card": c, "account": a, "tag": uuid.uuid4().hex[:12]} for c, a in batch]
        out: dict[str, Any] = {}
        for step in STEPS:
            if step == "confirm":
                bought = [it for it in items if "purchase_id" in it]
                for it, code in zip(bought, otps(url, [it["account"] for it in bought]), strict=True):
                    it["otp"] = code
            todo: list[tuple[dict, dict, bytes]] = []  # type: ignore[type-arg]
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
                elif step == "confirm":
                    if "purchase_id" not in it:
                        continue
                    body = json.dumps({"otp": it["otp"]}).encode()
                    path = f"/partner/v1/purchases/{it['purchase_id']}/confirm"
                    scope = signed_scope("POST", path, body, platform, f"ac-{tag}")
                elif step == "ping":
                    body = b""
                    scope = signed_scope("GET", f"/partner/v1/ping?n={uuid.uuid4().hex}", body, platform, None)
                else:
                    body = b""
                    scope = plain_scope("GET", "/healthz", [(b"host", b"bench")])
                todo.append((it, scope, body))

            async def phase(todo: list[tuple[dict, dict, bytes]] = todo, step: str = step) -> int:  # type: ignore[type-arg]
                bad = 0
                for i, (it, scope, body) in enumerate(todo):
                    if args.ab:  # chunks of AB_CHUNK calls, FastAPI's path and the direct path in turn
                        if i % AB_CHUNK == 0:
                            setattr(flag_module, flag_name, (i // AB_CHUNK) % 2 == 0)
                            started = time.process_time()
                        kind = flag_kinds[0] if getattr(flag_module, flag_name) else flag_kinds[1]
                    status, answer = await call(app, scope, body)
                    if args.ab:
                        ab_cpu[step][kind] = ab_cpu[step].get(kind, 0.0) + time.process_time() - started
                        ab_calls[step][kind] = ab_calls[step].get(kind, 0) + 1
                        started = time.process_time()
                    if not 200 <= status < 300:
                        bad += 1
                        print(f"  {step}: {status} {answer[:200]!r}", file=sys.stderr)
                    elif step == "purchase":
                        it["purchase_id"] = json.loads(answer)["purchase_id"]
                return bad

            db_before = tree_cpu_seconds(database) if database else 0.0
            wall_before = time.perf_counter()
            own_before = time.process_time()
            if profiler is not None:
                profiler.enable()
            bad = loop.run_until_complete(phase())
            if profiler is not None:
                profiler.disable()
            own = time.process_time() - own_before
            wall = time.perf_counter() - wall_before
            used_db = (tree_cpu_seconds(database) - db_before) if database else 0.0
            calls = max(1, len(todo))
            out[step] = {
                "web_us": own / calls * 1e6,
                "database_us": used_db / calls * 1e6,
                "wall_us": wall / calls * 1e6,
                "failed": bad,
            }
        return out

    run_round(cards[:warm])  # connections, prepared statements, caches
    for step in STEPS:
        ab_cpu[step].clear()
        ab_calls[step].clear()
    rest = cards[warm:]
    figures: list[dict[str, Any]] = []
    for r in range(args.rounds):
        batch, rest = rest[: args.purchases], rest[args.purchases :]
        figures.append(run_round(batch))
        print(f"  round {r + 1} done", file=sys.stderr)
    result: dict[str, Any] = {"purchases": args.purchases, "rounds": args.rounds}
    for step in STEPS:
        result[step] = {
            "web_us": round(statistics.median(f[step]["web_us"] for f in figures)),
            "database_us": round(statistics.median(f[step]["database_us"] for f in figures)),
            "wall_us": round(statistics.median(f[step]["wall_us"] for f in figures)),
            "failed": sum(f[step]["failed"] for f in figures),
        }
    result["purchase_web_us"] = sum(result[s]["web_us"] for s in ("inquiry", "purchase", "confirm"))
    result["purchase_database_us"] = sum(result[s]["database_us"] for s in ("inquiry", "purchase", "confirm"))
    if args.ab:
        result["ab_web_us"] = {
            step: {kind: round(ab_cpu[step][kind] / ab_calls[step][kind] * 1e6) for kind in sorted(ab_cpu[step])}
            for step in STEPS
        }
        setattr(flag_module, flag_name, True)
    if args.profile:
        profiler = cProfile.Profile(time.process_time)
        batch, rest = rest[: args.purchases], rest[args.purchases :]
        run_round(batch, profiler)
        profiler.dump_stats(args.profile)
        stats = pstats.Stats(args.profile, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(40)
        stats.sort_stats("cumulative").print_stats(60)
    loop.close()
    db.dispose()
    marketplace.drop_database(url)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
