"""Issue 15's bare endpoint and its HTTP-only reference in-process, through the whole ASGI app (branch ``bare``).

    python benchmarks/bare_asgi.py [--requests N] [--rounds R] [--concurrency C] [--profile FILE]

Builds ``benchmarks/intake.py``'s ``bench_app()`` (the product's ``create_app()`` with the benchmark's reference
routes placed right after the intake route's router, exactly as the HTTP benchmark serves them) and calls it as an
ASGI callable on this process's event loop (uvloop), with the request the HTTP benchmark's load generator writes
(same headers: ``Host``, ``Content-Type``, the CSRF and device cookies, ``Content-Length``; the same JSON body).
No socket and no HTTP parser: what is measured is the app's own CPU per request (this process's
``time.process_time``: middleware, routing, body validation, the loop connection's check-out and check-in, the
driver's client side, the response) and PostgreSQL's (its process tree, ``benchmarks/cpu.py``).

Per round: ``--requests`` bare requests (one durable INSERT each), then as many HTTP-only requests (the same stack,
no database), ``--concurrency`` at a time (C coroutines on the loop, as C keep-alive connections would give).
Medians over the rounds; the last line is one JSON object. ``--profile FILE`` adds a round of bare requests under
``cProfile`` with a CPU clock and prints the top functions.

Run it against another tree with that tree's ``src`` on ``PYTHONPATH``: only the app comes from there, this script
and ``intake.py``'s ``bench_app`` from here. Database: ``prakerja_bench_bare`` on the embedded server under
``.prakerja-bench`` (or ``PRAKERJA_BENCH_DATABASE_URL``), dropped at the end.
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

import intake  # benchmarks/intake.py
from cpu import postmaster_pid, tree_cpu_seconds  # benchmarks/cpu.py

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "prakerja_bench_bare"


def scope_of(path: str, body: bytes, i: int) -> dict[str, Any]:
    """The ASGI scope uvicorn gives for the request ``intake._request`` writes (headers lower-cased, in order)."""
    cookie = f"prakerja_csrf=bench; prakerja_device=bench-device-{i:023d}"
    headers = [
        (b"host", b"bench"),
        (b"content-type", b"application/json"),
        (b"cookie", cookie.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 40000),
        "scheme": "http",
        "root_path": "",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": headers,
        "state": {},
    }


async def call(app: Any, scope: dict[str, Any], body: bytes) -> tuple[int, bytes]:
    """One request through the ASGI app; (status, body)."""
    sent = False
    status = 0
    chunks: list[bytes] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)
        return {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks)


async def start_lifespan(app: Any) -> asyncio.Task[None]:
    """The ASGI lifespan's start-up, as uvicorn runs it before the first request; the task runs until shutdown."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.get_running_loop().create_future()
    await inbox.put({"type": "lifespan.startup"})

    async def send(message: dict[str, Any]) -> None:
        if message["type"].startswith("lifespan.startup") and not started.done():
            started.set_result(message["type"])

    task = asyncio.ensure_future(app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, inbox.get, send))
    outcome = await started
    if outcome != "lifespan.startup.complete":
        raise RuntimeError(outcome)
    return task


def scratch_database() -> str:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    external = os.environ.get("PRAKERJA_BENCH_DATABASE_URL")
    if external:
        from prakerja.db import normalise_url

        admin_url = normalise_url(external)
    else:
        from prakerja.pgembed import embedded_url

        home = ROOT / ".prakerja-bench"
        home.mkdir(exist_ok=True)
        admin_url = embedded_url(home)
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
        conn.execute(text(f"CREATE DATABASE {DB_NAME}"))
    admin.dispose()
    return make_url(admin_url).set(database=DB_NAME).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
    admin.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per phase and round (2000)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds (5)")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight at once (8)")
    parser.add_argument("--only", choices=["bare", "http_only", "fastapi_only"], default=None, help="one phase alone")
    parser.add_argument("--profile", default=None, help="profile one more round of bare requests into this file")
    args = parser.parse_args()

    import uvloop

    os.environ.setdefault("PRAKERJA_HOME", str(ROOT / ".prakerja-bench"))
    url = scratch_database()
    os.environ.update({"PRAKERJA_DATABASE_URL": url, "PRAKERJA_LOG_LEVEL": "WARNING", "PRAKERJA_POOL_SIZE": "20"})
    import psycopg

    from prakerja import db, migrate
    from prakerja.config import reset_settings
    from prakerja.jobs import libpq_conninfo

    reset_settings()
    db.dispose()
    migrate.upgrade(url=url)
    with psycopg.connect(libpq_conninfo(url)) as conn:
        conn.execute("CREATE TABLE bench_bare (id bigserial PRIMARY KEY, body jsonb NOT NULL)")
    database = postmaster_pid(url)
    app = intake.bench_app()
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    lifespan = loop.run_until_complete(start_lifespan(app))
    bodies = [json.dumps(intake.identity(i)).encode() for i in range(args.requests)]
    phases = {"bare": intake.BARE_PATH, "http_only": intake.HTTP_ONLY_PATH, "fastapi_only": intake.FASTAPI_ONLY_PATH}
    if args.only:
        phases = {args.only: phases[args.only]}

    import gc

    gc_time = [0.0, 0.0, 0.0]
    gc_count = [0, 0, 0]
    gc_started = [0.0]

    def gc_watch(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            gc_started[0] = time.process_time()
        else:
            gc_time[info["generation"]] += time.process_time() - gc_started[0]
            gc_count[info["generation"]] += 1

    gc.callbacks.append(gc_watch)

    def run(path: str, count: int, profiler: cProfile.Profile | None = None) -> dict[str, float]:
        requests = [(scope_of(path, bodies[i % len(bodies)], i), bodies[i % len(bodies)]) for i in range(count)]
        bad = 0

        async def worker(offset: int) -> None:
            nonlocal bad
            for scope, body in requests[offset :: args.concurrency]:
                status, answer = await call(app, scope, body)
                if status != 202:
                    bad += 1
                    if bad < 3:
                        print(f"  {path}: {status} {answer[:200]!r}", file=sys.stderr)

        async def all_of_them() -> None:
            await asyncio.gather(*(worker(c) for c in range(args.concurrency)))

        db_before = tree_cpu_seconds(database) if database else 0.0
        gc_before = list(gc_time), list(gc_count)
        own_before = time.process_time()
        if profiler is not None:
            profiler.enable()
        loop.run_until_complete(all_of_them())
        if profiler is not None:
            profiler.disable()
        own = time.process_time() - own_before
        used_db = (tree_cpu_seconds(database) - db_before) if database else 0.0
        gc_us = [(gc_time[g] - gc_before[0][g]) / count * 1e6 for g in range(3)]
        gc_n = [gc_count[g] - gc_before[1][g] for g in range(3)]
        return {
            "web_us": own / count * 1e6,
            "database_us": used_db / count * 1e6,
            "failed": bad,
            "gc_us": sum(gc_us),
            "gc_by_generation": (gc_us, gc_n),
        }

    for path in phases.values():  # warm: connections, prepared statements, caches
        run(path, 500)
    figures: dict[str, list[dict[str, float]]] = {name: [] for name in phases}
    for r in range(args.rounds):
        for name, path in phases.items():
            figures[name].append(run(path, args.requests))
        line = ", ".join(f"{n} {f[-1]['web_us']:.0f} us (gc {f[-1]['gc_us']:.0f})" for n, f in figures.items())
        print(f"  round {r + 1}: {line}", file=sys.stderr)
    result: dict[str, Any] = {"requests": args.requests, "rounds": args.rounds, "concurrency": args.concurrency}
    for name in phases:
        result[name] = {
            "web_us": round(statistics.median(f["web_us"] for f in figures[name])),
            "web_us_rounds": [round(f["web_us"]) for f in figures[name]],
            "database_us": round(statistics.median(f["database_us"] for f in figures[name])),
            "failed": sum(int(f["failed"]) for f in figures[name]),
        }
    if "bare" in result and "http_only" in result:
        result["bare_minus_http_only_us"] = result["bare"]["web_us"] - result["http_only"]["web_us"]
    if args.profile:
        profiler = cProfile.Profile(time.process_time)
        run(intake.BARE_PATH, args.requests, profiler)
        profiler.dump_stats(args.profile)
        stats = pstats.Stats(args.profile, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(45)
        stats.sort_stats("cumulative").print_stats(70)
    lifespan.cancel()
    loop.run_until_complete(asyncio.gather(lifespan, return_exceptions=True))
    loop.close()
    db.dispose()
    drop_database(url)
    result["load_average"] = os.getloadavg()[0]
    print(json.dumps(result))


if __name__ == "__main__":
    main()
