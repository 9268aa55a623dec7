"""Registration intake benchmark (issue 4).

    python benchmarks/intake.py [--seconds S] [--bulk-rows N]

1. HTTP identity submissions (``POST /api/v1/registration/identity``: validated, personal fields encrypted,
   persisted, the civil-registry job enqueued in the same transaction), each from a different signed-in account,
   sustained for ``--seconds`` against uvicorn worker processes, with the load generated on the same machine by
   several processes (a small keep-alive HTTP/1.1 client on asyncio);
2. in the same run, references on the same server stack (``bench_app``): an endpoint that parses the same JSON and
   inserts one row with one durable commit, the same through a ``Session``, the web stack with no database, a bare
   ``FastAPI()`` with the same route (the libraries alone), and uvicorn alone; and the intake again with
   procrastinate's NOTIFY trigger back (diagnostic: what PostgreSQL's one-at-a-time commit of notifying transactions
   cost before ADR 0019). Each phase's table row splits CPU per request into the web processes and PostgreSQL, user
   and system time, with their sleeps (context switches) per request, and a second table splits the bare endpoint's
   and the submission's CPU by layer (uvicorn and the kernel, the libraries, our web code, the database path);
3. bulk import of ``--bulk-rows`` offline applicant records (validated, encrypted, COPY + one INSERT ... SELECT,
   the CPU work spread over processes) against raw COPY of the same rows as plain text.

It uses a scratch database of its own (embedded PostgreSQL under ``.prakerja-bench`` unless
``PRAKERJA_BENCH_DATABASE_URL`` names a server). The last line printed is one JSON object.
"""

import argparse
import asyncio
import contextlib
import datetime
import hashlib
import json
import multiprocessing as mp
import os
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from cpu import machine_busy_seconds, postmaster_pid, tree_cpu_seconds  # benchmarks/cpu.py

ROOT = Path(__file__).resolve().parents[1]
INTAKE_PATH = "/api/v1/registration/identity"
BARE_PATH = "/api/v1/bench/bare"
BARE_SESSION_PATH = "/api/v1/bench/bare-session"
BARE_SQL = "INSERT INTO bench_bare (body) VALUES (CAST($1 AS jsonb))"
HTTP_ONLY_PATH = "/api/v1/bench/http-only"
SIGNED_IN_PATH = "/api/v1/bench/signed-in"
INTAKE_READ_PATH = "/api/v1/bench/intake-read"
FASTAPI_ONLY_PATH = "/bench/fastapi-only"
ASGI_ONLY_PATH = "/bench/asgi-only"
REGENCY = "3201"  # Kabupaten Bogor; district 320101 (Cibinong)


# --- synthetic, deterministic identities ------------------------------------------------------------------------


def identity(i: int) -> dict[str, str]:
    """A well-formed identity number ``i`` (unique NIK for i < 134 million)."""
    combo, serial = divmod(i, 9999)
    day = combo % 28 + 1
    month = (combo // 28) % 12 + 1
    year = 1960 + (combo // 336) % 40
    female = i % 2 == 1
    nik = f"{REGENCY}01{day + (40 if female else 0):02d}{month:02d}{year % 100:02d}{serial + 1:04d}"
    return {
        "nik": nik,
        "kk": f"{REGENCY}01{i + 1:010d}",
        "birth_date": f"{year:04d}-{month:02d}-{day:02d}",
        "sex": "F" if female else "M",
        "full_name": ("Siti Rahmawati" if female else "Budi Santoso") + f" {chr(65 + i % 26)}",
        "mother_maiden_name": "Aminah",
    }


def token(i: int) -> str:
    return f"bench-session-{i:09d}"


# --- the server ---------------------------------------------------------------------------------------------------


def bench_app():  # type: ignore[no-untyped-def]
    """The product app plus the reference routes, served by the same uvicorn worker processes.

    - bare: parses the same JSON with the same Pydantic model and inserts one row, one durable commit, on the
      product's path for a one-statement unit of work (a loop connection, ``db.on_loop``; same middleware): the
      issue's reference;
    - bare-session: the same insert through the request's ``DbSession`` (a SQLAlchemy session committed in a worker
      thread): what every route with a ``Session`` pays for the same work;
    - http-only: the same FastAPI app, middleware and Pydantic model, no database at all: what the web stack costs;
    - fastapi-only: a bare ``FastAPI()`` (its own default middleware, no middleware, dependency, error handler or
      other route of ours) with the same route and Pydantic model: what the libraries cost by themselves, so that
      http-only minus fastapi-only is our code's share of the web stack;
    - asgi-only: in front of FastAPI, a plain ASGI callable that reads the body and parses it with ``json.loads``:
      what uvicorn and the load generator on these cores can do at all.
    """
    from fastapi import Depends, Request
    from sqlalchemy import text

    from prakerja import db
    from prakerja.app import create_app
    from prakerja.auth.models import Role
    from prakerja.auth.service import CurrentAccount
    from prakerja.registration import repository
    from prakerja.registration.schemas import IdentityStatusOut, IdentitySubmissionCreate
    from prakerja.registration.service import identity as service
    from prakerja.web.deps import DbSession, client_ip, device_id, require_role

    app = create_app()
    read_sql, read_sql_named = _read_of_submission_parameters()

    @app.post(BARE_PATH, status_code=202, include_in_schema=False)
    async def bare(body: IdentitySubmissionCreate) -> dict[str, str]:
        async with db.on_loop() as conn:  # the product's request path for a one-statement unit of work (ADR 0014)
            if not hasattr(conn, "fetchval"):  # psycopg: a tree from before ADR 0028, compared in the same minutes
                await conn.execute(BARE_SQL.replace("$1", "%s"), (body.model_dump_json(),), prepare=True)
            else:
                await conn.execute(BARE_SQL, body.model_dump_json())
        return {"status": "ok"}

    @app.post(BARE_SESSION_PATH, status_code=202, include_in_schema=False)
    def bare_session(body: IdentitySubmissionCreate, session: DbSession) -> dict[str, str]:
        session.execute(text("INSERT INTO bench_bare (body) VALUES (CAST(:b AS jsonb))"), {"b": body.model_dump_json()})
        return {"status": "ok"}

    @app.post(HTTP_ONLY_PATH, status_code=202, include_in_schema=False)
    async def http_only(body: IdentitySubmissionCreate) -> dict[str, str]:
        return {"status": "ok"}

    @app.post(SIGNED_IN_PATH, status_code=202, include_in_schema=False)
    async def signed_in(
        body: IdentitySubmissionCreate, account: CurrentAccount = Depends(require_role(Role.applicant))
    ) -> dict[str, str]:
        return {"status": "ok"}

    @app.post(INTAKE_READ_PATH, status_code=202, response_model=IdentityStatusOut, include_in_schema=False)
    async def intake_read(
        body: IdentitySubmissionCreate,
        request: Request,
        account: CurrentAccount = Depends(require_role(Role.applicant)),
    ) -> IdentityStatusOut:
        """The intake route's every step (the same dependency, conversions, validation, encryption and parameters)
        with its statement replaced by a read of the same parameters: what the write itself adds is the difference."""
        submission = service.IdentitySubmission(**body.model_dump())
        prepared = service._prepare(account.id, submission, client_ip(request), device_id(request))
        applicant_id, arguments = prepared.insert_arguments()
        params = repository._submitted_params(**arguments)
        async with db.on_loop() as conn:
            if hasattr(conn, "fetchval"):
                await conn.fetchrow(read_sql, *params.values())
            else:  # psycopg: a tree from before ADR 0028
                await (await conn.execute(read_sql_named, params, prepare=True)).fetchone()
        return IdentityStatusOut(applicant_id=applicant_id, identity_status="pending")

    _next_to_intake(app, [BARE_PATH, BARE_SESSION_PATH, HTTP_ONLY_PATH, SIGNED_IN_PATH, INTAKE_READ_PATH])

    from fastapi import FastAPI

    library_only = FastAPI(
        openapi_url=None, docs_url=None, redoc_url=None, telemetry={"tracing": False, "metrics": False, "logs": False}
    )

    @library_only.post(FASTAPI_ONLY_PATH, status_code=202)
    async def fastapi_only(body: IdentitySubmissionCreate) -> dict[str, str]:
        return {"status": "ok"}

    async def asgi(scope, receive, send):  # type: ignore[no-untyped-def]
        if scope["type"] != "http" or scope["path"] != ASGI_ONLY_PATH:
            await (library_only if scope.get("path") == FASTAPI_ONLY_PATH else app)(scope, receive, send)
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        json.loads(b"".join(chunks))
        payload = b'{"status":"ok"}'
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": 202, "headers": headers})
        await send({"type": "http.response.body", "body": payload})

    return asgi


def _read_of_submission_parameters() -> tuple[str, str]:
    """A SELECT of the intake statement's parameters, each cast to its column's type (so that asyncpg sends each in
    the same binary form as for the INSERT), in asyncpg's and psycopg's parameter styles."""
    from prakerja.registration import repository
    from prakerja.registration.service import identity as service

    prepared = service._prepare(uuid.uuid4(), service.IdentitySubmission(**identity(1)), "127.0.0.1", "dev")
    params = repository._submitted_params(**prepared.insert_arguments()[1])
    kinds = {uuid.UUID: "uuid", bytes: "bytea", str: "text", datetime.datetime: "timestamptz", type(None): "bytea"}
    casts = [kinds[type(value)] for value in params.values()]
    positional = "SELECT " + ", ".join(f"${n}::{cast}" for n, cast in enumerate(casts, 1))
    named = "SELECT " + ", ".join(f"%({name})s::{cast}" for name, cast in zip(params, casts, strict=True))
    return positional, named


def _next_to_intake(app, paths: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Move the reference routes right after the router holding the intake route, so that routing (a linear scan
    in FastAPI) costs the references what it costs the intake route."""
    from starlette.routing import Match

    routes = app.router.routes
    moved = [r for r in routes if getattr(r, "path", None) in paths]
    for route in moved:
        routes.remove(route)
    scope = {"type": "http", "method": "POST", "path": INTAKE_PATH, "root_path": "", "headers": [], "query_string": b""}
    position = next(i for i, r in enumerate(routes) if r.matches(dict(scope))[0] == Match.FULL)
    routes[position + 1 : position + 1] = moved


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    # as `prakerja serve` runs uvicorn: uvloop and httptools (its "auto" choices when installed), no access log, and
    # no proxy-headers middleware (the app reads X-Forwarded-For itself, from trusted proxies only)
    command = [
        sys.executable, "-m", "uvicorn", "--factory", "intake:bench_app", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
        "--loop", "uvloop", "--http", "httptools", "--no-proxy-headers",
    ]  # fmt: skip
    server_env = {**env, "PYTHONPATH": str(ROOT / "benchmarks") + os.pathsep + env.get("PYTHONPATH", "")}
    process = subprocess.Popen(command, env=server_env, cwd=str(ROOT))
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as conn:
                conn.sendall(b"GET /healthz HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
                if b"200 OK" in conn.recv(4096):
                    return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


# --- CPU split: user (our Python, PostgreSQL's executor) and system (the kernel: sockets, wake-ups, WAL writes) ---


def tree_switches(root: int) -> int:
    """Voluntary context switches so far of a process's live tree, all threads: each is a sleep and a wake-up (a
    thread waiting for a socket, a lock or a futex), and on this VM a wake-up costs 20-50 us of CPU by itself."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                raw = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(raw[raw.rindex(")") + 2 :].split()[1])
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    total = 0
    for pid in tree:
        try:
            tasks = list(Path(f"/proc/{pid}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                for line in (task / "status").read_text().splitlines():
                    if line.startswith("voluntary_ctxt_switches:"):
                        total += int(line.split()[1])
            except OSError:
                continue
    return total


def tree_cpu_split(root: int) -> tuple[float, float]:
    """(user, system) CPU seconds of a process, its live descendants and its exited children (Linux /proc), as
    ``cpu.tree_cpu_seconds`` counts them together."""
    tick = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float, float, float, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        f = raw[raw.rindex(")") + 2 :].split()
        stats[int(entry.name)] = (int(f[1]), int(f[11]) / tick, int(f[12]) / tick, int(f[13]) / tick, int(f[14]) / tick)
    if root not in stats:
        return 0.0, 0.0
    children: dict[int, list[int]] = {}
    for pid, (parent, *_) in stats.items():
        children.setdefault(parent, []).append(pid)
    user, system = stats[root][3], stats[root][4]
    todo = [root]
    while todo:
        pid = todo.pop()
        user += stats[pid][1]
        system += stats[pid][2]
        todo.extend(children.get(pid, []))
    return user, system


# --- the load generator -------------------------------------------------------------------------------------------


def _request(path: str, i: int, with_session: bool) -> bytes:
    body = json.dumps(identity(i)).encode()
    # A browser sends the CSRF and device cookies set at sign-up (so no request here gets new ones).
    cookie = f"prakerja_csrf=bench; prakerja_device=bench-device-{i:023d}"
    if with_session:
        cookie += f"; prakerja_session={token(i)}"
    head = (
        f"POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nCookie: {cookie}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _connection(port: int, path: str, ids: range, step: int, offset: int, until: float, out: dict) -> None:  # type: ignore[type-arg]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    latencies: list[float] = out["latencies"]
    i = ids.start + offset
    try:
        while time.perf_counter() < until and i < ids.stop:
            request = _request(path, i, path in (INTAKE_PATH, SIGNED_IN_PATH, INTAKE_READ_PATH))
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            latencies.append((time.perf_counter() - started) * 1000)
            status = int(head[9:12])
            out["ok" if 200 <= status < 300 else "bad"] += 1
            if out["bad"] and "first_bad" not in out and not 200 <= status < 300:
                out["first_bad"] = head[:200].decode(errors="replace")
            i += step
    finally:
        writer.close()


def _load_process(port: int, path: str, start: int, stop: int, connections: int, seconds: float, queue) -> None:  # type: ignore[no-untyped-def]
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    out = {"latencies": [], "ok": 0, "bad": 0}
    until = time.perf_counter() + seconds

    async def main() -> None:
        ids = range(start, stop)
        await asyncio.gather(*(_connection(port, path, ids, connections, c, until, out) for c in range(connections)))

    asyncio.run(main())
    queue.put(out)


def run_load(
    port: int,
    path: str,
    first_id: int,
    ids_per_process: int,
    processes: int,
    connections: int,
    seconds: float,
    watch: dict[str, int] | None = None,
) -> dict:  # type: ignore[type-arg]
    """Drive ``path`` for ``seconds``; with ``watch`` ({name: root pid}), also the CPU each of those process trees,
    the load generator and the rest of the machine (other users) spent, per request."""
    import resource

    watch = watch or {}
    split_before = {name: tree_cpu_split(pid) for name, pid in watch.items()}
    switches_before = {name: tree_switches(pid) for name, pid in watch.items()}
    cpu_before = {name: tree_cpu_seconds(pid) for name, pid in watch.items()}
    load_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine_before = machine_busy_seconds()
    queue: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    procs = [
        mp.Process(
            target=_load_process,
            args=(
                port,
                path,
                first_id + p * ids_per_process,
                first_id + (p + 1) * ids_per_process,
                connections,
                seconds,
                queue,
            ),
        )
        for p in range(processes)
    ]
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    results = [queue.get() for _ in procs]
    elapsed = time.perf_counter() - started
    for proc in procs:
        proc.join()
    machine_after = machine_busy_seconds()
    load_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = {name: tree_cpu_seconds(pid) - cpu_before[name] for name, pid in watch.items()}
    cpu["load_generator"] = (load_after.ru_utime + load_after.ru_stime) - (load_before.ru_utime + load_before.ru_stime)
    machine_busy = machine_after[0] - machine_before[0]
    if watch:
        cpu["others"] = max(0.0, machine_busy - sum(cpu.values()))
    switches = {name: tree_switches(pid) - switches_before[name] for name, pid in watch.items()}
    for name, pid in watch.items():
        user, system = tree_cpu_split(pid)
        cpu[f"{name}_user"] = user - split_before[name][0]
        cpu[f"{name}_sys"] = system - split_before[name][1]
    machine_cores = (machine_after[1] - machine_before[1]) / elapsed
    latencies = sorted(x for r in results for x in r["latencies"])
    ok = sum(r["ok"] for r in results)
    bad = sum(r["bad"] for r in results)
    first_bad = next((r["first_bad"] for r in results if "first_bad" in r), None)

    def p(q):
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] if latencies else float("nan")

    return {
        "ok": ok,
        "bad": bad,
        "first_bad": first_bad,
        "per_s": ok / elapsed,
        "p50_ms": p(0.50),
        "p99_ms": p(0.99),
        "mean_ms": statistics.fmean(latencies) if latencies else float("nan"),
        "seconds": elapsed,
        "cpu_us_per_request": {name: round(v / ok * 1e6) if ok else None for name, v in cpu.items()},
        "sleeps_per_request": {name: round(v / ok, 1) if ok else None for name, v in switches.items()},
        "machine_busy_cores": round(machine_busy / elapsed, 2),
        "others_busy_cores": round(cpu["others"] / elapsed, 2) if "others" in cpu else None,
        "cores": round(machine_cores, 2),
    }


def print_phases(phases: dict[str, dict]) -> None:  # type: ignore[type-arg]
    """Per phase: rate, latency and CPU per request of the web processes and the PostgreSQL server, each split
    into user (Python; PostgreSQL's parser, executor, WAL insertion) and system time (the kernel: sockets,
    wake-ups, the WAL's write and fsync), and the voluntary sleeps (context switches) per request of each."""
    print(
        f"{'phase':<14}{'req/s':>8}{'p50 ms':>8}{'p99 ms':>8}{'web us':>8}{'(user':>7}{'sys)':>6}"
        f"{'pg us':>7}{'(user':>7}{'sys)':>6}{'load us':>9}{'others':>8}{'web sleeps':>11}{'pg sleeps':>10}"
    )
    for name, r in phases.items():
        c = r["cpu_us_per_request"]
        print(
            f"{name:<14}{r['per_s']:>8.0f}{r['p50_ms']:>8.1f}{r['p99_ms']:>8.1f}{c.get('server') or 0:>8}"
            f"{c.get('server_user') or 0:>7}{c.get('server_sys') or 0:>6}{c.get('database') or 0:>7}"
            f"{c.get('database_user') or 0:>7}{c.get('database_sys') or 0:>6}{c.get('load_generator') or 0:>9}"
            f"{r['others_busy_cores'] or 0:>8}{r['sleeps_per_request'].get('server') or 0:>11}"
            f"{r['sleeps_per_request'].get('database') or 0:>10}"
        )


def submission_python_us(count: int = 3000) -> dict[str, int]:
    """CPU per submission of our own Python between the parsed body and the statement, measured directly in this
    process (no HTTP, no database): validation, normalisation, the blind indexes, the five AES-GCM encryptions and
    the statement's parameters (``identity._prepare``, ``insert_arguments``, ``repository._submitted_params``)."""
    import resource

    from prakerja.registration import repository
    from prakerja.registration.service import identity as service

    submissions = [service.IdentitySubmission(**identity(i)) for i in range(count)]
    account = uuid.uuid4()

    def once() -> None:
        for submission in submissions:
            prepared = service._prepare(account, submission, "127.0.0.1", "bench-device-00000000000000000000001")
            _, arguments = prepared.insert_arguments()
            repository._submitted_params(**arguments)

    once()  # warm
    before = resource.getrusage(resource.RUSAGE_SELF)
    once()
    after = resource.getrusage(resource.RUSAGE_SELF)
    user, system = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
    return {"total": round((user + system) / count * 1e6), "user": round(user / count * 1e6),
            "sys": round(system / count * 1e6)}  # fmt: skip


def layers(phases: dict[str, dict], python_us: dict[str, int]) -> dict[str, dict[str, int]]:  # type: ignore[type-arg]
    """Web-process CPU per request of the bare endpoint and the submission, by layer, from the phases of one run by
    subtraction (each phase adds one layer to the one before), user and system time apart; PostgreSQL's own. The
    submission over the signed-in reference is our submission Python (measured directly, ``python_us``) and the
    rest, the statement's round trip (driver, event loop, kernel)."""

    def cpu(name: str, part: str = "server") -> dict[str, int]:
        c = phases[name]["cpu_us_per_request"]
        return {k: c.get(f"{part}{k}") or 0 for k in ("", "_user", "_sys")}

    def minus(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
        return {k: a[k] - b[k] for k in a}

    def named(d: dict[str, int]) -> dict[str, int]:
        return {"total": d[""], "user": d["_user"], "sys": d["_sys"]}

    return {
        "uvicorn_and_kernel (asgi_only)": named(cpu("asgi_only")),
        "fastapi_starlette_pydantic (fastapi_only - asgi_only)": named(minus(cpu("fastapi_only"), cpu("asgi_only"))),
        "ours_web_stack (http_only - fastapi_only)": named(minus(cpu("http_only"), cpu("fastapi_only"))),
        "database_path_in_web (bare - http_only)": named(minus(cpu("bare"), cpu("http_only"))),
        "postgresql_bare": named(cpu("bare", "database")),
        "submission_over_bare_in_web (intake - bare)": named(minus(cpu("intake"), cpu("bare"))),
        "sign_in_round_trip_in_web (signed_in - http_only)": named(minus(cpu("signed_in"), cpu("http_only"))),
        "submission_python (measured in-process)": python_us,
        "submission_round_trip_in_web (intake - signed_in - python)": {
            k: v - python_us[k] for k, v in named(minus(cpu("intake"), cpu("signed_in"))).items()
        },
        "route_glue_and_a_read_in_web (intake_read - signed_in - python)": {
            k: v - python_us[k] for k, v in named(minus(cpu("intake_read"), cpu("signed_in"))).items()
        },
        "the_write_over_a_read_in_web (intake - intake_read)": named(minus(cpu("intake"), cpu("intake_read"))),
        "postgresql_signed_in": named(cpu("signed_in", "database")),
        "postgresql_intake_read": named(cpu("intake_read", "database")),
        "postgresql_submission": named(cpu("intake", "database")),
    }


def print_layers(by_layer: dict[str, dict[str, int]]) -> None:
    print(f"{'layer (web-process CPU per request unless PostgreSQL)':<56}{'us':>7}{'user':>7}{'sys':>7}")
    for name, c in by_layer.items():
        print(f"{name:<56}{c['total']:>7}{c['user']:>7}{c['sys']:>7}")


@contextlib.contextmanager
def notifying_job_inserts(url: str) -> Iterator[None]:
    """Diagnostic only, on the scratch database: procrastinate's trigger that ``pg_notify``s workers of each new job,
    dropped by migration ``0030_ipath`` (ADR 0019), is back for the phase. PostgreSQL lets only one notifying
    transaction commit at a time (a database-wide lock held through the commit's WAL flush), so with the trigger
    submissions commit one after another, each waiting for its own flush; the difference between the two intake
    phases is what that serialisation cost (docs/benchmarks.md)."""
    import psycopg

    from prakerja.jobs import libpq_conninfo

    with psycopg.connect(libpq_conninfo(url), autocommit=True) as conn:
        conn.execute(
            "CREATE TRIGGER procrastinate_jobs_notify_queue_job_inserted_v1 AFTER INSERT ON procrastinate_jobs "
            "FOR EACH ROW WHEN ((new.status = 'todo'::procrastinate_job_status)) "
            "EXECUTE PROCEDURE procrastinate_notify_queue_job_inserted_v1()"
        )
        try:
            yield
        finally:
            conn.execute("DROP TRIGGER procrastinate_jobs_notify_queue_job_inserted_v1 ON procrastinate_jobs")


# --- database set-up ----------------------------------------------------------------------------------------------


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
        conn.execute(text("DROP DATABASE IF EXISTS prakerja_bench WITH (FORCE)"))
        conn.execute(text("CREATE DATABASE prakerja_bench"))
    admin.dispose()
    return make_url(admin_url).set(database="prakerja_bench").render_as_string(hide_password=False)


def seed_accounts(url: str, count: int) -> None:
    """Applicant accounts with open sessions, written with COPY (the benchmark measures intake, not sign-up)."""
    import psycopg

    from prakerja.jobs import libpq_conninfo
    from prakerja.kit.ids import new_id
    from prakerja.kit.pii import blind_index, encrypt

    now = datetime.datetime.now(datetime.UTC)
    expires = now + datetime.timedelta(days=1)
    with psycopg.connect(libpq_conninfo(url)) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE bench_bare (id bigserial PRIMARY KEY, body jsonb NOT NULL)")
        cur.execute(
            "CREATE TABLE bench_raw (nik text, kk text, birth_date text, sex text, full_name text, mother text, "
            "district text)"
        )
        ids = [new_id() for _ in range(count)]
        with cur.copy(
            "COPY auth_accounts (id, email, email_index, password_hash, role, display_name, is_active, created_at) "
            "FROM STDIN"
        ) as copy:
            for i, account_id in enumerate(ids):
                email = f"bench{i}@example.org"
                copy.write_row(
                    (account_id, encrypt(email, "auth_accounts.email"), blind_index(email, "email"), "!", "applicant",
                     encrypt("Peserta", "auth_accounts.display_name"), True, now)
                )  # fmt: skip
        with cur.copy("COPY auth_sessions (token_hash, account_id, expires_at, created_at) FROM STDIN") as copy:
            for i, account_id in enumerate(ids):
                copy.write_row((hashlib.sha256(token(i).encode()).digest(), account_id, expires, now))
        conn.commit()


# --- bulk import --------------------------------------------------------------------------------------------------


def _offline_row(i: int) -> list[str]:
    p = identity(i)
    return [p["nik"], p["kk"], p["birth_date"], p["sex"], p["full_name"], p["mother_maiden_name"], "320101"]


def _offline_rows(first: int, count: int) -> Iterator[list[str]]:
    return (_offline_row(i) for i in range(first, first + count))


def run_bulk(url: str, rows: int, first_id: int, processes: int) -> dict:  # type: ignore[type-arg]
    """The bulk phase. CPU is split by who spends it: ``main`` (this process: making the rows, as reading the CSV
    would, handing them to the pool, feeding COPY), ``workers`` (the preparing processes: validation, encryption,
    blind indexes, COPY rows), ``database`` (the PostgreSQL server: COPY into the stage and the INSERT), each into
    ``_user`` (our code or PostgreSQL's) and ``_sys`` (the kernel: pipes, sockets, page faults, writes)."""
    import resource

    import psycopg

    from prakerja import db
    from prakerja.jobs import libpq_conninfo
    from prakerja.registration.service import bulk

    database_pid = postmaster_pid(url)

    def used() -> dict[str, float]:
        mine, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        user, system = tree_cpu_split(database_pid) if database_pid else (0.0, 0.0)
        return {
            "main_user": mine.ru_utime,
            "main_sys": mine.ru_stime,
            "workers_user": children.ru_utime,
            "workers_sys": children.ru_stime,
            "database_user": user,
            "database_sys": system,
        }

    def spent(before: dict[str, float]) -> dict[str, float]:
        after = used()
        cpu = {key: after[key] - before[key] for key in before}
        for who in ("main", "workers", "database"):
            cpu[who] = cpu[f"{who}_user"] + cpu[f"{who}_sys"]
        cpu["client"] = cpu["main"] + cpu["workers"]
        return cpu

    import csv
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".csv", newline="", delete=False) as out:  # not timed
        out.write(",".join(bulk.COLUMNS) + "\n")
        for i in range(first_id, first_id + rows):
            out.write(",".join(_offline_row(i)) + "\n")
    path = Path(out.name)
    before = used()
    started = time.perf_counter()
    # what `prakerja registration import-offline` does: the file read, preparing processes forked first, one
    # transaction (with a `main` checkout that has no `import_csv`: its CLI's way, csv.reader here, rows handed over)
    with path.open(encoding="utf-8-sig", newline="") as handle:
        header = next(csv.reader(handle))
        order = [header.index(c) for c in bulk.COLUMNS]
        with bulk.preparers(processes) as pool, db.unit_of_work() as session:
            if hasattr(bulk, "import_csv"):
                result = bulk.import_csv(session, handle, order, pool=pool)
            else:
                result = bulk.import_rows(session, ([r[j] for j in order] for r in csv.reader(handle)), pool=pool)
    ours = time.perf_counter() - started
    bulk_cpu = spent(before)
    path.unlink()
    assert result.rows_inserted == rows, result

    text_rows = "".join("\t".join(_offline_row(i)) + "\n" for i in range(first_id, first_id + rows)).encode()
    with psycopg.connect(libpq_conninfo(url)) as conn, conn.cursor() as cur:
        before = used()
        started = time.perf_counter()
        with cur.copy("COPY bench_raw FROM STDIN") as copy:
            for start in range(0, len(text_rows), 1 << 20):
                copy.write(text_rows[start : start + (1 << 20)])
        conn.commit()
        raw = time.perf_counter() - started
        raw_cpu = spent(before)

    def per_row(cpu: dict[str, float]) -> dict[str, float]:
        return {
            **{k: round(v / rows * 1e6, 2) for k, v in cpu.items()},
            "total": round((cpu["client"] + cpu["database"]) / rows * 1e6, 2),
        }

    return {
        "bulk_rows_per_s": rows / ours,
        "bulk_seconds": ours,
        "raw_rows_per_s": rows / raw,
        "raw_seconds": raw,
        "bulk_cpu_us_per_row": per_row(bulk_cpu),
        "raw_cpu_us_per_row": per_row(raw_cpu),
        "bulk_busy_cores": round((bulk_cpu["client"] + bulk_cpu["database"]) / ours, 2),
    }


# --- main ---------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="sustained intake load (default 60)")
    parser.add_argument("--bulk-rows", type=int, default=1_000_000, help="offline records to import (default 1e6)")
    parser.add_argument("--server-workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument("--load-processes", type=int, default=2, help="load generator processes (default 2)")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections per load process")
    parser.add_argument("--bare-seconds", type=float, default=None, help="each reference's load (default S/3, >= 10)")
    parser.add_argument("--bulk-only", action="store_true", help="only the bulk import and its raw COPY reference")
    args = parser.parse_args()

    os.environ.setdefault("PRAKERJA_HOME", str(ROOT / ".prakerja-bench"))  # its own keys and database
    url = scratch_database()
    env = {**os.environ, "PRAKERJA_DATABASE_URL": url, "PRAKERJA_LOG_LEVEL": "WARNING", "PRAKERJA_POOL_SIZE": "20"}
    os.environ.update(env)
    from prakerja import db, migrate
    from prakerja.config import reset_settings

    reset_settings()
    db.dispose()
    migrate.upgrade(url=url)
    if args.bulk_only:
        import psycopg

        from prakerja.jobs import libpq_conninfo

        with psycopg.connect(libpq_conninfo(url)) as conn:
            conn.execute(
                "CREATE TABLE bench_raw (nik text, kk text, birth_date text, sex text, full_name text, mother text, "
                "district text)"
            )
        print(f"bulk import of {args.bulk_rows} rows ...", file=sys.stderr)
        only = run_bulk(url, args.bulk_rows, 50_000_000, processes=max(2, os.cpu_count() or 2))
        db.dispose()
        print(
            json.dumps(
                {
                    "benchmark": "intake_bulk",
                    "bulk_rows": args.bulk_rows,
                    **{k: round(v, 3) if isinstance(v, float) else v for k, v in only.items()},
                    "bulk_fraction_of_raw": round(only["bulk_rows_per_s"] / only["raw_rows_per_s"], 4),
                    "bulk_cpu_vs_raw_copy": round(
                        only["bulk_cpu_us_per_row"]["total"] / only["raw_cpu_us_per_row"]["total"], 1
                    ),
                    "load_average": os.getloadavg()[0],
                }
            )
        )
        return
    per_process = int(args.seconds * 1500) + 20_000
    bare_seconds = args.bare_seconds or max(10.0, args.seconds / 3)
    quiet_first = per_process * args.load_processes  # accounts of the notifying phase
    quiet_per_process = int(bare_seconds * 1500) + 5_000
    accounts = quiet_first + quiet_per_process * args.load_processes + 10_000
    print(f"seeding {accounts} accounts ...", file=sys.stderr)
    seed_accounts(url, accounts)

    port = free_port()
    server = start_server(env, port, args.server_workers)
    watch = {"server": server.pid}
    database_pid = postmaster_pid(url)
    if database_pid is not None:
        watch["database"] = database_pid
    try:
        print("warming up ...", file=sys.stderr)
        run_load(port, INTAKE_PATH, accounts - 10_000, 5_000, 1, 8, 3)
        references = (BARE_PATH, BARE_SESSION_PATH, HTTP_ONLY_PATH, SIGNED_IN_PATH, INTAKE_READ_PATH, FASTAPI_ONLY_PATH,
                      ASGI_ONLY_PATH)  # fmt: skip
        for path in references:
            run_load(port, path, 0, 5_000, 1, 8, 2)
        load = {"processes": args.load_processes, "connections": args.connections, "watch": watch}
        print(f"intake for {args.seconds:.0f} s ...", file=sys.stderr)
        intake = run_load(port, INTAKE_PATH, 0, per_process, seconds=args.seconds, **load)  # type: ignore[arg-type]
        print(
            f"intake with a NOTIFY per job (diagnostic, as before ADR 0019) for {bare_seconds:.0f} s ...",
            file=sys.stderr,
        )
        with notifying_job_inserts(url):
            intake_notify = run_load(port, INTAKE_PATH, quiet_first, quiet_per_process, seconds=bare_seconds, **load)  # type: ignore[arg-type]
        print(f"bare reference for {bare_seconds:.0f} s ...", file=sys.stderr)
        bare = run_load(port, BARE_PATH, 0, 10**9, seconds=bare_seconds, **load)  # type: ignore[arg-type]
        print(f"bare reference through a Session for {bare_seconds:.0f} s ...", file=sys.stderr)
        bare_session = run_load(port, BARE_SESSION_PATH, 0, 10**9, seconds=bare_seconds, **load)  # type: ignore[arg-type]
        print(f"HTTP-only references for {bare_seconds:.0f} s each ...", file=sys.stderr)
        http_only = run_load(port, HTTP_ONLY_PATH, 0, 10**9, seconds=bare_seconds, **load)  # type: ignore[arg-type]
        print(f"signed-in reference (the sign-in statement alone) for {bare_seconds:.0f} s ...", file=sys.stderr)
        signed_in = run_load(port, SIGNED_IN_PATH, 0, per_process, seconds=bare_seconds, **load)  # type: ignore[arg-type]
        print(f"intake-read reference (the intake's steps, its statement a read) for {bare_seconds:.0f} s ...",
              file=sys.stderr)  # fmt: skip
        intake_read = run_load(port, INTAKE_READ_PATH, 0, per_process, seconds=bare_seconds, **load)  # type: ignore[arg-type]
        fastapi_only = run_load(port, FASTAPI_ONLY_PATH, 0, 10**9, seconds=bare_seconds, **load)  # type: ignore[arg-type]
        asgi_only = run_load(port, ASGI_ONLY_PATH, 0, 10**9, seconds=bare_seconds, **load)  # type: ignore[arg-type]
    finally:
        server.terminate()
        server.wait(timeout=30)
    phases = {"intake": intake, "intake_notify": intake_notify, "bare": bare, "bare_session": bare_session,
              "http_only": http_only, "signed_in": signed_in, "intake_read": intake_read, "fastapi_only": fastapi_only,
              "asgi_only": asgi_only}  # fmt: skip
    for name, r in phases.items():
        if r["bad"]:
            print(f"refused requests ({name}): {r['bad']}: {r['first_bad']}", file=sys.stderr)
    python_us = submission_python_us()
    print_phases(phases)
    by_layer = layers(phases, python_us)
    print_layers(by_layer)

    bulk_result: dict = {}  # type: ignore[type-arg]
    if args.bulk_rows:
        print(f"bulk import of {args.bulk_rows} rows ...", file=sys.stderr)
        bulk_result = run_bulk(url, args.bulk_rows, 50_000_000, processes=max(2, os.cpu_count() or 2))
    db.dispose()

    def total(cpu: dict[str, int | None], *names: str) -> int:
        return sum(cpu.get(name) or 0 for name in names)

    submission_cpu = total(intake["cpu_us_per_request"], "server", "database")
    summary = {
        "cpu_us_per_op": {
            "server": intake["cpu_us_per_request"].get("server"),
            "database": intake["cpu_us_per_request"].get("database"),
            "total": submission_cpu,
        },
        "bare_server_cpu_vs_http_only": round(
            total(bare["cpu_us_per_request"], "server") / max(1, total(http_only["cpu_us_per_request"], "server")), 2
        ),
        "submission_cpu_vs_bare": round(
            submission_cpu / max(1, total(bare["cpu_us_per_request"], "server", "database")), 2
        ),
        "submissions_per_s": round(intake["per_s"], 1),
        "p50_ms": round(intake["p50_ms"], 1),
        "p99_ms": round(intake["p99_ms"], 1),
        "submissions": intake["ok"],
        "refused": intake["bad"],
        "bare_per_s": round(bare["per_s"], 1),
        "bare_p99_ms": round(bare["p99_ms"], 1),
        "fraction_of_bare": round(intake["per_s"] / bare["per_s"], 3) if bare["per_s"] else None,
        "http_only_per_s": round(http_only["per_s"], 1),
        "http_only_p99_ms": round(http_only["p99_ms"], 1),
        "asgi_only_per_s": round(asgi_only["per_s"], 1),
        "asgi_only_p99_ms": round(asgi_only["p99_ms"], 1),
        "fraction_of_http_only": round(intake["per_s"] / http_only["per_s"], 3) if http_only["per_s"] else None,
        "refused_references": sum(
            r["bad"] for r in (bare, bare_session, http_only, signed_in, intake_read, fastapi_only, asgi_only)
        ),
        "cpu_us_per_submission": intake["cpu_us_per_request"],
        "cpu_us_per_submission_notify": intake_notify["cpu_us_per_request"],
        "submissions_notify_per_s": round(intake_notify["per_s"], 1),
        "p99_ms_notify": round(intake_notify["p99_ms"], 1),
        "sleeps_per_request": {name: r["sleeps_per_request"] for name, r in phases.items()},
        "cpu_us_per_bare": bare["cpu_us_per_request"],
        "cpu_us_per_bare_session": bare_session["cpu_us_per_request"],
        "bare_session_per_s": round(bare_session["per_s"], 1),
        "bare_session_server_cpu_vs_bare": round(
            total(bare_session["cpu_us_per_request"], "server") / max(1, total(bare["cpu_us_per_request"], "server")),
            2,
        ),
        "bare_server_cpu_over_http_only_us": total(bare["cpu_us_per_request"], "server")
        - total(http_only["cpu_us_per_request"], "server"),
        "cpu_us_per_http_only": http_only["cpu_us_per_request"],
        "cpu_us_per_fastapi_only": fastapi_only["cpu_us_per_request"],
        "cpu_us_per_asgi_only": asgi_only["cpu_us_per_request"],
        "bare_server_cpu_by_layer_us": by_layer,
        "cpu_us_per_signed_in": signed_in["cpu_us_per_request"],
        "cpu_us_per_intake_read": intake_read["cpu_us_per_request"],
        "submission_python_us": python_us,
        "others_busy_cores": {
            "intake": intake["others_busy_cores"],
            "intake_notify": intake_notify["others_busy_cores"],
            "bare": bare["others_busy_cores"],
            "bare_session": bare_session["others_busy_cores"],
            "http_only": http_only["others_busy_cores"],
            "signed_in": signed_in["others_busy_cores"],
            "intake_read": intake_read["others_busy_cores"],
            "fastapi_only": fastapi_only["others_busy_cores"],
            "asgi_only": asgi_only["others_busy_cores"],
        },
        "bulk_rows": args.bulk_rows,
        "bulk_rows_per_s": round(bulk_result.get("bulk_rows_per_s", 0.0), 1),
        "bulk_seconds": round(bulk_result.get("bulk_seconds", 0.0), 2),
        "raw_rows_per_s": round(bulk_result.get("raw_rows_per_s", 0.0), 1),
        "bulk_fraction_of_raw": round(bulk_result["bulk_rows_per_s"] / bulk_result["raw_rows_per_s"], 3)
        if bulk_result
        else None,
        "bulk_cpu_us_per_row": bulk_result.get("bulk_cpu_us_per_row"),
        "raw_cpu_us_per_row": bulk_result.get("raw_cpu_us_per_row"),
        "bulk_busy_cores": bulk_result.get("bulk_busy_cores"),
        "bulk_cpu_vs_raw_copy": round(
            bulk_result["bulk_cpu_us_per_row"]["total"] / bulk_result["raw_cpu_us_per_row"]["total"], 1
        )
        if bulk_result and bulk_result["raw_cpu_us_per_row"]["total"]
        else None,
        "seconds": args.seconds,
        "server_workers": args.server_workers,
        "load_processes": args.load_processes,
        "connections": args.connections * args.load_processes,
        "cpus": os.cpu_count(),
        "run_id": str(uuid.uuid4())[:8],
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
