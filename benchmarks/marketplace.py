"""Marketplace benchmark (marketplace issue).

    python benchmarks/marketplace.py [--seconds S] [--courses N]
    python benchmarks/marketplace.py --only search [--seconds S] [--courses N] [--keep --reuse] [--offline-share F]

1. Complete purchases through the signed partner API (contract ``marketplace-api.md`` section 1), each one
   ``POST /partner/v1/cards/inquiry``, ``POST /partner/v1/purchases`` and ``POST .../confirm`` with the one-time
   code the program texted, every call signed (HMAC) with an ``Idempotency-Key``, by a fresh funded card (the
   program allows one training under way per person), sustained for ``--seconds`` against uvicorn worker processes
   from several load processes (a small keep-alive HTTP/1.1 client on asyncio). The "phone" of each participant is
   the development sender's storage: the load client reads the code from ``notifications_messages`` (decrypting
   it) the way ``tests/training`` does; that read's own PostgreSQL CPU is measured apart and taken off.
2. In the same run, one client alone (the same purchases without contention), and the reference: the bare signed
   endpoint ``GET /partner/v1/ping`` (signature check, then the replay record and the rate count committed in one
   statement; no body, no idempotency), three of them per purchase. Then CPU call by call: 150 inquiries, then
   their 150 purchases, then their confirmations, then 150 signed pings, each phase measured apart (web processes
   and PostgreSQL), to show where a purchase's CPU goes.
3. In the same run, where a purchase's CPU goes, against two more references: the HTTP-only floor (the same
   signed requests' bytes, three a purchase, to ``POST /partner/v1/bench/http-only`` on the same uvicorn worker
   processes and app: middleware, routing, the body read and parsed, a JSON answer; no signature check, no
   database) and the raw PostgreSQL reference (``benchmarks/raw_purchase.sql``: the rows the three calls read and
   write, in plain SQL with the same tables, indexes, triggers and commits, run by pgbench from as many
   connections on the same server, its first 2 s not counted; ``benchmarks/raw_purchase.py``), also from one
   connection (against the one-client purchases) and with no commit waiting for its WAL flush (what the durable
   commits cost). The accounting splits a purchase's web CPU into the HTTP floor, the signed frame's (three signed
   pings above the floor) and our handlers' above both, and its PostgreSQL CPU into the raw rows' and ours above
   them (JSON: ``raw_purchase_pg_us``, ``raw_purchase_tps``, ``purchase_vs_raw`` = ``cpu_us_per_purchase`` /
   ``raw_purchase_pg_us``, ``purchase_pg_vs_raw``, ``purchase_accounting_us``). The raw phases credit every
   training wallet by SQL first (``raw_purchase.TOP_UP``), so the scratch database's ledger no longer balances
   after them.
4. Catalogue search over ``--courses`` approved courses (Indonesian titles and syllabi from a varied vocabulary):
   ``GET /pelatihan?q=...`` over HTTP under load, the service's ``catalog.service.search.search`` in-process, and
   the same ``websearch_to_tsquery`` query (count + one ranked page) in raw SQL with psycopg.

Set-up: a scratch database (embedded PostgreSQL under ``.prakerja-bench`` unless ``PRAKERJA_BENCH_DATABASE_URL``
names a server) migrated with Alembic; ``--service-courses`` courses submitted, approved and listed through the
catalog service, the rest up to ``--courses`` copied from those in SQL (set-up time only); platform and
institution partners with keys (``partners.service.create_partner`` / ``issue_key``); listings through the catalog
service; recipients registered, funded (ledger service) and with verified phones, as ``tests/training`` does. No
job worker runs: the SMS delivery and webhook jobs each purchase enqueues stay queued (their enqueueing is
measured, their delivery is not). CPU per operation is read from ``/proc`` (``benchmarks/cpu.py``) for the web
processes and the PostgreSQL server's process tree; what the database backends wait on during the purchases is
sampled from ``pg_stat_activity``. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import hmac
import json
import multiprocessing as mp
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import raw_purchase  # benchmarks/raw_purchase.py
from cpu import (
    DatabaseCpu,
    machine_busy_seconds,
    postmaster_pid,
    roles_per_op,
    tree_cpu_by_role,
    tree_cpu_seconds,
)  # benchmarks/cpu.py

ROOT = Path(__file__).resolve().parents[1]
DB_NAME = "prakerja_bench_market"
SCHEME = "2023-normal"
BALANCE = 3_500_000
PING_PATH = "/partner/v1/ping"
HTTP_ONLY_PATH = "/partner/v1/bench/http-only"
HTTP_ONLY_ANSWER = json.dumps(
    {
        "card_number_masked": "**** **** **** 6687",
        "name_masked": "S**i R*******i 20",
        "balance": 3500000,
        "status": "active",
        "first_purchase_deadline": "2027-01-05T21:44:43.443040Z",
    },
    separators=(",", ":"),
).encode()
"""The HTTP-only reference's answer: a card inquiry's, byte for byte in size."""

# --- synthetic Indonesian courses ---------------------------------------------------------------------------------

TOPICS = [
    ("marketing", "Pemasaran Digital", "pemasaran media sosial iklan konten merek pelanggan kampanye"),
    ("sales", "Penjualan Daring", "penjualan toko daring lokapasar katalog produk promosi ulasan"),
    ("food", "Tata Boga", "memasak kue roti resep bumbu dapur makanan minuman katering"),
    ("food", "Kopi dan Barista", "kopi barista seduh espreso susu kafe biji sangrai"),
    ("technology", "Pemrograman Web", "pemrograman aplikasi situs basis data jaringan server kode"),
    ("technology", "Analisis Data", "data statistik lembar kerja visualisasi laporan dasbor analisis"),
    ("finance", "Akuntansi UMKM", "akuntansi pembukuan pajak laporan keuangan kas anggaran usaha"),
    ("language", "Bahasa Inggris Kerja", "bahasa inggris percakapan wawancara surat presentasi kosakata"),
    ("creative", "Desain Grafis", "desain grafis logo poster ilustrasi warna tipografi foto"),
    ("creative", "Videografi", "video kamera sunting rekam cerita konten film suara"),
    ("agriculture", "Pertanian Modern", "pertanian hidroponik sayur pupuk tanaman panen kebun bibit"),
    ("manufacturing", "Menjahit Busana", "menjahit busana pola kain batik bordir pakaian mode"),
    ("entrepreneurship", "Tata Rias", "rias wajah kecantikan rambut salon perawatan kulit pengantin"),
    ("hospitality", "Perhotelan", "hotel tamu resepsionis kamar pelayanan wisata pariwisata"),
    ("manufacturing", "Servis Motor", "servis motor mesin bengkel oli rem kelistrikan suku cadang"),
    ("management", "Logistik dan Gudang", "gudang logistik pengiriman stok persediaan kurir armada"),
]
LEVELS = ["Dasar", "Menengah", "Lanjutan", "untuk Pemula", "untuk UMKM", "Praktis", "Terapan", "Profesional"]
PLACES = ["Jakarta", "Bandung", "Surabaya", "Medan", "Makassar", "Denpasar", "Yogyakarta", "Semarang", "Palembang"]
EXTRA = [
    "strategi", "perencanaan", "praktik", "studi", "kasus", "evaluasi", "tim", "komunikasi", "kreatif", "efisien",
    "mandiri", "modal", "usaha", "rumahan", "keselamatan", "kerja", "kualitas", "standar", "sertifikasi",
    "peralatan", "bahan", "biaya", "harga", "pasar", "peluang", "digitalisasi",
]  # fmt: skip
QUERIES = [
    "pemasaran", "kue", "kopi", "pemrograman", "data", "pajak", "bahasa inggris", "desain logo", "video",
    "hidroponik", "batik", "rias wajah", "hotel", "motor", "gudang", "iklan media sosial", "resep makanan",
    "laporan keuangan", "pola kain", "servis mesin", "umkm", "pelanggan", "roti", "aplikasi", "wisata",
]  # fmt: skip


def course_body(i: int, starts: datetime) -> dict:  # type: ignore[type-arg]
    rng = random.Random(i)
    category, name, words = TOPICS[i % len(TOPICS)]
    words_list = words.split()
    level = LEVELS[(i // len(TOPICS)) % len(LEVELS)]
    place = PLACES[(i // 7) % len(PLACES)]
    picked = rng.sample(words_list, 4) + rng.sample(EXTRA, 5)
    price = 500_000 + 50_000 * (i % 30)
    return {
        "title": f"{name} {level} {place} {i}",
        "category": category,
        "competency_standard": f"SKKNI {name}: {' '.join(picked[:3])}",
        "syllabus": f"Materi {' '.join(picked)}; {rng.choice(words_list)} dan {rng.choice(EXTRA)} untuk usaha.",
        "trainers": [
            {"name": "Budi Santoso", "qualification": f"Sertifikat BNSP {name}"},
            {"name": "Dewi Lestari", "qualification": f"Praktisi {name.lower()} 5 tahun"},
        ],
        "format": "webinar",
        "hours": 15,
        "sessions": [
            {"starts_at": (starts + timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%SZ"), "duration_minutes": 180}
            for n in range(5)
        ],
        "class_size": 100,
        "price": price,
        "outside_price": price + 200_000,
        "outside_url": f"https://kursus.example/{i}",
        "interactive": True,
    }


# --- database set-up ----------------------------------------------------------------------------------------------


def scratch_database(reuse: bool = False) -> tuple[str, bool]:
    """The scratch database's URL, and whether it was kept from an earlier ``--keep`` run (``reuse``: then it is
    not recreated)."""
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
        kept = reuse and conn.scalar(text("SELECT count(*) FROM pg_database WHERE datname = :n"), {"n": DB_NAME})
        if not kept:
            conn.execute(text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
            conn.execute(text(f"CREATE DATABASE {DB_NAME}"))
    admin.dispose()
    return make_url(admin_url).set(database=DB_NAME).render_as_string(hide_password=False), bool(kept)


def drop_database(url: str) -> None:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)"))
    admin.dispose()


def seed_partners(institutions: int, platforms: int) -> tuple[list[dict], list[dict]]:  # type: ignore[type-arg]
    """``institutions`` institutions and ``platforms`` platforms, each with a signing key (the partners
    service)."""
    from prakerja import db
    from prakerja.audit.service import Actor
    from prakerja.partners import service as partners

    def make(session, name: str, role: str) -> dict:  # type: ignore[no-untyped-def,type-arg]
        org = partners.create_partner(session, name=name, role=role, actor=Actor.system())
        issued = partners.issue_key(session, partner_id=org.id, actor=Actor.system(), label="bench")
        return {"id": str(org.id), "client_code": issued.client_code, "secret": issued.secret}

    with db.unit_of_work() as session:
        made_institutions = [make(session, f"Lembaga Pelatihan {n + 1}", "institution") for n in range(institutions)]
        made = [make(session, f"Platform Belajar {n + 1}", "platform") for n in range(platforms)]
    return made_institutions, made


def seed_courses(count: int, institutions: list[dict], platforms: list[dict]) -> list[str]:  # type: ignore[type-arg]
    """``count`` courses (round-robin over the institutions) submitted and approved through the catalog service,
    each listed by every platform."""
    from prakerja import db
    from prakerja.audit.service import Actor
    from prakerja.catalog import service as catalog
    from prakerja.catalog.schemas import CourseCreate
    from prakerja.kit.clock import utcnow

    officer = Actor(id=uuid.UUID("00000000-0000-7000-8000-0000000000c1"), role="pmo_officer")
    partner = Actor(id=None, role="partner:institution")
    starts = (utcnow() + timedelta(days=30)).replace(hour=2, minute=0, second=0, microsecond=0)
    ids: list[str] = []
    batch = 250
    for first in range(0, count, batch):
        with db.unit_of_work() as session:
            for i in range(first, min(count, first + batch)):
                course = catalog.courses.submit(
                    session,
                    institution_id=uuid.UUID(institutions[i % len(institutions)]["id"]),
                    data=CourseCreate.model_validate(course_body(i, starts)),
                    actor=partner,
                )
                catalog.curation.curate(
                    session, course_id=course.id, decision="approved", reasons=[], note="", officer=officer
                )
                for p in platforms:
                    catalog.listings.put_listing(
                        session,
                        course_id=course.id,
                        platform_id=uuid.UUID(p["id"]),
                        url=f"https://platform.example/kursus/{i}",
                        price=course.price,
                        actor=Actor(id=None, role="partner:platform"),
                    )
                ids.append(str(course.id))
        print(f"  courses: {len(ids)} / {count}", file=sys.stderr)
    return ids


def clone_courses(url: str, service_ids: list[str], count: int, institutions: list[dict]) -> list[str]:  # type: ignore[type-arg]
    """Courses ``len(service_ids)`` .. ``count - 1`` in SQL, each a copy of a course the service approved (its
    sessions, curation decision and listings too) with its own title, competency and syllabus, so the catalogue
    has ``count`` approved courses without waiting for the service ``count`` times (set-up time only: every
    course the benchmark buys was made by the service)."""
    import psycopg

    from prakerja.jobs import libpq_conninfo

    made = len(service_ids)
    starts = datetime.now(UTC) + timedelta(days=30)
    ids = [str(uuid.uuid4()) for _ in range(made, count)]
    with psycopg.connect(libpq_conninfo(url)) as conn, conn.cursor() as cur:
        cur.execute(
            "CREATE TEMP TABLE bench_clone (id uuid, template uuid, institution_id uuid, title text, "
            "competency_standard text, syllabus text, outside_url text)"
        )
        with cur.copy("COPY bench_clone FROM STDIN") as copy:
            for n, new_id in enumerate(ids):
                i = made + n
                body = course_body(i, starts)
                # the template has the same topic (so category, price and format agree with the words)
                template = service_ids[i % len(TOPICS) + len(TOPICS) * ((i // len(TOPICS)) % (made // len(TOPICS)))]
                institution = institutions[i % len(institutions)]["id"]
                copy.write_row(
                    (new_id, template, institution, body["title"], body["competency_standard"], body["syllabus"],
                     body["outside_url"])
                )  # fmt: skip

        def columns(table: str, replaced: set[str]) -> list[str]:
            cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND is_generated = 'NEVER'"
                " ORDER BY ordinal_position",
                (table,),
            )
            return [name for (name,) in cur.fetchall() if name not in replaced]

        own = ["id", "institution_id", "title", "competency_standard", "syllabus", "outside_url"]
        rest = columns("catalog_courses", set(own))
        cur.execute(
            f"INSERT INTO catalog_courses ({', '.join(own + rest)}) "
            f"SELECT {', '.join('b.' + c for c in own)}, {', '.join('c.' + c for c in rest)} "
            "FROM bench_clone b JOIN catalog_courses c ON c.id = b.template"
        )
        for table in ("catalog_course_sessions", "catalog_curation_decisions", "catalog_listings"):
            rest = columns(table, {"id", "course_id"})
            cur.execute(
                f"INSERT INTO {table} (id, course_id, {', '.join(rest)}) "
                f"SELECT gen_random_uuid(), b.id, {', '.join('t.' + c for c in rest)} "
                f"FROM bench_clone b JOIN {table} t ON t.course_id = b.template"
            )
        conn.commit()
    return service_ids + ids


def seed_recipients(count: int) -> list[tuple[str, str]]:
    """``count`` recipients with a verified phone and a funded wallet, as tests/training's ``make_participant``
    does (recipients and ledger services). Returns (card number, account id) pairs."""
    from prakerja import db
    from prakerja.audit.service import Actor
    from prakerja.auth.models import Account, Role
    from prakerja.kit.clock import utcnow
    from prakerja.kit.ids import new_id
    from prakerja.kit.pii import blind_index
    from prakerja.ledger import service as ledger
    from prakerja.recipients import service as recipients
    from prakerja.registration.models import Applicant
    from prakerja.schemes.rules import file_hash
    from prakerja.waves.models import Quota, StratumLevel, Wave, WaveState

    officer = Actor(id=uuid.UUID("00000000-0000-7000-8000-0000000000c1"), role="pmo_officer")
    year = utcnow().year
    now = utcnow()
    with db.unit_of_work() as session:
        wave = Wave(
            id=new_id(), number=1, title="Gelombang uji beban", state=WaveState.announced, scheme_name=SCHEME,
            scheme_hash=file_hash(SCHEME), opens_at=now - timedelta(days=30), closes_at=now - timedelta(days=23),
            total_quota=count, stratum_level=StratumLevel.regency, provinces=[], priority_tiers=[],
            quota_method="csv",
        )  # fmt: skip
        session.add(wave)
        session.flush()
        session.add(Quota(wave_id=wave.id, stratum="3201", quota=count))
        ledger.allocate_budget(
            session, transfer_id=new_id(), scheme=SCHEME, year=year, amount=BALANCE * count, actor=officer
        )
        wave_id = wave.id
    out: list[tuple[str, str]] = []
    batch = 250
    for first in range(0, count, batch):
        with db.unit_of_work() as session:
            for i in range(first, min(count, first + batch)):
                email = f"peserta{i}@example.org"
                account = Account(
                    id=new_id(), email=email, email_index=blind_index(email, "email"), password_hash="!bench",
                    role=Role.applicant, display_name="Peserta",
                )  # fmt: skip
                session.add(account)
                applicant_id = new_id()
                phone = f"0812{i:08d}"
                session.add(
                    Applicant(
                        id=applicant_id, account_id=account.id, full_name=f"Siti Rahmawati {i}", phone=phone,
                        phone_index=blind_index(phone, "phone"), phone_verified_at=now,
                    )
                )  # fmt: skip
                session.flush()
                recipient, _ = recipients.register(
                    session, wave_id=wave_id, entry_hash=uuid.uuid4().bytes * 2, applicant_id=applicant_id,
                    account_id=account.id, kk_index=None, scheme_name=SCHEME, training_balance=BALANCE,
                    funding_transfer_id=new_id(), first_purchase_deadline=now + timedelta(days=30),
                )  # fmt: skip
                ledger.fund_wallet(
                    session, transfer_id=recipient.funding_transfer_id, participant_id=applicant_id, scheme=SCHEME,
                    year=year, actor=officer, amount=BALANCE,
                )  # fmt: skip
                recipients.mark_funded(session, recipient)
                out.append((recipient.card_number, str(account.id)))
        if first // batch % 8 == 0:
            print(f"  recipients: {len(out)} / {count}", file=sys.stderr)
    return out


# --- the server ---------------------------------------------------------------------------------------------------


def bench_app():  # type: ignore[no-untyped-def]
    """The product app (``prakerja.app.create_app``) plus the HTTP-only reference route, served by the same uvicorn
    worker processes: ``POST /partner/v1/bench/http-only`` reads the body, parses it as JSON and answers a card
    inquiry's answer (same size), with the shell middleware and routing of every partner path, and nothing else
    (no signature check, no admission, no database). Added after every route of the app, so the purchase's routes
    are found as before."""
    from starlette.requests import Request
    from starlette.responses import Response

    from prakerja.app import create_app

    app = create_app()

    async def http_only(request: Request) -> Response:
        json.loads(await request.body())
        return Response(content=HTTP_ONLY_ANSWER, media_type="application/json")

    app.add_route(HTTP_ONLY_PATH, http_only, methods=["POST"], include_in_schema=False)
    return app


def start_server(env: dict[str, str], port: int, workers: int) -> subprocess.Popen[bytes]:
    import socket

    command = [
        sys.executable, "-m", "uvicorn", "--factory", "marketplace:bench_app", "--host", "127.0.0.1",
        "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
        "--loop", "uvloop", "--http", "httptools",
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


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the load generator -------------------------------------------------------------------------------------------


def signed(method: str, path: str, body: bytes, partner: dict, key: str | None) -> bytes:  # type: ignore[type-arg]
    stamp = str(int(time.time()))
    message = partner["client_code"].encode() + stamp.encode() + method.encode() + path.encode() + body
    signature = hmac.new(partner["secret"].encode(), message, hashlib.sha256).hexdigest()
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: bench\r\nclient_code: {partner['client_code']}\r\n"
        f"timestamp: {stamp}\r\nsignature: {signature}\r\n"
    )
    if key:
        head += f"Idempotency-Key: {key}\r\n"
    if body or method != "GET":
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    return (head + "\r\n").encode() + body


class Http:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def call(self, request: bytes) -> tuple[int, bytes, float]:
        started = time.perf_counter()
        self.writer.write(request)
        head = await self.reader.readuntil(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n"):
            if line[:15].lower() == b"content-length:":
                length = int(line[15:])
        body = await self.reader.readexactly(length) if length else b""
        return int(head[9:12]), body, (time.perf_counter() - started) * 1000


async def _otp(conn, account_id: str) -> str:  # type: ignore[no-untyped-def]
    """The participant's phone: the last message to the account, as tests/training's ``last_otp`` reads it."""
    from prakerja.kit.pii import decrypt

    cur = await conn.execute(
        "SELECT body FROM notifications_messages WHERE account_id = %s ORDER BY created_at DESC, id DESC LIMIT 1",
        (account_id,),
    )
    row = await cur.fetchone()
    await conn.commit()
    text = decrypt(bytes(row[0]), "notifications_messages.body")
    return text.split("Kode OTP Kartu Prakerja: ")[1][:6]


async def _buyer(port: int, dsn: str, work: list, courses: list[str], until: float, out: dict) -> None:  # type: ignore[type-arg]
    import psycopg

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    http = Http(reader, writer)
    phone = await psycopg.AsyncConnection.connect(dsn)
    rng = random.Random(id(work))
    try:
        while time.perf_counter() < until and work:
            card, account_id, platform = work.pop()
            tag = uuid.uuid4().hex[:12]
            body = json.dumps({"card_number": card}).encode()
            calls = []
            request = signed("POST", "/partner/v1/cards/inquiry", body, platform, f"i-{tag}")
            status, answer, ms = await http.call(request)
            calls.append(("inquiry", status, answer, ms))
            if status == 200:
                body = json.dumps(
                    {
                        "card_number": card,
                        "course_id": rng.choice(courses),
                        "platform_order_id": f"order-{tag}",
                        "platform_account_id": f"akun-{account_id}",
                    }
                ).encode()
                request = signed("POST", "/partner/v1/purchases", body, platform, f"p-{tag}")
                status, answer, ms = await http.call(request)
                calls.append(("purchase", status, answer, ms))
            if status == 201:
                purchase_id = json.loads(answer)["purchase_id"]
                phone_started = time.perf_counter()
                otp = await _otp(phone, account_id)
                out["phone_ms"].append((time.perf_counter() - phone_started) * 1000)
                body = json.dumps({"otp": otp}).encode()
                path = f"/partner/v1/purchases/{purchase_id}/confirm"
                status, answer, ms = await http.call(signed("POST", path, body, platform, f"c-{tag}"))
                calls.append(("confirm", status, answer, ms))
            for name, st, ans, ms in calls:
                out["latencies"][name].append(ms)
                if not 200 <= st < 300:
                    out["bad"] += 1
                    out.setdefault("first_bad", f"{name} {st} {ans[:300]!r}")
            if status == 200 and calls[-1][0] == "confirm":
                out["ok"] += 1
    finally:
        writer.close()
        await phone.close()


async def _pinger(port: int, platform: dict, until: float, out: dict) -> None:  # type: ignore[type-arg]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    http = Http(reader, writer)
    try:
        while time.perf_counter() < until:
            # a distinct path each time: a signature is accepted once per timestamp window
            request = signed("GET", f"{PING_PATH}?n={uuid.uuid4().hex}", b"", platform, None)
            status, answer, ms = await http.call(request)
            out["latencies"]["ping"].append(ms)
            if status == 200:
                out["ok"] += 1
            else:
                out["bad"] += 1
                out.setdefault("first_bad", f"ping {status} {answer[:300]!r}")
    finally:
        writer.close()


async def _floor(port: int, job: dict, until: float, out: dict) -> None:  # type: ignore[type-arg]
    """The HTTP-only reference: a card inquiry's signed request (headers, key, body) sent to the HTTP-only path."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    http = Http(reader, writer)
    cards = job["cards"]
    try:
        n = 0
        while time.perf_counter() < until:
            body = json.dumps({"card_number": cards[n % len(cards)]}).encode()
            n += 1
            request = signed("POST", HTTP_ONLY_PATH, body, job["platform"], f"h-{uuid.uuid4().hex[:12]}")
            status, answer, ms = await http.call(request)
            out["latencies"]["http_only"].append(ms)
            if status == 200:
                out["ok"] += 1
            else:
                out["bad"] += 1
                out.setdefault("first_bad", f"http-only {status} {answer[:300]!r}")
    finally:
        writer.close()


async def _searcher(port: int, until: float, out: dict, seed: int) -> None:  # type: ignore[type-arg]
    from urllib.parse import quote_plus

    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    http = Http(reader, writer)
    rng = random.Random(seed)
    try:
        while time.perf_counter() < until:
            q = quote_plus(rng.choice(QUERIES))
            status, answer, ms = await http.call(f"GET /pelatihan?q={q} HTTP/1.1\r\nHost: bench\r\n\r\n".encode())
            out["latencies"]["search"].append(ms)
            if status == 200:
                out["ok"] += 1
            else:
                out["bad"] += 1
                out.setdefault("first_bad", f"search {status} {answer[:300]!r}")
    finally:
        writer.close()


def _load_process(kind: str, port: int, job: dict, connections: int, seconds: float, queue) -> None:  # type: ignore[no-untyped-def,type-arg]
    import uvloop

    out: dict = {"latencies": {}, "ok": 0, "bad": 0, "phone_ms": []}  # type: ignore[type-arg]
    for name in ("inquiry", "purchase", "confirm", "ping", "http_only", "search"):
        out["latencies"][name] = []

    async def main() -> None:
        until = time.perf_counter() + seconds
        if kind == "purchase":
            shares = [job["work"][c::connections] for c in range(connections)]
            tasks = [_buyer(port, job["dsn"], shares[c], job["courses"], until, out) for c in range(connections)]
        elif kind == "ping":
            tasks = [_pinger(port, job["platform"], until, out) for _ in range(connections)]
        elif kind == "http_only":
            tasks = [_floor(port, job, until, out) for _ in range(connections)]
        else:
            tasks = [_searcher(port, until, out, job["seed"] * 100 + c) for c in range(connections)]
        await asyncio.gather(*tasks)
        out["ran_out"] = kind == "purchase" and time.perf_counter() < until - 0.5

    uvloop.run(main())
    queue.put(out)


def analyze(dsn: str) -> None:
    """Statistics for the tables the warm-up's purchases began to fill (the set-up analysed them empty), as
    autovacuum's analyze gives them within its naptime (a minute) on a running system, and as the raw reference,
    measured later, finds them: the purchases' plans no longer depend on whether autovacuum happened to reach those
    tables during the measured seconds. (Twelfth session: the PostgreSQL backends' CPU of a purchase was the raw
    reference's in one run of three and ~1,900 us above it in two; with this, 900-1,500 us above in two runs: the
    machine's noise is as large, so this is for like-for-like statistics, not a measured saving.)"""
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("ANALYZE")


def run_load(kind: str, port: int, jobs: list[dict], connections: int, seconds: float, watch: dict[str, int]) -> dict:  # type: ignore[type-arg]
    """Drive the server from ``len(jobs)`` processes for ``seconds``; CPU of the watched process trees per op."""
    cpu_before = {name: tree_cpu_seconds(pid) for name, pid in watch.items()}
    roles_before = tree_cpu_by_role(watch["database"]) if "database" in watch else {}
    load_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine_before = machine_busy_seconds()
    queue: mp.Queue = mp.Queue()  # type: ignore[type-arg]
    procs = [mp.Process(target=_load_process, args=(kind, port, job, connections, seconds, queue)) for job in jobs]
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
    roles_after = tree_cpu_by_role(watch["database"]) if "database" in watch else {}
    cpu["load_generator"] = (load_after.ru_utime + load_after.ru_stime) - (load_before.ru_utime + load_before.ru_stime)
    machine_busy = machine_after[0] - machine_before[0]
    cpu["others"] = max(0.0, machine_busy - sum(cpu.values()))
    ok = sum(r["ok"] for r in results)
    latencies = {name: sorted(x for r in results for x in r["latencies"][name]) for name in results[0]["latencies"]}
    every_call = sorted(
        x for name in ("inquiry", "purchase", "confirm", "ping", "http_only", "search") for x in latencies[name]
    )
    return {
        "ok": ok,
        "bad": sum(r["bad"] for r in results),
        "first_bad": next((r["first_bad"] for r in results if "first_bad" in r), None),
        "ran_out": any(r.get("ran_out") for r in results),
        "per_s": ok / elapsed,
        "seconds": elapsed,
        "latencies": {name: values for name, values in latencies.items() if values},
        "calls": every_call,
        "phone_ms": sorted(x for r in results for x in r["phone_ms"]),
        "cpu_seconds": cpu,
        "cpu_us_per_op": {name: round(v / ok * 1e6) if ok else None for name, v in cpu.items()},
        "others_busy_cores": round(cpu["others"] / elapsed, 2),
        "machine_busy_cores": round(machine_busy / elapsed, 2),
        "postgres_by_role_us": roles_per_op(roles_before, roles_after, ok),
    }


def by_call(port: int, dsn: str, work: list, courses: list[str], watch: dict[str, int], connections: int = 4) -> dict:  # type: ignore[type-arg]
    """CPU per call, call by call: all the inquiries of ``work``, then all its purchases, then (the codes read
    from the phone beforehand, outside the measurement) all its confirmations, then as many signed pings and as
    many HTTP-only calls, each phase from ``connections`` connections; web processes and PostgreSQL measured apart
    for each phase."""
    import psycopg
    import uvloop

    rng = random.Random(7)
    items = [
        {"card": card, "account": account, "platform": platform, "tag": uuid.uuid4().hex[:12]}
        for card, account, platform in work
    ]

    def requests(step: str) -> list[tuple[dict, bytes]]:  # type: ignore[type-arg]
        out = []
        for it in items:
            p, tag = it["platform"], it["tag"]
            if step == "inquiry":
                body = json.dumps({"card_number": it["card"]}).encode()
                out.append((it, signed("POST", "/partner/v1/cards/inquiry", body, p, f"bi-{tag}")))
            elif step == "purchase":
                body = json.dumps(
                    {
                        "card_number": it["card"],
                        "course_id": rng.choice(courses),
                        "platform_order_id": f"order-b{tag}",
                        "platform_account_id": f"akun-{it['account']}",
                    }
                ).encode()
                out.append((it, signed("POST", "/partner/v1/purchases", body, p, f"bp-{tag}")))
            elif step == "confirm" and "purchase_id" in it:
                body = json.dumps({"otp": it["otp"]}).encode()
                path = f"/partner/v1/purchases/{it['purchase_id']}/confirm"
                out.append((it, signed("POST", path, body, p, f"bc-{tag}")))
            elif step == "ping":
                out.append((it, signed("GET", f"{PING_PATH}?n={uuid.uuid4().hex}", b"", p, None)))
            elif step == "http_only":
                body = json.dumps({"card_number": it["card"]}).encode()
                out.append((it, signed("POST", HTTP_ONLY_PATH, body, p, f"bh-{tag}")))
        return out

    async def phase(step: str) -> tuple[int, int]:
        todo = requests(step)
        good = bad = 0

        async def worker() -> None:
            nonlocal good, bad
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            http = Http(reader, writer)
            try:
                while todo:
                    it, request = todo.pop()
                    status, answer, _ = await http.call(request)
                    if 200 <= status < 300:
                        good += 1
                        if step == "purchase":
                            it["purchase_id"] = json.loads(answer)["purchase_id"]
                    else:
                        bad += 1
            finally:
                writer.close()

        await asyncio.gather(*(worker() for _ in range(connections)))
        return good, bad

    async def phones() -> None:
        async with await psycopg.AsyncConnection.connect(dsn) as conn:
            for it in items:
                if "purchase_id" in it:
                    it["otp"] = await _otp(conn, it["account"])

    out: dict = {}  # type: ignore[type-arg]
    for step in ("inquiry", "purchase", "confirm", "ping", "http_only"):
        if step == "confirm":
            uvloop.run(phones())
        before = {name: tree_cpu_seconds(pid) for name, pid in watch.items()}
        good, bad = uvloop.run(phase(step))
        used = {name: tree_cpu_seconds(pid) - before[name] for name, pid in watch.items()}
        out[step] = {
            "calls": good,
            "failed": bad,
            "web_us": round(used["server"] / max(1, good) * 1e6),
            "database_us": round(used.get("database", 0.0) / max(1, good) * 1e6),
        }
    return out


def pct(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


class WaitSampler:
    """What the PostgreSQL backends of the benchmark database are doing, sampled every 0.2 s from
    ``pg_stat_activity`` during a phase (a cheap query: well under 1% of the database CPU measured)."""

    def __init__(self, url: str) -> None:
        import threading

        self.url = url
        self.counts: dict[str, int] = {}
        self.samples = 0
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        from prakerja.jobs import libpq_conninfo

        with psycopg.connect(libpq_conninfo(self.url), autocommit=True) as conn:
            while not self.stop_event.wait(0.2):
                rows = conn.execute(
                    "SELECT state, wait_event_type, wait_event FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
                ).fetchall()
                self.samples += 1
                for state, kind, event in rows:
                    if state == "idle":
                        continue
                    key = f"{state}: {kind}/{event}" if kind else f"{state}: on CPU"
                    self.counts[key] = self.counts.get(key, 0) + 1

    def __enter__(self) -> WaitSampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_event.set()
        self.thread.join()

    def summary(self) -> dict[str, float]:
        """Average number of backends in each state (not idle), busiest first."""
        ranked = sorted(self.counts.items(), key=lambda kv: -kv[1])
        return {key: round(n / max(1, self.samples), 2) for key, n in ranked[:8]}


# --- the phone's own PostgreSQL cost, and in-process search -------------------------------------------------------


def phone_reads_cpu(url: str, accounts: list[str]) -> float:
    """PostgreSQL CPU (us) of one OTP read of the load client, measured alone (sequential, one connection)."""
    import psycopg

    from prakerja.jobs import libpq_conninfo

    database = DatabaseCpu(url)
    with psycopg.connect(libpq_conninfo(url)) as conn:
        database.start()
        for account_id in accounts:
            conn.execute(
                "SELECT body FROM notifications_messages WHERE account_id = %s "
                "ORDER BY created_at DESC, id DESC LIMIT 1",
                (account_id,),
            ).fetchone()
            conn.commit()
        used = database.stop()
    return used / max(1, len(accounts)) * 1e6


RAW_COUNT = """
SELECT count(*) FROM catalog_courses c
WHERE c.status = 'approved' AND c.search @@ websearch_to_tsquery('indonesian'::regconfig, %(q)s)
"""
RAW_PAGE = """
SELECT c.*, coalesce((SELECT min(l.price) FROM catalog_listings l WHERE l.course_id = c.id AND l.status = 'listed'),
                     c.price) AS from_price
FROM catalog_courses c, websearch_to_tsquery('indonesian'::regconfig, %(q)s) AS q
WHERE c.status = 'approved' AND c.search @@ q
ORDER BY ts_rank(c.search, q) DESC, c.rating_average DESC NULLS LAST, c.rating_count DESC, c.title, c.id
LIMIT 20
"""


def search_in_process(url: str, rounds: int) -> dict:  # type: ignore[type-arg]
    """The service's search and the same query in raw SQL, one after the other, sequential: ms per search and
    CPU (this process + PostgreSQL) per search."""
    import psycopg

    from prakerja import db
    from prakerja.catalog.service import search
    from prakerja.jobs import libpq_conninfo

    database = DatabaseCpu(url)

    def own_cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    out = {}
    queries = [QUERIES[i % len(QUERIES)] for i in range(rounds)]
    with db.unit_of_work() as session:
        for q in QUERIES:  # warm
            search.search(session, search.SearchFilters(query=q))
        times, hits = [], []
        database.start()
        before = own_cpu()
        for q in queries:
            started = time.perf_counter()
            results = search.search(session, search.SearchFilters(query=q))
            times.append((time.perf_counter() - started) * 1000)
            hits.append(results.total)
        out["service"] = {
            "times": sorted(times),
            "median_hits": statistics.median(hits),
            "client_cpu": own_cpu() - before,
            "db_cpu": database.stop(),
        }
    with psycopg.connect(libpq_conninfo(url)) as conn:
        for q in QUERIES:
            conn.execute(RAW_COUNT, {"q": q}).fetchone()
            conn.execute(RAW_PAGE, {"q": q}).fetchall()
        times = []
        database.start()
        before = own_cpu()
        for q in queries:
            started = time.perf_counter()
            conn.execute(RAW_COUNT, {"q": q}).fetchone()
            conn.execute(RAW_PAGE, {"q": q}).fetchall()
            times.append((time.perf_counter() - started) * 1000)
        conn.rollback()
        out["raw_sql"] = {"times": sorted(times), "client_cpu": own_cpu() - before, "db_cpu": database.stop()}
    return out


def approved_courses(url: str) -> int:
    import psycopg

    from prakerja.jobs import libpq_conninfo

    with psycopg.connect(libpq_conninfo(url)) as conn:
        found = conn.execute("SELECT to_regclass('catalog_courses') IS NOT NULL").fetchone()
        if not found or not found[0]:
            return 0
        row = conn.execute("SELECT count(*) FROM catalog_courses WHERE status = 'approved'").fetchone()
    return int(row[0]) if row else 0


def offline_share(url: str) -> float:
    import psycopg

    from prakerja.jobs import libpq_conninfo

    if not approved_courses(url):
        return 0.0
    with psycopg.connect(libpq_conninfo(url)) as conn:
        row = conn.execute("SELECT avg((format = 'offline')::int) FROM catalog_courses").fetchone()
    return float(row[0] or 0) if row else 0.0


def make_offline(url: str, share: float) -> None:
    """About ``share`` of the courses become offline courses: their sessions offline, at a place in one of 34
    provinces (so the catalogue's province list has something to find)."""
    import psycopg

    from prakerja.jobs import libpq_conninfo
    from prakerja.registration.service.regions import province_names

    codes = sorted(province_names())[:34]
    with psycopg.connect(libpq_conninfo(url)) as conn:
        conn.execute(
            "CREATE TEMP TABLE bench_offline AS SELECT id, (%(codes)s::text[])[1 + abs(hashtext(id::text)) %% "
            "cardinality(%(codes)s::text[])] AS code FROM catalog_courses "
            "WHERE abs(hashtext(id::text || 'offline')) %% 1000 < %(permille)s",
            {"codes": codes, "permille": round(share * 1000)},
        )
        conn.execute("UPDATE catalog_courses c SET format = 'offline' FROM bench_offline o WHERE o.id = c.id")
        conn.execute(
            "UPDATE catalog_course_sessions s SET training_type = 'offline', place = 'Jl. Pelatihan No. 1', "
            "province_code = o.code FROM bench_offline o WHERE o.id = s.course_id"
        )
        conn.commit()


def search_only(args: argparse.Namespace, url: str, env: dict[str, str], *, setup_seconds: float) -> None:
    """``--only search``: catalogue search over HTTP for ``--seconds`` from ``--load-processes`` x
    ``--search-connections`` connections, then in-process (the service and the raw SQL reference)."""
    from prakerja import db

    n = args.load_processes
    port = free_port()
    server = start_server(env, port, args.server_workers)
    watch = {"server": server.pid}
    database_pid = postmaster_pid(url)
    if database_pid is not None:
        watch["database"] = database_pid
    try:
        print("warming up ...", file=sys.stderr)
        run_load("search", port, [{"seed": 0}], 4, 3, watch)
        print(f"catalogue search over HTTP for {args.seconds:.0f} s ...", file=sys.stderr)
        jobs = [{"seed": p + 1} for p in range(n)]
        found = run_load("search", port, jobs, args.search_connections, args.seconds, watch)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print("catalogue search in-process (service and raw SQL) ...", file=sys.stderr)
    inproc = search_in_process(url, 400)
    db.dispose()
    if not args.keep:
        drop_database(url)
    if found["bad"]:
        print(f"refused or failed searches: {found['bad']}: {found['first_bad']}", file=sys.stderr)
    http_cpu = (found["cpu_us_per_op"]["server"] or 0) + (found["cpu_us_per_op"].get("database") or 0)
    service, raw = inproc["service"], inproc["raw_sql"]
    rounds = len(service["times"])
    service_cpu = (service["client_cpu"] + service["db_cpu"]) / rounds * 1e6
    raw_cpu = (raw["client_cpu"] + raw["db_cpu"]) / rounds * 1e6

    def ms(values: list[float], q: float) -> float:
        return round(pct(values, q), 1)

    print(f"\n{'operation':<38} {'rate':>10} {'p50 ms':>8} {'p95 ms':>8} {'CPU us/op':>10}")
    for name, rate, times, cpu in (
        ("search GET /pelatihan?q= (HTTP)", f"{found['per_s']:.1f}/s", found["calls"], http_cpu),
        ("search service, in-process", "", service["times"], service_cpu),
        ("reference: raw SQL, same tsquery", "", raw["times"], raw_cpu),
    ):
        print(f"{name:<38} {rate:>10} {ms(times, 0.5):>8} {ms(times, 0.95):>8} {cpu:>10,.0f}")
    print()
    summary = {
        "search_p95_ms": ms(found["calls"], 0.95),
        "search_p50_ms": ms(found["calls"], 0.5),
        "search_http_per_s": round(found["per_s"], 1),
        "search_http_cpu_us": round(http_cpu),
        "search_http_cpu_us_by_process": found["cpu_us_per_op"],
        "search_service_ms": {"p50": ms(service["times"], 0.5), "p95": ms(service["times"], 0.95)},
        "search_service_cpu_us": round(service_cpu),
        "search_raw_sql_ms": {"p50": ms(raw["times"], 0.5), "p95": ms(raw["times"], 0.95)},
        "search_raw_sql_cpu_us": round(raw_cpu),
        "search_service_cpu_vs_raw_sql": round(service_cpu / max(1.0, raw_cpu), 2),
        "search_http_cpu_vs_raw_sql": round(http_cpu / max(1.0, raw_cpu), 2),
        "search_median_matches": service["median_hits"],
        "failed_searches": found["bad"],
        "offline_share": args.offline_share,
        "others_busy_cores": found["others_busy_cores"],
        "load_average": round(os.getloadavg()[0], 1),
        "courses": args.courses,
        "seconds": args.seconds,
        "setup_seconds": round(setup_seconds),
        "server_workers": args.server_workers,
        "search_connections": args.search_connections * n,
        "cpus": os.cpu_count(),
        "run_id": str(uuid.uuid4())[:8],
        "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    print(json.dumps(summary))


# --- where a purchase's CPU goes ----------------------------------------------------------------------------------


def purchase_accounting(web_us: float, database_us: float, ping: dict, floor: dict, raw: dict) -> dict[str, int]:  # type: ignore[type-arg]
    """A complete purchase's CPU under load (``web_us`` + ``database_us``, us) split against the references of the
    same run: on the web side the HTTP-only floor (three calls through the same stack without the database), the
    signed frame (three signed pings above the floor: signature check and admission) and our handlers' above
    both (idempotency, transaction, reads, rules, encryption, writes, answer); on PostgreSQL's side the raw
    script's rows (the same rows, plain SQL, the same commits) and ours above them. ``floor_us`` is what the two
    floors alone cost: the least the purchase could cost on this stack with these rows."""
    floor_web = floor["cpu_us_per_op"]["server"] or 0
    ping_web = ping["cpu_us_per_op"]["server"] or 0
    ping_db = ping["cpu_us_per_op"].get("database") or 0
    raw_pg = raw["pg_us"]
    return {
        "web": round(web_us),
        "web_http_floor": round(3 * floor_web),
        "web_signed_frame": round(3 * (ping_web - floor_web)),
        "web_ours_above_frame": round(web_us - 3 * ping_web),
        "postgres": round(database_us),
        "postgres_raw_rows": raw_pg,
        "postgres_ours_above_raw": round(database_us - raw_pg),
        "postgres_three_pings": round(3 * ping_db),
        "http_only_postgres": round(3 * (floor["cpu_us_per_op"].get("database") or 0)),
        "total": round(web_us + database_us),
        "floor_us": round(3 * floor_web + raw_pg),
        "above_floor_us": round(web_us + database_us - 3 * floor_web - raw_pg),
    }


def print_accounting(a: dict[str, int]) -> None:
    total = max(1, a["total"])

    def line(name: str, us: int) -> None:
        print(f"  {name:<68} {us:>7,} us  {100 * us / total:5.1f}%")

    print("Where a complete purchase's CPU goes (under load; references measured in this run):")
    line("web: HTTP-only floor (3 calls, same uvicorn stack, no database)", a["web_http_floor"])
    line("web: signed frame above the floor (3 signed pings - 3 HTTP-only)", a["web_signed_frame"])
    line("web: our handlers above the signed frame (web - 3 signed pings)", a["web_ours_above_frame"])
    line("PostgreSQL: the raw rows (raw script: same rows, plain SQL, same commits)", a["postgres_raw_rows"])
    line("PostgreSQL: ours above the raw rows", a["postgres_ours_above_raw"])
    line("total (web + PostgreSQL)", a["total"])
    line("floor: HTTP-only x 3 + raw rows (the least on this stack)", a["floor_us"])
    print(f"  (PostgreSQL of three signed pings: {a['postgres_three_pings']:,} us; of three HTTP-only calls: "
          f"{a['http_only_postgres']:,} us)\n")  # fmt: skip


# --- main ---------------------------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="sustained purchase load (default 60)")
    parser.add_argument("--courses", type=int, default=20_000, help="approved courses in the catalogue (20,000)")
    parser.add_argument("--server-workers", type=int, default=2, help="uvicorn worker processes (default 2)")
    parser.add_argument("--load-processes", type=int, default=2, help="load generator processes (default 2)")
    parser.add_argument("--connections", type=int, default=8, help="keep-alive connections per load process")
    parser.add_argument("--search-connections", type=int, default=2, help="search connections per load process")
    parser.add_argument("--platforms", type=int, default=4, help="platform partners (credentials) buying")
    parser.add_argument(
        "--service-courses", type=int, default=1000, help="of those, made by the catalog service (the rest copied)"
    )
    parser.add_argument("--institutions", type=int, default=20, help="training institutions selling (default 20)")
    parser.add_argument("--rate", type=float, default=250.0, help="purchases/s to provision cards for")
    parser.add_argument("--ref-seconds", type=float, default=None, help="reference and search load (S/3, >= 8)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    parser.add_argument(
        "--reuse", action="store_true", help="use the database a --keep run left when it has --courses courses"
    )
    parser.add_argument(
        "--offline-share",
        type=float,
        default=0.0,
        help="with --only search: this share of the courses made offline, five sessions in one of 34 provinces",
    )
    parser.add_argument(
        "--only",
        choices=("search",),
        default=None,
        help="search: only the catalogue search (HTTP for --seconds, then in-process), no purchases or cards",
    )
    args = parser.parse_args()
    if args.offline_share and args.only != "search":
        parser.error("--offline-share is for --only search (the purchases are of webinar courses)")

    os.environ.setdefault("PRAKERJA_HOME", str(ROOT / ".prakerja-bench"))  # its own keys and database
    url, kept = scratch_database(reuse=args.reuse)
    env = {
        **os.environ,
        "PRAKERJA_DATABASE_URL": url,
        "PRAKERJA_LOG_LEVEL": "WARNING",
        "PRAKERJA_POOL_SIZE": "20",
        # the default (600 a minute per credential) is a production guard; the benchmark measures the work
        "PRAKERJA_PARTNER_RATE_LIMIT_PER_MINUTE": "100000",
    }
    os.environ.update(env)
    from prakerja import db, migrate
    from prakerja.config import reset_settings
    from prakerja.jobs import libpq_conninfo

    reset_settings()
    db.dispose()
    if kept and (approved_courses(url) != args.courses or abs(offline_share(url) - args.offline_share) > 0.02):
        print("the kept database has another number of courses or offline share: made anew", file=sys.stderr)
        url, kept = scratch_database(reuse=False)
    migrate.upgrade(url=url)
    setup_started = time.perf_counter()
    by_service = max(len(TOPICS), min(args.courses, args.service_courses) // len(TOPICS) * len(TOPICS))
    if kept and args.only == "search":
        print(f"reusing the kept database ({args.courses} approved courses)", file=sys.stderr)
    else:
        if kept:
            print("--reuse serves --only search (the purchases need fresh cards): made anew", file=sys.stderr)
            url, kept = scratch_database(reuse=False)
            migrate.upgrade(url=url)
        institutions, platforms = seed_partners(args.institutions, args.platforms)
        print(f"seeding {by_service} courses through the catalog service ...", file=sys.stderr)
        courses = seed_courses(by_service, institutions, platforms)
        if args.courses > by_service:
            print(f"cloning them in SQL up to {args.courses} courses ...", file=sys.stderr)
            courses = clone_courses(url, courses, args.courses, institutions)
    if args.only == "search":
        if not kept:
            if args.offline_share:
                make_offline(url, args.offline_share)
            with db.unit_of_work() as session:
                from sqlalchemy import text

                session.execute(text("ANALYZE"))
        db.dispose()
        search_only(args, url, env, setup_seconds=time.perf_counter() - setup_started)
        return
    warm_cards = 300
    cards_needed = int(args.rate * args.seconds * 1.2) + 2 * warm_cards
    print(f"seeding {cards_needed} funded recipients ...", file=sys.stderr)
    cards = seed_recipients(cards_needed)
    with db.unit_of_work() as session:
        from sqlalchemy import text

        session.execute(text("ANALYZE"))
    setup_seconds = time.perf_counter() - setup_started
    db.dispose()

    dsn = libpq_conninfo(url)
    work = [(card, account, platforms[i % len(platforms)]) for i, (card, account) in enumerate(cards)]
    warm, spare, work = work[:warm_cards], work[warm_cards : 2 * warm_cards], work[2 * warm_cards :]
    calls_work, spare = spare[: warm_cards // 2], spare[warm_cards // 2 :]
    n = args.load_processes

    def purchase_jobs(items: list) -> list[dict]:  # type: ignore[type-arg]
        return [{"work": items[p::n], "courses": courses, "dsn": dsn} for p in range(n)]

    port = free_port()
    server = start_server(env, port, args.server_workers)
    watch = {"server": server.pid}
    database_pid = postmaster_pid(url)
    if database_pid is not None:
        watch["database"] = database_pid
    ref_seconds = args.ref_seconds or max(8.0, args.seconds / 3)
    try:
        print("warming up ...", file=sys.stderr)
        run_load("purchase", port, purchase_jobs(warm), 4, 4, watch)
        run_load("ping", port, [{"platform": platforms[0]}], 4, 2, watch)
        run_load("search", port, [{"seed": 0}], 4, 2, watch)
        analyze(dsn)
        print(f"complete purchases for {args.seconds:.0f} s ...", file=sys.stderr)
        with WaitSampler(url) as waits:
            buy = run_load("purchase", port, purchase_jobs(work), args.connections, args.seconds, watch)
        print("complete purchases, one client at a time (no contention), 5 s ...", file=sys.stderr)
        alone = run_load("purchase", port, [{"work": spare, "courses": courses, "dsn": dsn}], 1, 5, watch)
        print(f"CPU call by call ({len(calls_work)} purchases, 4 connections) ...", file=sys.stderr)
        per_call = by_call(port, dsn, calls_work, courses, watch)
        print(f"signed ping reference for {ref_seconds:.0f} s ...", file=sys.stderr)
        ping_jobs = [{"platform": platforms[p % len(platforms)]} for p in range(n)]
        ping = run_load("ping", port, ping_jobs, args.connections, ref_seconds, watch)
        print(f"HTTP-only reference (same stack, no database) for {ref_seconds:.0f} s ...", file=sys.stderr)
        floor_cards = [card for card, _, _ in calls_work]
        floor_jobs = [{"platform": platforms[p % len(platforms)], "cards": floor_cards} for p in range(n)]
        floor = run_load("http_only", port, floor_jobs, args.connections, ref_seconds, watch)
        print(f"raw PostgreSQL reference (pgbench, {args.connections * n} connections) for {ref_seconds:.0f} s ...",
              file=sys.stderr)  # fmt: skip
        raw_counts = raw_purchase.prepare(dsn, top_up=True)
        raw_ref = raw_purchase.run(
            dsn, raw_counts, clients=args.connections * n, seconds=ref_seconds, database_pid=database_pid
        )
        print("raw PostgreSQL reference, one connection (no contention), 5 s ...", file=sys.stderr)
        raw_alone = raw_purchase.run(dsn, raw_counts, clients=1, seconds=5, database_pid=database_pid, warm_seconds=1)
        print("raw PostgreSQL reference, every commit without waiting for its flush, 5 s ...", file=sys.stderr)
        raw_quick = raw_purchase.run(
            dsn, raw_counts, clients=args.connections * n, seconds=5, database_pid=database_pid, quick_commits=True
        )
        raw_purchase.drop(dsn)
        print(f"catalogue search over HTTP for {ref_seconds:.0f} s ...", file=sys.stderr)
        search_jobs = [{"seed": p + 1} for p in range(n)]
        found = run_load("search", port, search_jobs, args.search_connections, ref_seconds, watch)
    finally:
        server.terminate()
        server.wait(timeout=30)
    used_accounts = [account for _, account, _ in work[: min(buy["ok"], 2000)]]
    phone_db_us = phone_reads_cpu(url, used_accounts) if used_accounts else 0.0
    print("catalogue search in-process (service and raw SQL) ...", file=sys.stderr)
    inproc = search_in_process(url, 400)
    db.dispose()
    if not args.keep:
        drop_database(url)

    if buy["ran_out"]:
        print("the load ran out of funded cards before the time was up: raise --rate", file=sys.stderr)
    for name, r in (("purchases", buy), ("alone", alone), ("ping", ping), ("http-only", floor), ("search", found)):
        if r["bad"]:
            print(f"refused or failed calls ({name}): {r['bad']}: {r['first_bad']}", file=sys.stderr)

    ok = buy["ok"]
    server_us = buy["cpu_us_per_op"]["server"] or 0
    database_us = (buy["cpu_us_per_op"].get("database") or 0) - phone_db_us
    purchase_cpu = server_us + database_us
    alone_cpu = (alone["cpu_us_per_op"]["server"] or 0) + (alone["cpu_us_per_op"].get("database") or 0) - phone_db_us
    ping_cpu = (ping["cpu_us_per_op"]["server"] or 0) + (ping["cpu_us_per_op"].get("database") or 0)
    if raw_ref["failed"] or raw_ref["errors"]:
        print(f"raw reference: {raw_ref['failed']} failed; {raw_ref['errors']}", file=sys.stderr)
    accounting = purchase_accounting(server_us, database_us, ping, floor, raw_ref)
    search_http_cpu = (found["cpu_us_per_op"]["server"] or 0) + (found["cpu_us_per_op"].get("database") or 0)
    service = inproc["service"]
    raw = inproc["raw_sql"]
    rounds = len(service["times"])
    service_cpu = (service["client_cpu"] + service["db_cpu"]) / rounds * 1e6
    raw_cpu = (raw["client_cpu"] + raw["db_cpu"]) / rounds * 1e6

    def ms(values: list[float], q: float) -> float:
        return round(pct(values, q), 1)

    rows = [
        ("complete purchase (3 signed calls)", f"{buy['per_s']:.1f}/s", "-", "-", f"{purchase_cpu:,.0f}"),
        *[
            (f"  {name}", "", f"{ms(v, 0.5)}", f"{ms(v, 0.99)}", "")
            for name, v in buy["latencies"].items()
        ],
        ("  every call", "", f"{ms(buy['calls'], 0.5)}", f"{ms(buy['calls'], 0.99)}", ""),
        ("one client at a time (no contention)", f"{alone['per_s']:.1f}/s", f"{ms(alone['calls'], 0.5)}",
         f"{ms(alone['calls'], 0.99)}", f"{alone_cpu:,.0f}"),
        ("reference: signed ping", f"{ping['per_s']:.1f}/s", f"{ms(ping['calls'], 0.5)}",
         f"{ms(ping['calls'], 0.99)}", f"{ping_cpu:,.0f}"),
        ("reference: HTTP-only (no database)", f"{floor['per_s']:.1f}/s", f"{ms(floor['calls'], 0.5)}",
         f"{ms(floor['calls'], 0.99)}", f"{floor['cpu_us_per_op']['server'] or 0:,}"),
        ("reference: raw SQL purchase (pgbench)", f"{raw_ref['tps']:.1f}/s", "-", "-", f"{raw_ref['pg_us']:,} PG"),
        ("reference: raw SQL purchase, one client", f"{raw_alone['tps']:.1f}/s", "-", "-",
         f"{raw_alone['pg_us']:,} PG"),
        ("  raw SQL, no commit waits its flush", f"{raw_quick['tps']:.1f}/s", "-", "-", f"{raw_quick['pg_us']:,} PG"),
        ("search GET /pelatihan?q= (HTTP)", f"{found['per_s']:.1f}/s", f"{ms(found['calls'], 0.5)}",
         f"p95 {ms(found['calls'], 0.95)}", f"{search_http_cpu:,.0f}"),
        ("search service, in-process", "", f"{ms(service['times'], 0.5)}", f"p95 {ms(service['times'], 0.95)}",
         f"{service_cpu:,.0f}"),
        ("reference: raw SQL, same tsquery", "", f"{ms(raw['times'], 0.5)}", f"p95 {ms(raw['times'], 0.95)}",
         f"{raw_cpu:,.0f}"),
    ]  # fmt: skip
    print(f"\n{'operation':<38} {'rate':>10} {'p50 ms':>8} {'p99 ms':>10} {'CPU us/op':>10}")
    for row in rows:
        print(f"{row[0]:<38} {row[1]:>10} {row[2]:>8} {row[3]:>10} {row[4]:>10}")
    print(
        f"purchase CPU: web {server_us:,} us + PostgreSQL {database_us:,.0f} us (the load client's OTP read, "
        f"{phone_db_us:.0f} us of PostgreSQL, taken off); load generator {buy['cpu_us_per_op']['load_generator']:,}"
        f" us; other users of the machine: {buy['others_busy_cores']} cores busy; load average "
        f"{os.getloadavg()[0]:.1f}\n"
    )

    print_accounting(accounting)
    print("CPU per call, call by call (4 connections; web processes + PostgreSQL, us):")
    for step, r in per_call.items():
        print(
            f"  {step:<9} {r['web_us']:>7,} + {r['database_us']:>6,} = {r['web_us'] + r['database_us']:>7,}"
            f"  ({r['calls']} calls, {r['failed']} failed)"
        )
    print()
    print("PostgreSQL CPU by process role, us per purchase (the purchases / the raw reference, same run):")
    ours_roles, raw_roles = buy["postgres_by_role_us"], raw_ref.get("pg_by_role_us", {})
    for role in sorted(set(ours_roles) | set(raw_roles), key=lambda r: -(ours_roles.get(r, 0) + raw_roles.get(r, 0))):
        print(f"  {role:<22} {ours_roles.get(role, 0):>7,} / {raw_roles.get(role, 0):>7,}")
    print()
    print("PostgreSQL backends during the purchases (average number, by what they wait on):")
    for key, value in waits.summary().items():
        print(f"  {value:6.2f}  {key}")
    print()
    summary = {
        "purchases_per_s": round(buy["per_s"], 1),
        "call_p99_ms": ms(buy["calls"], 0.99),
        "call_p50_ms": ms(buy["calls"], 0.5),
        "cpu_us_per_purchase": round(purchase_cpu),
        "search_p95_ms": ms(found["calls"], 0.95),
        "search_p50_ms": ms(found["calls"], 0.5),
        "cpu_us_per_op": {"server": server_us, "database": round(database_us), "total": round(purchase_cpu)},
        "purchase_cpu_vs_three_signed_pings": round(purchase_cpu / max(1, 3 * ping_cpu), 2),
        "raw_purchase_pg_us": raw_ref["pg_us"],
        "raw_purchase_tps": round(raw_ref["tps"], 1),
        "purchase_vs_raw": round(purchase_cpu / max(1, raw_ref["pg_us"]), 2),
        "purchase_pg_vs_raw": round(database_us / max(1, raw_ref["pg_us"]), 2),
        "purchases_per_s_vs_raw_tps": round(buy["per_s"] / max(0.1, raw_ref["tps"]), 3),
        "raw_purchase_client_us": raw_ref["client_us"],
        "raw_purchases": raw_ref["purchases"],
        "raw_measured_purchases": raw_ref["measured_purchases"],
        "raw_pgbench_tps": round(raw_ref["pgbench_tps"], 1),
        "raw_failed": raw_ref["failed"] + raw_alone["failed"] + raw_quick["failed"],
        "raw_quick_commits_pg_us": raw_quick["pg_us"],
        "raw_quick_commits_tps": round(raw_quick["tps"], 1),
        "raw_alone_purchase_pg_us": raw_alone["pg_us"],
        "raw_alone_tps": round(raw_alone["tps"], 1),
        "alone_pg_vs_raw_alone": round(
            ((alone["cpu_us_per_op"].get("database") or 0) - phone_db_us) / max(1, raw_alone["pg_us"]), 2
        ),
        "raw_clients": raw_ref["clients"],
        "http_only_cpu_us_per_call": floor["cpu_us_per_op"],
        "http_only_per_s": round(floor["per_s"], 1),
        "http_only_p99_ms": ms(floor["calls"], 0.99),
        "purchase_accounting_us": accounting,
        "search_service_cpu_vs_raw_sql": round(service_cpu / max(1.0, raw_cpu), 2),
        "search_service_p95_vs_raw_sql": round(pct(service["times"], 0.95) / max(0.001, pct(raw["times"], 0.95)), 2),
        "purchases": ok,
        "alone_purchases_per_s": round(alone["per_s"], 1),
        "alone_call_p50_ms": ms(alone["calls"], 0.5),
        "alone_cpu_us_per_purchase": {
            "server": alone["cpu_us_per_op"]["server"],
            "database": round((alone["cpu_us_per_op"].get("database") or 0) - phone_db_us),
        },
        "failed_calls": buy["bad"],
        "cpu_us_by_call": per_call,
        "call_ms_by_kind": {k: {"p50": ms(v, 0.5), "p99": ms(v, 0.99)} for k, v in buy["latencies"].items()},
        "phone_read_db_cpu_us": round(phone_db_us),
        "ping_per_s": round(ping["per_s"], 1),
        "ping_p99_ms": ms(ping["calls"], 0.99),
        "cpu_us_per_ping": ping["cpu_us_per_op"],
        "cpu_us_per_purchase_by_process": buy["cpu_us_per_op"],
        "search_http_per_s": round(found["per_s"], 1),
        "search_http_cpu_us": round(search_http_cpu),
        "search_service_ms": {"p50": ms(service["times"], 0.5), "p95": ms(service["times"], 0.95)},
        "search_service_cpu_us": round(service_cpu),
        "search_raw_sql_ms": {"p50": ms(raw["times"], 0.5), "p95": ms(raw["times"], 0.95)},
        "search_raw_sql_cpu_us": round(raw_cpu),
        "search_median_matches": service["median_hits"],
        "purchase_backends_by_wait": waits.summary(),
        "postgres_by_role_us": {"purchase": buy["postgres_by_role_us"], "raw": raw_ref.get("pg_by_role_us", {})},
        "others_busy_cores": {
            "purchase": buy["others_busy_cores"],
            "ping": ping["others_busy_cores"],
            "http_only": floor["others_busy_cores"],
            "search": found["others_busy_cores"],
        },
        "load_average": round(os.getloadavg()[0], 1),
        "courses": args.courses,
        "courses_by_service": by_service,
        "seconds": args.seconds,
        "setup_seconds": round(setup_seconds),
        "server_workers": args.server_workers,
        "connections": args.connections * n,
        "search_connections": args.search_connections * n,
        "platforms": args.platforms,
        "institutions": args.institutions,
        "cpus": os.cpu_count(),
        "run_id": str(uuid.uuid4())[:8],
        "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
