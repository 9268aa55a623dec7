"""Issue 15's identity submission in-process, through the whole ASGI app (branch ``subweb``).

    python benchmarks/submission_asgi.py [--requests N] [--rounds R] [--concurrency C] [--ab] [--profile FILE]

Builds ``benchmarks/intake.py``'s ``bench_app()`` (the product's ``create_app()`` with the benchmark's reference
routes) and calls it as an ASGI callable on this process's event loop (uvloop), with the request the HTTP
benchmark's load generator writes for ``POST /api/v1/registration/identity`` (``Host``, ``Content-Type``, the CSRF,
device and session cookies, ``Content-Length``, the same JSON body); each request is a first submission of a
seeded applicant with an open session (``intake.seed_accounts``). No socket and no HTTP parser: what is measured is
this process's CPU per submission (``time.process_time``) and PostgreSQL's (its process tree).

Per round: ``--requests`` submissions, ``--concurrency`` at a time, then as many HTTP-only reference requests (the
same stack and body model, no database). With ``--ab`` each round alternates, in chunks of ``--chunk``
submissions, the route's direct path (ADR 0037) and FastAPI's path (the module switch
``web.direct.USE_DIRECT_PATH``), so both are measured in the same seconds; a tree without the switch is
measured as it is. ``--profile FILE`` adds a round of submissions under ``cProfile`` with a CPU clock.

Run it against another tree with that tree's ``src`` on ``PYTHONPATH``: only the app comes from there. Database:
``prakerja_bench_submission`` on the embedded server under ``.prakerja-bench`` (or
``PRAKERJA_BENCH_DATABASE_URL``), dropped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import bare_asgi  # benchmarks/bare_asgi.py
import intake  # benchmarks/intake.py
from cpu import postmaster_pid, tree_cpu_seconds  # benchmarks/cpu.py

ROOT = Path(__file__).resolve().parents[1]
bare_asgi.DB_NAME = "prakerja_bench_submission"


def scope_of(path: str, body: bytes, i: int, *, session: bool) -> dict[str, Any]:
    scope = bare_asgi.scope_of(path, body, i)
    if session:
        headers = scope["headers"]
        cookie = dict(headers)[b"cookie"] + f"; prakerja_session={intake.token(i)}".encode()
        scope["headers"] = [(k, cookie if k == b"cookie" else v) for k, v in headers]
    return scope


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="submissions per round (2000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds (3)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight at once (8)")
    parser.add_argument("--ab", action="store_true", help="alternate the direct path and FastAPI's path")
    parser.add_argument("--chunk", type=int, default=100, help="submissions per chunk with --ab (100)")
    parser.add_argument("--profile", default=None, help="profile one more round of submissions into this file")
    args = parser.parse_args()

    import uvloop

    os.environ.setdefault("PRAKERJA_HOME", str(ROOT / ".prakerja-bench"))
    url = bare_asgi.scratch_database()
    os.environ.update({"PRAKERJA_DATABASE_URL": url, "PRAKERJA_LOG_LEVEL": "WARNING", "PRAKERJA_POOL_SIZE": "20"})
    from prakerja import db, migrate
    from prakerja.config import reset_settings

    try:
        from prakerja.web import direct as direct_path
    except ImportError:  # a tree from before ADR 0037
        direct_path = None  # type: ignore[assignment]

    reset_settings()
    db.dispose()
    migrate.upgrade(url=url)
    warm = 1000
    accounts = warm + args.requests * (args.rounds + (1 if args.profile else 0))
    print(f"seeding {accounts} accounts ...", file=sys.stderr)
    intake.seed_accounts(url, accounts)
    database = postmaster_pid(url)
    app = intake.bench_app()
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    lifespan = loop.run_until_complete(bare_asgi.start_lifespan(app))
    import gc

    gc_spent = [0.0, 0.0]  # CPU seconds in the cyclic collector, and when the running collection started

    def gc_watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_spent[1] = time.process_time()
        else:
            gc_spent[0] += time.process_time() - gc_spent[1]

    gc.callbacks.append(gc_watch)
    switch = direct_path is not None
    ab = args.ab and switch
    next_account = [0]

    def run(path: str, count: int, *, kind: str | None = None, profiler: cProfile.Profile | None = None) -> dict:  # type: ignore[type-arg]
        session = path == intake.INTAKE_PATH
        first = next_account[0]
        if session:
            next_account[0] += count
        requests = []
        for n in range(count):
            i = first + n
            body = json.dumps(intake.identity(i)).encode()
            requests.append((scope_of(path, body, i, session=session), body))
        bad = 0

        async def worker(offset: int) -> None:
            nonlocal bad
            for scope, body in requests[offset :: args.concurrency]:
                status, answer = await bare_asgi.call(app, scope, body)
                if status != 202:
                    bad += 1
                    if bad < 3:
                        print(f"  {path}: {status} {answer[:200]!r}", file=sys.stderr)

        async def all_of_them() -> None:
            await asyncio.gather(*(worker(c) for c in range(args.concurrency)))

        if kind is not None and direct_path is not None:
            direct_path.USE_DIRECT_PATH = kind == "direct"
        db_before = tree_cpu_seconds(database) if database else 0.0
        gc_before = gc_spent[0]
        own_before = time.process_time()
        if profiler is not None:
            profiler.enable()
        loop.run_until_complete(all_of_them())
        if profiler is not None:
            profiler.disable()
        own = time.process_time() - own_before
        used_db = (tree_cpu_seconds(database) - db_before) if database else 0.0
        return {"web_s": own, "database_s": used_db, "gc_s": gc_spent[0] - gc_before, "count": count, "failed": bad}

    run(intake.INTAKE_PATH, warm)  # warm: connections, prepared statements, caches
    run(intake.HTTP_ONLY_PATH, 500)
    kinds = ["direct", "fastapi"] if ab else ["as_is"]
    figures: dict[str, list[dict[str, float]]] = {k: [] for k in [*kinds, "http_only"]}
    for r in range(args.rounds):
        if ab:
            spent = {k: {"web_s": 0.0, "database_s": 0.0, "gc_s": 0.0, "count": 0, "failed": 0} for k in kinds}
            for c in range(args.requests // args.chunk):
                kind = kinds[(c + r) % 2]
                chunk = run(intake.INTAKE_PATH, args.chunk, kind=kind)
                for key in spent[kind]:
                    spent[kind][key] += chunk[key]
            for kind in kinds:
                figures[kind].append(spent[kind])
        else:
            figures["as_is"].append(run(intake.INTAKE_PATH, args.requests))
        figures["http_only"].append(run(intake.HTTP_ONLY_PATH, args.requests))
        line = ", ".join(
            f"{k} {f[-1]['web_s'] / f[-1]['count'] * 1e6:.0f} + {f[-1]['database_s'] / f[-1]['count'] * 1e6:.0f} us"
            for k, f in figures.items()
        )
        print(f"  round {r + 1}: {line}", file=sys.stderr)
    if ab and direct_path is not None:
        direct_path.USE_DIRECT_PATH = True
    result: dict[str, Any] = {"requests": args.requests, "rounds": args.rounds, "concurrency": args.concurrency}
    for name, rounds in figures.items():
        web = [f["web_s"] / f["count"] * 1e6 for f in rounds]
        pg = [f["database_s"] / f["count"] * 1e6 for f in rounds]
        result[name] = {
            "web_us": round(statistics.median(web)),
            "web_us_rounds": [round(w) for w in web],
            "database_us": round(statistics.median(pg)),
            "gc_us": round(statistics.median(f["gc_s"] / f["count"] * 1e6 for f in rounds), 1),
            "failed": sum(int(f["failed"]) for f in rounds),
        }
    if ab:
        result["direct_minus_fastapi_web_us"] = result["direct"]["web_us"] - result["fastapi"]["web_us"]
        result["direct_minus_fastapi_web_us_rounds"] = [
            a - b for a, b in zip(result["direct"]["web_us_rounds"], result["fastapi"]["web_us_rounds"], strict=True)
        ]
    if args.profile:
        profiler = cProfile.Profile(time.process_time)
        run(intake.INTAKE_PATH, args.requests, profiler=profiler)
        profiler.dump_stats(args.profile)
        stats = pstats.Stats(args.profile, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(45)
        stats.sort_stats("cumulative").print_stats(80)
    lifespan.cancel()
    loop.run_until_complete(asyncio.gather(lifespan, return_exceptions=True))
    loop.close()
    db.dispose()
    bare_asgi.drop_database(url)
    result["load_average"] = os.getloadavg()[0]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
