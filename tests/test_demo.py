"""`prakerja demo` seeds one consistent program: the demo applicant is verified, wins the demo wave through
the priority tier, gets a card and a wallet funded by the announcement, then buys a course on the platform simulator,
attends its sessions and completes it at the institution simulator (over HTTP, through the signed partner API, the
program's clock walking through the story), and buys a second course (a voucher not redeemed yet)."""

from __future__ import annotations

import io
import re
import signal
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from starlette.types import ASGIApp, Receive, Scope, Send

from prakerja.app import create_app
from prakerja.audit import service as audit
from prakerja.audit.models import AuditEntry
from prakerja.audit.rules import words
from prakerja.auth import service as auth
from prakerja.certificates import service as certificates
from prakerja.demo import DEMO_ACCOUNTS, DEMO_BANK_ACCOUNT, DEMO_PASSWORD, prepare
from prakerja.kit.clock import clock
from prakerja.ledger import service as ledger
from prakerja.ledger.models import LedgerTransfer, TransferCode, TransferMode
from prakerja.partners import service as partners
from prakerja.payouts.models import (
    AccountStatus,
    Difference,
    Entitlement,
    InstructionStatus,
    PayoutAccount,
    PayoutBatch,
    PayoutInstruction,
    PayoutRun,
    RunStatus,
    Statement,
)
from prakerja.recipients import service as recipients
from prakerja.registration import service as registration
from prakerja.simulators import dukcapil
from prakerja.training.models import Purchase
from prakerja.training.service import ratings, settlement
from tests.conftest import free_port
from tests.test_stopping import _port_closed, _start, _stop
from tests.web.test_shell import login

WEBINAR, SELF_PACED = 1_200_000, 900_000
"""The prices of the two demo courses the demo applicant buys (the demo platform sells at the curated price)."""
INCENTIVE = 600_000
"""The post-training incentive of the demo wave's scheme (2023-normal: once)."""


def payments_url() -> str:
    """The payment simulator's address for one test (a free port: tests run side by side)."""
    return f"http://127.0.0.1:{free_port()}"


class Recorder:
    """The program's web application, noting every request it serves."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.calls: list[tuple[str, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.calls.append((scope["method"], scope["path"]))
        await self.app(scope, receive, send)


def organisation_of(session: Session, email: str) -> uuid.UUID:
    """The partner organisation the login works for (whose portal it lands on)."""
    account = auth.account_by_email(session, email)
    assert account is not None
    return partners.membership(session, account.id).partner_id


def test_demo_is_consistent_and_idempotent(clean_db: Engine) -> None:
    before = clock.now()
    payments = payments_url()
    prepared = prepare(program=create_app, payments_url=payments)
    again = prepare(program=create_app, payments_url=payments)
    assert (again.logins, again.orders, again.paid) == (prepared.logins, [], {})  # a second run changes nothing
    assert clock.now() - before < timedelta(hours=1)  # the clock walked through the story and came back
    assert {role for role, _, _ in prepared.logins} == {role.value for role, _, _ in DEMO_ACCOUNTS}
    with Session(clean_db) as session:
        account = auth.authenticate(session, email=DEMO_ACCOUNTS[0][1], password=prepared.logins[0][2])
        person = registration.applicant_for_account(session, account.id)
        assert person is not None and person.identity_verified
        recipient = recipients.recipient_by_account(session, account.id)
        assert recipient is not None and len(recipient.card_number) == 16
        wallet = ledger.wallet(session, person.applicant_id)
        assert wallet is not None
        assert (wallet.balance, wallet.available) == (3_500_000 - WEBINAR, 3_500_000 - WEBINAR - SELF_PACED)
        assert ledger.check(session).ok
        assert audit.verify(session).ok
        said = session.execute(
            select(AuditEntry.action, AuditEntry.actor_role, AuditEntry.object_type).distinct()
        ).all()
        unsaid = [
            (action, role, kind)
            for action, role, kind in said
            if action not in words.ACTIONS or role not in words.ROLES or kind not in words.OBJECTS
        ]
        assert len(said) > 20 and unsaid == []  # the audit page has words for all the demo writes
        session.rollback()


def test_the_demo_applicant_has_trained_and_has_a_voucher(clean_db: Engine) -> None:
    """What the demo applicant finds after signing in: a completed course with every session attended and a
    certificate that verifies, and a second course bought (its voucher waiting), both in the past."""
    now = clock.now()
    prepare(program=create_app, payments_url=payments_url())
    with Session(clean_db) as session:
        account = auth.account_by_email(session, DEMO_ACCOUNTS[0][1])
        assert account is not None
        latest, first = ratings.my_trainings(session, account.id)
        assert (first.status, first.completion_status, first.amount) == ("completed", "accepted", WEBINAR)
        assert first.codes and {code.state for code in first.codes} == {"used"}
        assert max(code.starts_at for code in first.codes) < now
        assert first.certificate_id is not None
        document = certificates.credential_of(certificates.get(session, str(first.certificate_id)))
        assert certificates.verify_credential(session, document).valid
        assert (latest.status, latest.amount, latest.codes) == ("confirmed", SELF_PACED, [])
        assert latest.voucher_code and latest.created_at < now

        # ... and the organisations of the demo's institution and platform logins are the ones that sold and taught
        bought = {p.id: p for p in session.scalars(select(Purchase))}
        institution, platform = (organisation_of(session, DEMO_ACCOUNTS[n][1]) for n in (3, 4))
        assert {(p.institution_id, p.platform_id) for p in bought.values()} == {(institution, platform)}
        today = clock.today_jakarta().date()
        paid = settlement.statement(session, partner_id=institution, start=today - timedelta(days=30), end=today)
        assert ([line.purchase_id for line in paid.lines], paid.payable) == ([str(first.purchase_id)], WEBINAR)

        # ... and she rated and reviewed it, linked her bank account and was paid her incentive
        assert first.rated
        owed = list(session.scalars(select(Entitlement)))
        assert [(e.status.value, e.blocked_reason, e.amount) for e in owed] == [("paid", None, INCENTIVE)]


def test_the_demo_buys_only_through_the_partner_api(clean_db: Engine) -> None:
    """The demo's purchases are the platform simulator's orders (same purchase ids, order ids, vouchers), made with
    the program's partner API; every purchase transfer in the ledger belongs to one of them."""
    program = Recorder(create_app())
    prepared = prepare(program=lambda: program, payments_url=payments_url())
    orders = {order["purchase_id"]: order for order in prepared.orders}
    assert len(orders) == 2 and all(order["voucher_code"] for order in orders.values())
    calls = program.calls
    assert calls.count(("POST", "/partner/v1/purchases")) == 2
    assert sum(1 for method, path in calls if method == "POST" and path.endswith("/confirm")) == 2
    assert calls.count(("POST", "/partner/v1/completions")) == 1
    with Session(clean_db) as session:
        purchases = {str(p.id): p for p in session.scalars(select(Purchase))}
        assert purchases.keys() == orders.keys()
        for purchase_id, purchase in purchases.items():
            assert purchase.platform_order_id == orders[purchase_id]["order_id"]
            assert purchase.voucher_code == orders[purchase_id]["voucher_code"]
        started = session.scalars(select(AuditEntry).where(AuditEntry.action == "training.purchase_started")).all()
        assert sorted(e.object_id for e in started) == sorted(purchases)
        assert {e.actor_role for e in started} == {"partner:platform"}
        transfers = session.scalars(
            select(LedgerTransfer).where(LedgerTransfer.code.in_([TransferCode.purchase, TransferCode.commission]))
        ).all()
        pending = {p.pending_transfer_id for p in purchases.values()}
        captured = {p.capture_transfer_id for p in purchases.values()} - {None}
        assert {t.id for t in transfers if t.mode is TransferMode.pending} == pending
        assert {t.id for t in transfers if t.mode is not TransferMode.pending} == captured
        assert all(t.ref_id in purchases for t in transfers if t.mode is TransferMode.pending)
        assert {p.status.value for p in purchases.values()} == {"completed", "confirmed"}


def _signed_in(app: ASGIApp, email: str) -> TestClient:
    client = TestClient(app, base_url="http://testserver")
    answer = login(client, email, DEMO_PASSWORD)
    assert answer.status_code == 303, answer.text[:500]
    return client


def test_the_demo_pays_her_incentive_through_the_payment_simulator(clean_db: Engine) -> None:
    """Issue 14 item 7: the demo links the demo applicant's bank account through the payment simulator's inquiry and
    OTP, she rates and reviews her course, and today's payout run pays her incentive through the simulator (a
    pain.001 file); the day's statement is reconciled. What the simulator paid is exactly the program's succeeded
    instructions, the ledger balances, and each payments role finds it on its pages."""
    payments = payments_url()
    prepared = prepare(program=create_app, payments_url=payments)
    assert prepared.payments is None and _port_closed(int(payments.rsplit(":", 1)[1]), "/_health")
    with Session(clean_db) as session:
        instructions = list(session.scalars(select(PayoutInstruction)))
        assert [(i.status, i.amount) for i in instructions] == [(InstructionStatus.succeeded, INCENTIVE)]
        at_simulator = {
            (code, p["end_to_end_id"], p["amount"], p["status"], p["times"])
            for code, found in prepared.paid.items()
            for p in found
        }
        assert at_simulator == {("bni", instructions[0].end_to_end_id, INCENTIVE, "succeeded", 1)}
        (run,) = session.scalars(select(PayoutRun))
        assert (run.status, run.run_date) == (RunStatus.completed, clock.today_jakarta().date())
        (batch,) = session.scalars(select(PayoutBatch))
        (linked,) = session.scalars(select(PayoutAccount).where(PayoutAccount.status == AccountStatus.active))
        assert linked.number_masked.endswith(DEMO_BANK_ACCOUNT[-4:])
        (statement,) = session.scalars(select(Statement))
        assert (statement.entries, statement.control_sum) == (1, INCENTIVE)
        assert session.scalars(select(Difference)).all() == []
        assert ledger.payouts_in_flight(session, batch.id).balance == 0
        assert ledger.check(session).ok
        assert audit.verify(session).ok
        session.rollback()

    app = create_app()
    partner = _signed_in(app, DEMO_ACCOUNTS[5][1]).get("/portal/mitra/pembayaran")
    assert partner.status_code == 200 and batch.message_id in partner.text
    officer = _signed_in(app, DEMO_ACCOUNTS[1][1]).get("/pmo/pembayaran")
    assert officer.status_code == 200 and str(run.id) in officer.text
    incentives = _signed_in(app, DEMO_ACCOUNTS[0][1]).get("/insentif-saya")
    assert incentives.status_code == 200 and 'data-testid="entitlement-paid"' in incentives.text

    # ... and another applicant can sign in with the printed password and still has her account to link
    (second,) = [email for role, email, _ in prepared.logins if role == "applicant" and email != DEMO_ACCOUNTS[0][1]]
    accounts = _signed_in(app, second).get("/rekening-saya")
    assert accounts.status_code == 200 and 'data-testid="account-' not in accounts.text and "OVO" in accounts.text

    again = prepare(program=create_app, payments_url=payments)
    assert again.paid == {}
    with Session(clean_db) as session:
        assert session.scalar(select(func.count()).select_from(PayoutInstruction)) == 1


# --- a new applicant on a real `prakerja demo` ------------------------------------------------------------------

NEWCOMER = 2
"""A living adult of the demo's civil-registry population who is not the demo applicant."""


def _csrf(http: httpx.Client, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', http.get(path).text)
    assert match, f"no CSRF field on {path}"
    return match.group(1)


def _post(http: httpx.Client, path: str, data: dict[str, str], **kwargs: object) -> httpx.Response:
    """A form sent from its page (the phone step's two forms are on /profil/telepon)."""
    page = path.rsplit("/", 1)[0] if path.endswith(("/kirim", "/kode")) else path
    return http.post(path, data={**data, "csrf_token": _csrf(http, page)}, **kwargs)  # type: ignore[arg-type]


def _until(what: str, find: Callable[[], str | None], seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while True:
        found = find()
        if found:
            return found
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.3)


def _in_mailbox(http: httpx.Client, pattern: str) -> Callable[[], str | None]:
    def find() -> str | None:
        match = re.search(pattern, http.get("/dev/kotak-pesan").text)
        return match.group(1) if match else None

    return find


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 500), (210, 190, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_new_applicant_is_verified_and_joins_on_the_demo(database_url: str, clean_db: Engine, tmp_path: Path) -> None:
    """Journeys issue: the demo runs the civil-registry simulator on its population, so a new applicant's identity
    check finishes and they can join the open wave; one SIGTERM stops the demo and the simulator."""
    registry = free_port()
    proc, port = _start(
        ["demo"],
        database_url,
        env={
            "PRAKERJA_HOME": str(tmp_path / "home"),
            "PRAKERJA_DUKCAPIL_URL": f"http://127.0.0.1:{registry}",
            "PRAKERJA_PAYMENTS_SIM_URL": payments_url(),
            "PRAKERJA_LOG_LEVEL": "WARNING",  # the pipe is read at the end: it must not fill up meanwhile
        },
    )
    person = dukcapil.person(NEWCOMER)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            signed_up = _post(
                http, "/daftar", {"email": "yohanes@example.org", "name": "Yohanes", "password": "kata-sandi-rahasia"}
            )
            assert signed_up.status_code == 303, signed_up.text[:500]
            assert "/dev/kotak-pesan" in http.get(signed_up.headers["location"]).text  # where the mail is
            signed_in = _post(http, "/masuk", {"email": "yohanes@example.org", "password": "kata-sandi-rahasia"})
            assert signed_in.status_code == 303, signed_in.text[:500]  # sign-up does not sign in (security issue)
            link = _until("the verification e-mail", _in_mailbox(http, r"(/verifikasi-email/[^\s\"<]+)"))
            assert http.get(link).status_code in (200, 303)
            assert 'data-testid="email-verified"' in http.get("/profil").text

            steps: list[tuple[str, dict[str, str]]] = [
                (
                    "/profil/identitas",
                    {
                        "nik": person["nik"],
                        "kk": person["kk"],
                        "birth_date": person["birth_date"],
                        "sex": person["sex"],
                    },
                ),
                (
                    "/profil/nama",
                    {"full_name": person["full_name"], "mother_maiden_name": person["mother_maiden_name"]},
                ),
                (
                    "/profil/alamat",
                    {
                        "ktp_address": "Jl. Kenanga No. 7",
                        "ktp_district": f"{person['regency']}01",
                        "domicile_same": "ya",
                    },
                ),
                (
                    "/profil/latar",
                    {
                        "education": "sma",
                        "job_status": "job_seeker",
                        "has_disability": "tidak",
                        "former_migrant_worker": "tidak",
                        "is_citizen": "ya",
                        "declared_student": "tidak",
                    },
                ),
            ]
            for path, data in steps:
                saved = _post(http, path, {k: str(v) for k, v in data.items()})
                assert saved.status_code == 303, (path, saved.text[:800])
            assert _post(http, "/profil/telepon/kirim", {"phone": "0812 3456 7890"}).status_code == 303
            code = _until("the SMS code", _in_mailbox(http, r"\b(\d{6})\b"))
            assert _post(http, "/profil/telepon/kode", {"code": code}).status_code == 303
            photo = {"ktp_photo": ("ktp.png", _png(), "image/png")}
            assert _post(http, "/profil/foto", {}, files=photo).status_code == 303
            assert _post(http, "/profil/pernyataan", {"declaration": "ya", "consent": "ya"}).status_code == 303

            def verified() -> str | None:
                status = re.search(r'data-testid="identity-status" data-status="(\w+)"', http.get("/profil").text)
                assert status is not None and status.group(1) in ("pending", "matched"), status
                return "yes" if status.group(1) == "matched" else None

            _until("the identity check", verified)
            wave = re.search(r'action="/gelombang/([0-9a-f-]{36})/gabung"', http.get("/gelombang").text)
            assert wave is not None
            joined = http.post(
                f"/gelombang/{wave.group(1)}/gabung",
                data={"consent": "yes", "csrf_token": _csrf(http, "/gelombang")},
            )
            assert joined.status_code == 303, joined.text[:800]
            assert joined.headers["location"].endswith("/tanda-terima")
            assert http.get(joined.headers["location"]).status_code == 200
        stderr = _stop(proc, signal.SIGTERM)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr[-2000:]
    assert _port_closed(port) and _port_closed(registry, "/_health")
