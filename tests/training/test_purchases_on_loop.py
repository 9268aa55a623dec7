"""Purchase creation and confirmation on a loop connection (``create_on_loop``, ``confirm_on_loop``: ADR 0014's rule
that a ``*_on_loop`` function gives the same answer as its ``Session`` twin). Two equal worlds (an institution with a
webhook endpoint, a platform, a course, two funded participants), one served by the ``Session`` functions and one by
the loop functions: the same responses and the same rows written (purchases, redeem codes, ledger transfers and
balances, messages, jobs, audit entries, training and webhook events, deliveries), after ids, codes and digests are
named by their role. Then every refusal of the contract on the loop functions: its code, and nothing written."""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from prakerja import db
from prakerja.audit.service import Actor
from prakerja.catalog import service as catalog
from prakerja.catalog.models import Course
from prakerja.kit.clock import clock
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import new_id
from prakerja.kit.pii import blind_index, decrypt
from prakerja.notifications.models import Channel
from prakerja.partners import service as partners
from prakerja.partners.models import PartnerRole
from prakerja.partners.service import PartnerCaller
from prakerja.recipients import service as recipients
from prakerja.training import service
from prakerja.training.models import Purchase, PurchaseStatus
from prakerja.training.schemas import PurchaseCreate
from tests.conftest import run_async
from tests.training.conftest import (
    BALANCE,
    PRICE,
    Participant,
    Partner,
    create_partner,
    last_otp,
    make_course,
    make_participant,
)

T = TypeVar("T")


def on_loop(work: Callable[[Any], Awaitable[T]]) -> T:
    """``work(conn)`` inside a transaction on a loop connection, as the signed frame runs it: committed when it
    returns, rolled back when it raises."""

    async def run() -> T:
        async with db.on_loop() as conn, conn.transaction():
            return await work(conn)

    return run_async(run())


def caller_of(platform: Partner) -> PartnerCaller:
    return PartnerCaller(
        credential_id=platform.key_id,
        client_code=platform.client_code,
        key_id=platform.key_id,
        partner_id=platform.partner_id,
        partner_name="platform",
        role=PartnerRole.platform,
        timestamp=0,
        signature="",
    )


def order(participant: Participant, course: Course, account: str = "akun-1") -> PurchaseCreate:
    return PurchaseCreate(
        card_number=participant.card_number,
        course_id=str(course.id),
        platform_order_id="order-1",
        platform_account_id=account,
    )


@dataclass
class World:
    institution: Partner
    platform: Partner
    course: Course
    people: list[Participant]
    endpoint_id: uuid.UUID

    def names(self) -> dict[str, str]:
        found = {
            str(self.institution.partner_id): "institution",
            str(self.platform.partner_id): "platform",
            str(self.platform.key_id): "credential",
            str(self.course.id): "course",
            str(self.endpoint_id): "endpoint",
        }
        for n, person in enumerate(self.people):
            found[str(person.applicant_id)] = f"participant{n}"
            found[str(person.recipient_id)] = f"recipient{n}"
            found[str(person.account_id)] = f"account{n}"
        return found


def make_world(session: Session, tag: str) -> World:
    institution = create_partner(session, name=f"Lembaga {tag}", role="institution")
    platform = create_partner(session, name=f"Platform {tag}", role="platform")
    endpoint = partners.add_webhook_endpoint(
        session, partner_id=institution.partner_id, url="https://lembaga.example/hook", actor=Actor.system()
    )
    session.commit()
    course = make_course(session, institution, platform)
    people = [make_participant(session), make_participant(session)]
    return World(institution, platform, course, people, endpoint.endpoint_id)


# -- what was written ----------------------------------------------------------------------------------------------

TABLES = {
    "training_purchases": "id",
    "training_redeem_codes": "valid_from",
    "ledger_transfers": "seq",
    "notifications_messages": "id",
    "procrastinate_jobs": "id",
    "audit_entries": "id",
    "partner_webhook_events": "partner_id",
    "partner_webhook_deliveries": "event_id",
}
"""Each table a purchase writes, and the column its new rows are compared in the order of (per call)."""

VOLATILE = {
    "training_purchases": {"otp_hash", "platform_account_index"},
    "ledger_transfers": {"seq", "debit_prev_hash", "credit_prev_hash", "hash", "debit_link", "credit_link"},
    "procrastinate_jobs": {"id"},
    "audit_entries": {"id", "body_digest"},
}
"""Columns that differ by construction between two equal calls (serials, digests over ids, keyed hashes)."""

UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def table_rows(session: Session) -> dict[str, dict[str, dict[str, Any]]]:
    session.rollback()
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for table in TABLES:
        rows = session.execute(text(f"SELECT * FROM {table}")).mappings().all()
        found[table] = {str(row["id"]): dict(row) for row in rows}
    return found


def balances(session: Session) -> dict[str, tuple[int, int, int, int]]:
    rows = session.execute(
        text("SELECT id, debits_pending, debits_posted, credits_pending, credits_posted FROM ledger_accounts")
    ).all()
    return {str(r[0]): (r[1], r[2], r[3], r[4]) for r in rows}


def account_owners(session: Session) -> dict[str, str]:
    rows = session.execute(text("SELECT id, kind, owner_id FROM ledger_accounts")).all()
    return {str(r[0]): f"{r[1]}:{r[2]}" for r in rows}


class Namer:
    """Ids by role: the world's entities by name, every other id by order of appearance; codes as ``<code>``."""

    def __init__(self, known: dict[str, str], codes: set[str]) -> None:
        self.known = dict(known)
        self.codes = codes

    def __call__(self, value: Any) -> Any:
        if isinstance(value, uuid.UUID):
            value = str(value)
        if isinstance(value, dict):
            return {k: self(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        if isinstance(value, bytes | memoryview):
            return "<bytes>"
        if isinstance(value, str):
            if value in self.codes:
                return "<code>"
            value = re.sub(r"^([a-z_.]+):[0-9a-f]{40}$", r"\1:<digest of ids>", value)
            return UUID_TEXT.sub(lambda m: self.known.setdefault(m.group(0), f"id{len(self.known)}"), value)
        return value


def written(session: Session, before: dict[str, dict[str, dict[str, Any]]], namer: Namer) -> dict[str, list[Any]]:
    after = table_rows(session)
    out: dict[str, list[Any]] = {}
    for table, key in TABLES.items():
        new = [row for rid, row in after[table].items() if rid not in before[table]]
        new.sort(key=lambda row: namer(row[key]) if table.endswith("events") else row[key])
        cleaned = []
        for row in new:
            row = {k: v for k, v in row.items() if k not in VOLATILE.get(table, set())}
            if table == "notifications_messages":
                row["recipient"] = "<phone>"
                body = decrypt(bytes(row["body"]), "notifications_messages.body")
                row["body"] = re.sub(r"OTP Kartu Prakerja: \d{6}", "OTP Kartu Prakerja: <otp>", body)
            cleaned.append(namer(row))
        out[table] = cleaned
    return out


def balance_changes(
    session: Session, before: dict[str, tuple[int, int, int, int]], namer: Namer
) -> dict[str, tuple[int, ...]]:
    after = balances(session)
    owners = account_owners(session)
    return {
        namer(owners[aid]): tuple(a - b for a, b in zip(totals, before.get(aid, (0, 0, 0, 0)), strict=True))
        for aid, totals in after.items()
        if totals != before.get(aid)
    }


def codes_in_db(session: Session) -> set[str]:
    rows = session.execute(
        text("SELECT code FROM training_redeem_codes UNION ALL SELECT voucher_code FROM training_purchases")
    ).all()
    return {r[0] for r in rows if r[0]}


def session_twin(session: Session, world: World, person: Participant) -> tuple[Any, Any]:
    caller = caller_of(world.platform)
    created = service.purchases.create(
        session,
        platform_id=world.platform.partner_id,
        data=order(person, world.course, f"akun-{world.people.index(person)}"),
        actor=caller.actor,
    )
    session.commit()
    clock.advance(timedelta(seconds=1))
    confirmed = service.purchases.confirm(
        session,
        purchase_id=created.purchase_id,
        platform_id=world.platform.partner_id,
        otp=last_otp(session, person.account_id),
        actor=caller.actor,
    )
    session.commit()
    return created, confirmed


def loop_twin(session: Session, world: World, person: Participant) -> tuple[Any, Any]:
    caller = caller_of(world.platform)
    created = on_loop(
        lambda conn: service.purchases.create_on_loop(
            conn, caller=caller, data=order(person, world.course, f"akun-{world.people.index(person)}")
        )
    )
    clock.advance(timedelta(seconds=1))
    otp = last_otp(session, person.account_id)
    confirmed = on_loop(
        lambda conn: service.purchases.confirm_on_loop(conn, caller=caller, purchase_id=created.purchase_id, otp=otp)
    )
    return created, confirmed


def observe(session: Session, world: World, run: Callable[[Session, World, Participant], tuple[Any, Any]]) -> list[Any]:
    """Both participants buy and confirm (the first sale opens the institution's payable, the second finds it):
    each call's answers and what it wrote, named by role."""
    seen: list[Any] = []
    for person in world.people:
        before, totals = table_rows(session), balances(session)
        start = clock.now()
        created, confirmed = run(session, world, person)
        clock.freeze(start)
        namer = Namer(world.names(), codes_in_db(session))
        seen.append(
            {
                "created": namer(created.model_dump()),
                "confirmed": namer(confirmed.model_dump()),
                "rows": written(session, before, namer),
                "balances": balance_changes(session, totals, namer),
            }
        )
    return seen


@pytest.mark.usefixtures("frozen_clock")
class TestTwins:
    def test_the_loop_functions_write_what_the_session_functions_write(self, session: Session) -> None:
        by_session = observe(session, make_world(session, "A"), session_twin)
        by_loop = observe(session, make_world(session, "B"), loop_twin)
        for n, (got, want) in enumerate(zip(by_loop, by_session, strict=True)):
            for part in ("created", "confirmed", "balances"):
                assert got[part] == want[part], (n, part)
            for table in TABLES:
                assert got["rows"][table] == want["rows"][table], (n, table)
        assert by_loop == by_session
        first = by_loop[0]
        assert first["confirmed"]["status"] == "confirmed"
        assert first["confirmed"]["balance_after"] == BALANCE - PRICE
        assert len(first["rows"]["training_redeem_codes"]) == 5
        assert [row["task_name"] for row in first["rows"]["procrastinate_jobs"]] == [
            "notifications.deliver",
            "partners.deliver_webhook",
        ]
        assert [row["action"] for row in first["rows"]["audit_entries"]] == [
            "ledger.purchase_authorised",
            "training.purchase_started",
            "training.purchase_confirmed",
        ]
        assert first["balances"]["training_wallet:participant0"] == (PRICE, 0, 0, 0)

    def test_the_audit_chain_stays_whole(self, session: Session) -> None:
        from prakerja.audit import service as audit

        world = make_world(session, "C")
        loop_twin(session, world, world.people[0])
        session.rollback()
        assert audit.verify(session).ok

    def test_an_email_when_no_phone_is_verified(self, session: Session) -> None:
        worlds = [make_world(session, "D"), make_world(session, "E")]
        for world in worlds:
            session.execute(
                text("UPDATE registration_applicants SET phone_verified_at = NULL WHERE account_id = :a"),
                {"a": world.people[0].account_id},
            )
        session.commit()
        subjects = []
        for world, run in zip(worlds, (session_twin, loop_twin), strict=True):
            run(session, world, world.people[0])
            subjects.append(
                session.execute(
                    text("SELECT channel, subject FROM notifications_messages WHERE account_id = :a"),
                    {"a": world.people[0].account_id},
                ).all()
            )
        assert subjects[0] == subjects[1] == [("email", "Kartu Prakerja: kode OTP pembelian")]


# -- refusals ------------------------------------------------------------------------------------------------------


def refused(session: Session, work: Callable[[Any], Awaitable[Any]]) -> DomainError:
    before = table_rows(session)
    with pytest.raises(DomainError) as caught:
        on_loop(work)
    after = table_rows(session)
    assert {t: set(rows) for t, rows in after.items()} == {t: set(rows) for t, rows in before.items()}
    return caught.value


@pytest.fixture
def world(session: Session, frozen_clock: object) -> World:
    return make_world(session, "R")


def create(world: World, data: PurchaseCreate, platform: Partner | None = None) -> Callable[[Any], Awaitable[Any]]:
    caller = caller_of(platform or world.platform)
    return lambda conn: service.purchases.create_on_loop(conn, caller=caller, data=data)


def confirm(world: World, purchase_id: str, otp: str) -> Callable[[Any], Awaitable[Any]]:
    caller = caller_of(world.platform)
    return lambda conn: service.purchases.confirm_on_loop(conn, caller=caller, purchase_id=purchase_id, otp=otp)


class TestCreateRefusals:
    def test_card_not_found(self, session: Session, world: World) -> None:
        data = order(world.people[0], world.course).model_copy(update={"card_number": "9999888877776666"})
        assert refused(session, create(world, data)).code == "card_not_found"

    def test_card_revoked(self, session: Session, world: World) -> None:
        recipients.revoke(session, world.people[0].recipient_id)
        session.commit()
        assert refused(session, create(world, order(world.people[0], world.course))).code == "card_revoked"

    def test_card_revoked_past_the_deadline(self, session: Session, world: World) -> None:
        clock.advance(timedelta(days=16))
        assert refused(session, create(world, order(world.people[0], world.course))).code == "card_revoked"

    def test_card_not_active(self, session: Session, world: World) -> None:
        person = make_participant(session, funded=False)
        assert refused(session, create(world, order(person, world.course))).code == "card_not_active"

    def test_course_not_listed(self, session: Session, world: World) -> None:
        data = order(world.people[0], world.course).model_copy(update={"course_id": str(new_id())})
        assert refused(session, create(world, data)).code == "course_not_listed"
        other = create_partner(session, name="Platform Tanpa Daftar", role="platform")
        assert refused(session, create(world, order(world.people[0], world.course), other)).code == "course_not_listed"

    def test_insufficient_balance(self, session: Session, world: World) -> None:
        person = make_participant(session, balance=PRICE - 1)
        error = refused(session, create(world, order(person, world.course)))
        assert (error.code, error.details) == ("insufficient_balance", {"amount": PRICE})

    def test_first_training_unfinished_and_platform_account_bound(self, session: Session, world: World) -> None:
        first, second = world.people
        created = on_loop(create(world, order(first, world.course)))
        on_loop(confirm(world, created.purchase_id, last_otp(session, first.account_id)))
        assert refused(session, create(world, order(first, world.course))).code == "first_training_unfinished"
        assert refused(session, create(world, order(second, world.course))).code == "platform_account_bound"
        assert on_loop(create(world, order(second, world.course, account="akun-2"))).status == "otp_sent"


class TestConfirmRefusals:
    def started(self, session: Session, world: World) -> tuple[str, str]:
        person = world.people[0]
        created = on_loop(create(world, order(person, world.course)))
        return created.purchase_id, last_otp(session, person.account_id)

    def test_purchase_not_found(self, session: Session, world: World) -> None:
        purchase_id, otp = self.started(session, world)
        assert refused(session, confirm(world, str(new_id()), otp)).code == "purchase_not_found"
        assert refused(session, confirm(world, "not-an-id", otp)).code == "purchase_not_found"
        other = caller_of(create_partner(session, name="Platform Lain", role="platform"))
        error = refused(
            session,
            lambda conn: service.purchases.confirm_on_loop(conn, caller=other, purchase_id=purchase_id, otp=otp),
        )
        assert error.code == "purchase_not_found"

    def test_purchase_state(self, session: Session, world: World) -> None:
        purchase_id, otp = self.started(session, world)
        on_loop(confirm(world, purchase_id, otp))
        error = refused(session, confirm(world, purchase_id, otp))
        assert (error.code, error.details) == ("purchase_state", {"status": "confirmed"})

    def test_otp_expired(self, session: Session, world: World) -> None:
        purchase_id, otp = self.started(session, world)
        clock.advance(timedelta(minutes=6))
        assert refused(session, confirm(world, purchase_id, otp)).code == "otp_expired"

    def test_otp_invalid_counted_on_its_own(self, session: Session, world: World) -> None:
        """A wrong code writes nothing in the call's transaction; the count is one autocommit statement after it,
        and the last allowed wrong code goes to the ``Session`` path, which cancels the purchase (429)."""
        purchase_id, otp = self.started(session, world)
        wrong = "000000" if otp != "000000" else "111111"
        caller = caller_of(world.platform)

        async def count() -> DomainError | None:
            async with db.on_loop() as conn:
                return await service.purchases.count_wrong_otp_on_loop(conn, caller=caller, purchase_id=purchase_id)

        for attempt in range(1, 5):
            assert refused(session, confirm(world, purchase_id, wrong)).code == "otp_invalid"
            answer = run_async(count())
            assert answer is not None
            assert (answer.code, answer.details) == ("otp_invalid", {"attempts_left": 5 - attempt})
        assert refused(session, confirm(world, purchase_id, wrong)).code == "otp_invalid"
        assert run_async(count()) is None
        session.rollback()
        purchase = session.get(Purchase, uuid.UUID(purchase_id))
        assert purchase is not None
        assert (purchase.otp_attempts, purchase.status) == (4, PurchaseStatus.otp_sent)
        with db.unit_of_work() as own:
            error = service.purchases.count_wrong_otp(
                own, purchase_id=purchase_id, platform_id=world.platform.partner_id, actor=caller.actor
            )
        assert error.code == "otp_attempts_exceeded"
        assert refused(session, confirm(world, purchase_id, otp)).code == "purchase_state"


def test_course_sessions_on_loop_answer_as_the_session_query(session: Session, world: World) -> None:
    found = on_loop(lambda conn: _sessions(conn, world.course.id))
    expected = catalog.course_sessions(session, world.course.id)
    assert [(s.id, s.starts_at, s.training_type, s.cancelled_at) for s in found] == [
        (s.id, s.starts_at, s.training_type, s.cancelled_at) for s in expected
    ]


async def _sessions(conn: Any, course_id: uuid.UUID) -> Any:
    return await (await catalog.course_sessions_on_loop(conn, course_id))()


def test_codes_are_drawn_from_the_whole_alphabet_uniformly() -> None:
    """``draw_code`` maps a random byte's low five bits to the 32 characters: every one of them can come out."""
    from prakerja.training.service.purchases import CODE_ALPHABET, draw_code

    assert len(set(CODE_ALPHABET)) == 32
    drawn = "".join(draw_code(10) for _ in range(400))
    assert set(drawn) == set(CODE_ALPHABET)
    assert len(draw_code(12)) == 12


def test_each_read_on_the_loop_answers_as_its_session_twin(session: Session, world: World) -> None:
    """The confirmation's reads on the loop, one by one, against the ``Session`` functions they stand for."""
    from prakerja.ledger import service as ledger

    person = world.people[0]
    unfunded = make_participant(session, funded=False)

    async def reads(conn: Any) -> dict[str, Any]:
        later = {
            "wallet": await ledger.wallet_on_loop(conn, person.applicant_id),
            "no_wallet": await ledger.wallet_on_loop(conn, unfunded.applicant_id),
            "endpoints": await partners.active_endpoints_on_loop(
                conn, [world.platform.partner_id, world.institution.partner_id, new_id()]
            ),
        }
        return {name: await read() for name, read in later.items()}

    got = on_loop(reads)
    assert got["wallet"].model_dump() == ledger.wallet(session, person.applicant_id).model_dump()  # type: ignore[union-attr]
    assert got["no_wallet"] is None
    assert got["endpoints"] == {
        partner: [e.id for e in partners.webhook_endpoints(session, partner) if e.status.value == "active"]
        for partner in (world.platform.partner_id, world.institution.partner_id)
    }
    assert got["endpoints"][world.institution.partner_id] == [world.endpoint_id]


def test_a_code_already_taken_is_drawn_again_and_written_once(
    session: Session, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The confirmation checks its codes in the statement that writes them (ADR 0029, 0032): when a drawn
    code is already a voucher or a redeem code, that statement writes nothing at all (the purchase, codes, events,
    webhooks and audit entry are all gated on the confirmation), the taken codes are drawn again and the statement
    sent again; the purchase ends confirmed with fresh codes, its events, webhook delivery, job and audit entry
    written once. A code drawn twice within one confirmation is drawn again before anything is sent."""
    from prakerja.training.service import purchases

    first, second = world.people
    created = on_loop(create(world, order(first, world.course, "akun-a")))
    on_loop(confirm(world, created.purchase_id, last_otp(session, first.account_id)))
    taken_voucher, taken_code = session.execute(
        text(
            "SELECT p.voucher_code, min(c.code) FROM training_purchases p JOIN training_redeem_codes c"
            " ON c.purchase_id = p.id WHERE p.id = :id GROUP BY p.voucher_code"
        ),
        {"id": uuid.UUID(created.purchase_id)},
    ).one()
    sessions = len(catalog.course_sessions(session, world.course.id))
    assert sessions >= 2
    real = purchases.draw_code
    # the voucher already given, then a redeem code already given and the same fresh code twice
    scripted = [taken_voucher, taken_code] + ["ABCDEFGHJK"] * 2
    drawn: list[str] = []

    def draw(length: int) -> str:
        code = scripted.pop(0) if scripted else real(length)
        drawn.append(code)
        return code

    monkeypatch.setattr(purchases, "draw_code", draw)
    clock.advance(timedelta(seconds=1))
    second_created = on_loop(create(world, order(second, world.course, "akun-b")))
    otp = last_otp(session, second.account_id)
    confirmed = on_loop(confirm(world, second_created.purchase_id, otp))
    session.rollback()

    assert not scripted  # every scripted code was drawn
    assert confirmed.voucher_code not in (taken_voucher, taken_code)
    rows = session.execute(
        text("SELECT code FROM training_redeem_codes WHERE purchase_id = :id"),
        {"id": uuid.UUID(second_created.purchase_id)},
    ).all()
    codes = [r[0] for r in rows]
    assert len(codes) == sessions and len(set(codes)) == sessions
    assert taken_code not in codes and taken_voucher not in codes
    assert codes.count("ABCDEFGHJK") <= 1
    purchase = session.get(Purchase, uuid.UUID(second_created.purchase_id))
    assert purchase is not None
    assert (purchase.status, purchase.voucher_code) == (PurchaseStatus.confirmed, confirmed.voucher_code)
    counts = session.execute(
        text(
            "SELECT (SELECT count(*) FROM audit_entries WHERE action = 'training.purchase_confirmed'"
            " AND object_id = :oid), (SELECT count(*) FROM partner_webhook_events"
            " WHERE body::jsonb->'data'->>'purchase_id' = :oid)"
        ),
        {"oid": second_created.purchase_id},
    ).one()
    assert tuple(counts) == (1, 2)
    deliveries = session.execute(
        text(
            "SELECT count(*) FROM partner_webhook_deliveries d JOIN partner_webhook_events e ON e.id = d.event_id"
            " WHERE e.body::jsonb->'data'->>'purchase_id' = :oid"
        ),
        {"oid": second_created.purchase_id},
    ).scalar_one()
    jobs = session.execute(
        text(
            "SELECT count(*) FROM procrastinate_jobs j JOIN partner_webhook_deliveries d"
            " ON j.args->>'delivery_id' = d.id::text JOIN partner_webhook_events e ON e.id = d.event_id"
            " WHERE e.body::jsonb->'data'->>'purchase_id' = :oid"
        ),
        {"oid": second_created.purchase_id},
    ).scalar_one()
    assert (deliveries, jobs) == (1, 1)  # the institution's one endpoint, queued once


# -- the confirmation in two statements (ADR 0032) -----------------------------------------------------------------


def statements_of(work: Callable[[Any], Awaitable[T]]) -> tuple[T | DomainError, list[str]]:
    """``work(conn)`` as :func:`on_loop` runs it, and the statements it sent (each its own round trip on asyncpg),
    the transaction's own BEGIN and COMMIT or ROLLBACK left out, and asyncpg's look-up of a result's array types
    (made once per connection, the first time a statement reads such a type: three statements on a fresh one)."""
    sent: list[str] = []

    def log(record: Any) -> None:
        if "typeinfo_tree" not in record.query and "set_config('jit'" not in record.query:
            sent.append(record.query)

    async def run() -> T | DomainError:
        async with db.on_loop() as conn:
            try:
                async with conn.transaction():
                    conn.add_query_logger(log)
                    try:
                        return await work(conn)
                    finally:
                        conn.remove_query_logger(log)
            except DomainError as error:
                return error

    return run_async(run()), sent


class TestTwoStatements:
    """The confirmation reads once (the purchase locked, its sessions, the endpoints, the wallet) and writes once
    (everything else); a refusal is the read alone."""

    def started(self, session: Session, world: World) -> tuple[str, str]:
        return TestConfirmRefusals.started(TestConfirmRefusals(), session, world)

    def test_a_confirmation_is_one_read_and_one_write(self, session: Session, world: World) -> None:
        purchase_id, otp = self.started(session, world)
        answer, sent = statements_of(confirm(world, purchase_id, otp))
        assert not isinstance(answer, DomainError)
        assert answer.status == "confirmed"
        assert len(sent) == 2, sent
        assert "FOR UPDATE OF p" in sent[0]
        for table in (
            "training_purchases",
            "training_redeem_codes",
            "partner_webhook_events",
            "partner_webhook_deliveries",
            "procrastinate_defer_jobs_v1",
            "audit_entries",
        ):
            assert table in sent[1], table

    @pytest.mark.parametrize("case", ["wrong_code", "expired", "state", "other_platform", "unknown"])
    def test_a_refusal_is_the_read_alone_and_writes_nothing(self, session: Session, world: World, case: str) -> None:
        purchase_id, otp = self.started(session, world)
        caller = caller_of(world.platform)
        if case == "wrong_code":
            otp = "000000" if otp != "000000" else "111111"
        elif case == "expired":
            clock.advance(timedelta(minutes=6))
        elif case == "state":
            on_loop(confirm(world, purchase_id, otp))
        elif case == "other_platform":
            caller = caller_of(create_partner(session, name="Platform Lain", role="platform"))
        else:
            purchase_id = str(new_id())
        before = table_rows(session)
        answer, sent = statements_of(
            lambda conn: service.purchases.confirm_on_loop(conn, caller=caller, purchase_id=purchase_id, otp=otp)
        )
        assert isinstance(answer, DomainError)
        assert (
            answer.code
            == {
                "wrong_code": "otp_invalid",
                "expired": "otp_expired",
                "state": "purchase_state",
                "other_platform": "purchase_not_found",
                "unknown": "purchase_not_found",
            }[case]
        )
        assert len(sent) == 1
        after = table_rows(session)
        assert after == before

    def test_the_read_holds_the_purchase_row_lock(self, session: Session, world: World) -> None:
        """The read locks the purchase (``FOR UPDATE``) until the transaction ends: another transaction cannot lock
        it meanwhile; once the confirmation committed, it finds the purchase confirmed."""
        from sqlalchemy.exc import OperationalError

        purchase_id, otp = self.started(session, world)
        seen: list[str] = []

        async def confirm_and_probe(conn: Any) -> Any:
            answer = await service.purchases.confirm_on_loop(
                conn, caller=caller_of(world.platform), purchase_id=purchase_id, otp=otp
            )
            with db.unit_of_work() as other:
                try:
                    other.execute(
                        text("SELECT 1 FROM training_purchases WHERE id = :id FOR UPDATE NOWAIT"),
                        {"id": uuid.UUID(purchase_id)},
                    )
                except OperationalError as error:
                    seen.append(type(error.orig).__name__)
            return answer

        on_loop(confirm_and_probe)
        assert seen == ["LockNotAvailable"]
        session.rollback()
        purchase = session.get(Purchase, uuid.UUID(purchase_id))
        assert purchase is not None and purchase.status is PurchaseStatus.confirmed

    def test_the_read_answers_as_the_reads_it_replaced(self, session: Session, world: World) -> None:
        """The sessions (one cancelled), the partners' endpoints and the wallet read with the locked purchase, against
        ``course_sessions_on_loop``, ``active_endpoints_on_loop`` and ``wallet_on_loop``."""
        from prakerja.ledger import service as ledger
        from prakerja.training import repository
        from prakerja.training.service.purchases import _CONFIRM_READ

        purchase_id, _ = self.started(session, world)
        sessions = catalog.course_sessions(session, world.course.id)
        catalog.cancel_session(session, session_id=sessions[1].id, actor=Actor.system(), reason="libur")
        session.commit()
        person = world.people[0]

        async def both(conn: Any) -> tuple[Any, ...]:
            row = await repository.purchase_for_confirm_on_loop(conn, _CONFIRM_READ, uuid.UUID(purchase_id))
            assert row is not None
            return (
                row,
                await (await catalog.course_sessions_on_loop(conn, world.course.id))(),
                await (
                    await partners.active_endpoints_on_loop(
                        conn, [world.platform.partner_id, world.institution.partner_id]
                    )
                )(),
                await (await ledger.wallet_on_loop(conn, person.applicant_id))(),
            )

        row, slots, endpoints, wallet = on_loop(both)
        assert catalog.sessions_of_row(row) == slots
        assert any(s.cancelled_at is not None for s in slots)
        assert partners.endpoints_of_row(row["wh_partner_ids"], row["wh_endpoint_ids"]) == endpoints
        found = ledger.account_of(row["wallet"])
        assert found is not None and wallet is not None
        assert found.model_dump() == wallet.model_dump()
        assert found.available == BALANCE - PRICE


def test_the_purchase_indexes_keep_their_guarantees(session: Session, world: World) -> None:
    """Migration 0036 (ADR 0029): the voucher's unique index covers only the rows that have one, and still refuses
    a voucher given twice; purchases awaiting their code (no voucher) are any number; the expiry index holds only
    the purchases awaiting their code; the webhook events' partner lookups use the unique index."""
    indexes = dict(
        session.execute(
            text(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
                " WHERE indrelid IN ('training_purchases'::regclass, 'partner_webhook_events'::regclass)"
            )
        ).all()
    )
    assert "UNIQUE" in indexes["uq_training_purchases_voucher_code"]
    assert "WHERE (voucher_code IS NOT NULL)" in indexes["uq_training_purchases_voucher_code"]
    assert "'otp_sent'" in indexes["ix_training_purchases_otp_sent_expires_at"]
    assert "ix_training_purchases_status_otp_expires_at" not in indexes
    assert "ix_partner_webhook_events_partner_id" not in indexes
    first, second = world.people
    created = on_loop(create(world, order(first, world.course, "akun-a")))
    clock.advance(timedelta(seconds=1))
    waiting = on_loop(create(world, order(second, world.course, "akun-b")))
    confirmed = on_loop(confirm(world, created.purchase_id, last_otp(session, first.account_id)))
    session.rollback()
    assert session.execute(text("SELECT count(*) FROM training_purchases WHERE voucher_code IS NULL")).scalar_one() == 1
    with pytest.raises(IntegrityError):
        session.execute(
            text("UPDATE training_purchases SET voucher_code = :v WHERE id = :id"),
            {"v": confirmed.voucher_code, "id": uuid.UUID(waiting.purchase_id)},
        )
    session.rollback()
    clock.advance(timedelta(minutes=10))
    with db.unit_of_work() as own:
        assert service.purchases.expire_otps(own, now=clock.now()) == 1
    session.rollback()
    purchase = session.get(Purchase, uuid.UUID(waiting.purchase_id))
    assert purchase is not None and purchase.status is PurchaseStatus.cancelled


def test_a_redeem_code_refers_to_its_purchase_and_the_purchases_institution(session: Session, world: World) -> None:
    """Migration 0040 (ADR 0040): the redeem codes' two references (to the purchase, to the institution) are one, to
    the purchase's (institution, id): every code written by either confirmation carries its purchase's institution,
    which is a partner (the purchase's own reference); a code of a purchase that does not exist, or of another
    institution than its purchase's (even an existing partner), is refused by the database; no code refers to the
    partners' table any more (no key-share lock on the institution's row); the purchases' index on ``course_id``
    (read by nothing) is gone, and their index on ``institution_id`` is the reference's unique target."""
    first, second = world.people
    created = on_loop(create(world, order(first, world.course, "akun-a")))
    on_loop(confirm(world, created.purchase_id, last_otp(session, first.account_id)))
    session.rollback()
    clock.advance(timedelta(seconds=1))
    session_twin(session, world, second)  # the Session's confirmation (service.purchases.confirm) writes codes too
    session.rollback()
    codes = session.execute(
        text(
            "SELECT c.purchase_id, c.institution_id, p.institution_id, a.id FROM training_redeem_codes c"
            " JOIN training_purchases p ON p.id = c.purchase_id LEFT JOIN auth_partners a ON a.id = c.institution_id"
        )
    ).all()
    sessions = catalog.course_sessions(session, world.course.id)
    assert len({row[0] for row in codes}) == 2 and len(codes) == 2 * len(sessions)
    assert all(row[1] == row[2] == row[3] == world.institution.partner_id for row in codes)
    one = session.execute(text("SELECT id, purchase_id FROM training_redeem_codes LIMIT 1")).one()
    for institution, purchase in (
        (world.platform.partner_id, one.purchase_id),  # a partner, but not the purchase's institution
        (world.institution.partner_id, new_id()),  # no such purchase
    ):
        with pytest.raises(IntegrityError, match="fk_training_redeem_codes_purchase_institution"):
            session.execute(
                text("UPDATE training_redeem_codes SET institution_id = :i, purchase_id = :p WHERE id = :id"),
                {"i": institution, "p": purchase, "id": one.id},
            )
        session.rollback()
    with pytest.raises(IntegrityError, match="fk_training_redeem_codes_purchase_institution"):
        session.execute(  # a purchase's institution cannot change under its codes
            text("UPDATE training_purchases SET institution_id = :i WHERE id = :p"),
            {"i": world.platform.partner_id, "p": one.purchase_id},
        )
    session.rollback()
    references = session.execute(
        text(
            "SELECT conname, confrelid::regclass::text FROM pg_constraint"
            " WHERE conrelid = 'training_redeem_codes'::regclass AND contype = 'f' ORDER BY conname"
        )
    ).all()
    assert [tuple(r) for r in references] == [
        ("fk_training_redeem_codes_purchase_institution", "training_purchases"),
        ("fk_training_redeem_codes_session_id_catalog_course_sessions", "catalog_course_sessions"),
    ]
    indexes = dict(
        session.execute(
            text(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
                " WHERE indrelid = 'training_purchases'::regclass"
            )
        ).all()
    )
    assert "ix_training_purchases_course_id" not in indexes
    assert "ix_training_purchases_institution_id" not in indexes  # the reference's target serves its lists
    assert "UNIQUE" in indexes["uq_training_purchases_institution_id_id"]
    assert "(institution_id, id)" in indexes["uq_training_purchases_institution_id_id"]


# -- the creation in two statements (ADR 0031) ---------------------------------------------------------------------


def statements(work: Callable[[Any], Awaitable[Any]]) -> tuple[Any, list[str]]:
    """``work(conn)`` as :func:`on_loop` runs it, and the statements it sent (asyncpg's query logger: one a round
    trip), the transaction's own ``BEGIN`` and ``COMMIT`` left out, and asyncpg's reading of a type it meets for
    the first time on a connection (once a connection, not a call)."""

    async def run() -> tuple[Any, list[str]]:
        sent: list[str] = []

        def log(record: Any) -> None:
            if not any(mark in record.query for mark in ("typeinfo_tree", "'jit'")):
                sent.append(record.query)

        async with db.on_loop() as conn, conn.transaction():
            conn.add_query_logger(log)
            try:
                answer = await work(conn)
            finally:
                conn.remove_query_logger(log)
        return answer, sent

    return run_async(run())


@pytest.mark.usefixtures("frozen_clock")
class TestCreationStatements:
    def test_one_read_and_one_write_and_two_more_on_an_institutions_first_sale(self, session: Session) -> None:
        world = make_world(session, "S")
        first, second = world.people
        created, sent = statements(create(world, order(first, world.course, "akun-a")))
        assert created.status == "otp_sent"
        assert len(sent) == 4  # the read, the payable opened (insert, then its id), the writes
        assert "ledger_create_transfer" in sent[-1] and "notifications_messages" in sent[-1]
        assert "INSERT INTO ledger_accounts" in sent[1]
        clock.advance(timedelta(seconds=1))
        created, sent = statements(create(world, order(second, world.course, "akun-b")))
        assert created.status == "otp_sent" and len(sent) == 2
        assert "selection_recipients" in sent[0] and "ledger_create_transfer" in sent[1]

    def test_a_refusal_is_decided_by_the_read_alone(self, session: Session) -> None:
        world = make_world(session, "T")
        data = order(world.people[0], world.course).model_copy(update={"course_id": str(new_id())})
        with pytest.raises(DomainError) as caught:
            statements(create(world, data))
        assert caught.value.code == "course_not_listed"
        bad_shape = order(world.people[0], world.course).model_copy(update={"card_number": "12ab"})
        with pytest.raises(DomainError) as caught:
            statements(create(world, bad_shape))
        assert caught.value.code == "card_not_found"

    def test_the_parts_of_the_read_answer_as_their_session_twins(self, session: Session) -> None:
        """Each domain's part of the creation's read, read by its owner, against the ``Session`` function it stands
        for: the card holder, the course and its listing, the purchases by status and the platform account's
        binding, the wallet, the institution's payable, where the code goes."""
        from prakerja.auth import service as auth
        from prakerja.ledger import service as ledger
        from prakerja.registration import service as registration
        from prakerja.training import repository
        from prakerja.training.service import people, purchases

        world = make_world(session, "U")
        person, other = world.people
        unfunded = make_participant(session, funded=False)
        session.execute(
            text("UPDATE registration_applicants SET phone_verified_at = NULL WHERE account_id = :a"),
            {"a": unfunded.account_id},
        )
        session.commit()

        def read(card: str, course_id: uuid.UUID | None = world.course.id, account: str = "akun-1") -> Any:
            index = people.card_index(card)
            assert index is not None
            params = {
                "card_index": index,
                "course_id": course_id,
                "platform_id": world.platform.partner_id,
                "account_index": blind_index(account, "platform_account"),
            }
            return on_loop(lambda conn: repository.checkout_on_loop(conn, purchases._CHECKOUT, params))

        def session_facts(who: Participant, account: str) -> tuple[Any, Any]:
            return repository.status_counts_and_bound(
                session,
                who.applicant_id,
                platform_id=world.platform.partner_id,
                account_index=blind_index(account, "platform_account"),
                recipient_id=who.recipient_id,
            )

        got = read(person.card_number)
        recipient = recipients.recipient_by_card(session, person.card_number)
        assert recipient is not None
        assert people.card_holder_of(got.holder) == recipients.CardHolder(
            recipient.id,
            recipient.applicant_id,
            recipient.account_id,
            recipient.status,
            recipient.funded_at,
            recipient.first_purchase_deadline,
        )
        found = catalog.sellable_course(session, course_id=world.course.id, platform_id=world.platform.partner_id)
        assert found is not None
        course = catalog.sellable_course_of(got.course)
        assert course is not None
        assert (course.id, course.institution_id, course.title, course.price) == (
            found[0].id,
            found[0].institution_id,
            found[0].title,
            found[1].price,
        )
        wallet = ledger.wallet(session, person.applicant_id)
        assert wallet is not None
        assert ledger.account_of(got.wallet).model_dump() == wallet.model_dump()
        assert got.payable_id is None  # the institution has sold nothing yet
        assert (repository.counts_of(got.counts), got.bound) == session_facts(person, "akun-1") == ({}, False)
        profile = registration.identity.find(session, person.account_id)
        assert profile is not None and profile.phone
        assert people.otp_contact_of(got.phone, got.email) == people.OtpContact(Channel.sms, profile.phone)

        # after a confirmed purchase: the counts, the binding of the platform account, the payable
        created = on_loop(create(world, order(person, world.course, "akun-1")))
        on_loop(confirm(world, created.purchase_id, last_otp(session, person.account_id)))
        session.rollback()
        got = read(person.card_number)
        assert (repository.counts_of(got.counts), got.bound) == session_facts(person, "akun-1")
        assert repository.counts_of(got.counts) == {PurchaseStatus.confirmed: 1} and not got.bound
        got_other = read(other.card_number, account="akun-1")
        assert (repository.counts_of(got_other.counts), got_other.bound) == session_facts(other, "akun-1")
        assert got_other.bound
        payable = ledger.institution_payable(session, world.institution.partner_id)
        assert got.payable_id == payable.id

        # a course the platform does not list, an unfunded card with no verified phone, an unknown card
        assert catalog.sellable_course_of(read(person.card_number, course_id=new_id()).course) is None
        assert catalog.sellable_course_of(read(person.card_number, course_id=None).course) is None
        got = read(unfunded.card_number)
        assert got.wallet is None and ledger.wallet(session, unfunded.applicant_id) is None
        account = auth.get_account(session, unfunded.account_id)
        assert account is not None
        assert people.otp_contact_of(got.phone, got.email) == people.OtpContact(Channel.email, account.email)
        assert read("9999888877776666") is None

    def test_an_unlisted_course_read_with_a_suspended_listing(self, session: Session) -> None:
        world = make_world(session, "V")
        session.execute(
            text("UPDATE catalog_listings SET status = 'suspended' WHERE course_id = :c"), {"c": world.course.id}
        )
        session.commit()
        assert refused(session, create(world, order(world.people[0], world.course))).code == "course_not_listed"

    def test_no_message_when_there_is_nowhere_to_send_the_code(
        self, session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """As :func:`send_otp` with neither a verified phone nor an account (the creation's statement without the
        message and its job): the purchase, the reserve and both audit entries are written, no message."""
        from prakerja.training.service import people

        world = make_world(session, "W")
        person = world.people[0]
        monkeypatch.setattr(people, "otp_contact_of", lambda phone, email: None)
        before = table_rows(session)
        created, sent = statements(create(world, order(person, world.course)))
        assert created.status == "otp_sent" and "notifications_messages" not in sent[-1]
        after = table_rows(session)
        new = {table: set(after[table]) - set(before[table]) for table in TABLES}
        assert len(new["training_purchases"]) == 1 and len(new["ledger_transfers"]) == 1
        assert len(new["audit_entries"]) == 2
        assert not new["notifications_messages"] and not new["procrastinate_jobs"]

    def test_a_refusal_of_the_posting_function_writes_nothing(
        self, session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """The balance read was enough, but another purchase reserved it before the writes: the ledger's posting
        function refuses (it locks the wallet and checks the balance itself), the call answers
        ``insufficient_balance`` and the statement's other writes are rolled back with it."""
        from prakerja.ledger import service as ledger
        from prakerja.training import repository
        from prakerja.training.service import purchases

        world = make_world(session, "X")
        person = world.people[0]
        read = repository.checkout_on_loop

        async def read_then_spend(conn: Any, statement: Any, params: Any, *frame: Any) -> Any:
            found = await read(conn, statement, params, *frame)
            with db.unit_of_work() as own:  # another transaction reserves most of the balance meanwhile
                ledger.authorise_purchase(
                    own,
                    transfer_id=new_id(),
                    participant_id=person.applicant_id,
                    institution_id=world.institution.partner_id,
                    amount=BALANCE - PRICE + 1,
                    purchase_ref="elsewhere",
                    timeout=timedelta(hours=1),
                    actor=Actor.system(),
                )
            return found

        monkeypatch.setattr(purchases.repository, "checkout_on_loop", read_then_spend)
        before = table_rows(session)
        with pytest.raises(DomainError) as caught:
            on_loop(create(world, order(person, world.course)))
        assert (caught.value.code, caught.value.details) == ("insufficient_balance", {"amount": PRICE})
        after = table_rows(session)
        new = {table: set(after[table]) - set(before[table]) for table in TABLES}
        assert len(new["ledger_transfers"]) == 1  # the other reserve only
        assert len(new["audit_entries"]) == 1  # its own entry
        assert not new["training_purchases"] and not new["notifications_messages"] and not new["procrastinate_jobs"]


def test_parts_naming_the_same_parameter_are_refused() -> None:
    from prakerja.training import repository

    with pytest.raises(ValueError, match="card_index"):
        repository.Composed.of("SELECT 1", "SELECT %(card_index)s", "SELECT %(card_index)s, %(other)s")
    assert repository.Composed.of("SELECT %(a)s, %(b)s, %(a)s", "SELECT %(a)s", "SELECT %(b)s").names == ("a", "b")


# -- every refusal of the creation, the loop twin against the Session twin -----------------------------------------


def twin_refusal(session: Session, world: World, data: PurchaseCreate, platform: Partner | None = None) -> DomainError:
    """The same refusal from :func:`create_on_loop` and :func:`create` (class, code, details), neither writing
    anything; the loop's."""
    loop_error = refused(session, create(world, data, platform))
    before = table_rows(session)
    with pytest.raises(DomainError) as caught:
        service.purchases.create(
            session,
            platform_id=(platform or world.platform).partner_id,
            data=data,
            actor=caller_of(platform or world.platform).actor,
        )
    session.rollback()
    assert {t: set(rows) for t, rows in table_rows(session).items()} == {t: set(rows) for t, rows in before.items()}
    sync_error = caught.value
    assert (type(loop_error), loop_error.code, loop_error.details) == (
        type(sync_error),
        sync_error.code,
        sync_error.details,
    )
    return loop_error


class TestEveryCreationRefusalAsTheSessionTwin:
    """Each refusal of ``POST /partner/v1/purchases`` (contract section 1), and where two apply the one the
    ``Session`` function gives first."""

    def test_card_not_found(self, session: Session, world: World) -> None:
        base = order(world.people[0], world.course)
        for card in ("9999888877776666", "12ab", " "):
            assert twin_refusal(session, world, base.model_copy(update={"card_number": card})).code == "card_not_found"
        unknown_card_and_course = base.model_copy(update={"card_number": "9999888877776666", "course_id": "x"})
        assert twin_refusal(session, world, unknown_card_and_course).code == "card_not_found"

    def test_card_revoked(self, session: Session, world: World) -> None:
        revoked, late = world.people
        recipients.revoke(session, revoked.recipient_id)
        session.commit()
        assert twin_refusal(session, world, order(revoked, world.course)).code == "card_revoked"
        unlisted = order(revoked, world.course).model_copy(update={"course_id": str(new_id())})
        assert twin_refusal(session, world, unlisted).code == "card_revoked"
        clock.advance(timedelta(days=16))
        assert twin_refusal(session, world, order(late, world.course)).code == "card_revoked"

    def test_card_not_active(self, session: Session, world: World) -> None:
        unfunded = make_participant(session, funded=False)
        assert twin_refusal(session, world, order(unfunded, world.course)).code == "card_not_active"
        unlisted = order(unfunded, world.course).model_copy(update={"course_id": "bukan-id"})
        assert twin_refusal(session, world, unlisted).code == "card_not_active"

    def test_course_not_listed(self, session: Session, world: World) -> None:
        person = world.people[0]
        for course_id in (str(new_id()), "bukan-id"):
            data = order(person, world.course).model_copy(update={"course_id": course_id})
            assert twin_refusal(session, world, data).code == "course_not_listed"
        other = create_partner(session, name="Platform Tanpa Daftar", role="platform")
        assert twin_refusal(session, world, order(person, world.course), other).code == "course_not_listed"
        session.execute(
            text("UPDATE catalog_listings SET status = 'suspended' WHERE course_id = :c"), {"c": world.course.id}
        )
        session.commit()
        assert twin_refusal(session, world, order(person, world.course)).code == "course_not_listed"

    def test_platform_account_bound_then_first_training_unfinished(self, session: Session, world: World) -> None:
        first, second = world.people
        for person, account in ((first, "akun-1"), (second, "akun-2")):
            created = on_loop(create(world, order(person, world.course, account)))
            on_loop(confirm(world, created.purchase_id, last_otp(session, person.account_id)))
            clock.advance(timedelta(seconds=1))
        # the second participant, training under way, pays with the first one's platform account: bound first
        assert twin_refusal(session, world, order(second, world.course, "akun-1")).code == "platform_account_bound"
        assert twin_refusal(session, world, order(second, world.course, "akun-2")).code == "first_training_unfinished"
        third = make_participant(session)
        assert twin_refusal(session, world, order(third, world.course, "akun-1")).code == "platform_account_bound"

    def test_insufficient_balance(self, session: Session, world: World) -> None:
        poor = make_participant(session, balance=PRICE - 1)
        error = twin_refusal(session, world, order(poor, world.course))
        assert (error.code, error.details) == ("insufficient_balance", {"amount": PRICE})

    def test_first_training_unfinished_before_insufficient_balance(self, session: Session, world: World) -> None:
        person = make_participant(session, balance=PRICE + PRICE // 2)
        created = on_loop(create(world, order(person, world.course, "akun-9")))
        on_loop(confirm(world, created.purchase_id, last_otp(session, person.account_id)))
        assert twin_refusal(session, world, order(person, world.course, "akun-9")).code == "first_training_unfinished"
