"""The signed-call admission and the refusal log on a loop connection (``*_on_loop``, ADR 0021) answer as their
``Session`` twins do: the same caller, the same refusals in the same order, the same rows."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja import db
from prakerja.audit.service import Actor
from prakerja.kit.clock import utcnow
from prakerja.kit.errors import DomainError
from prakerja.partners import rules
from prakerja.partners import service as credentials
from prakerja.partners.models import PartnerRefusal, RateWindow, SeenSignature
from tests.conftest import run_async
from tests.partners.conftest import Partner, create_partner


def on_loop(work: Callable[[asyncpg.Connection], Awaitable[Any]]) -> Any:
    async def go() -> Any:
        async with db.on_loop() as conn:
            return await work(conn)

    return run_async(go())


def signed(partner: Partner, path: bytes, *, secret: str | None = None, stamp: int | None = None) -> dict[str, Any]:
    timestamp = str(int(utcnow().timestamp()) if stamp is None else stamp)
    signature = rules.sign((secret or partner.secret).encode(), partner.client_code, timestamp, "GET", path, b"")
    return {
        "client_code": partner.client_code,
        "timestamp": timestamp,
        "signature": signature,
        "method": "GET",
        "path": path,
        "body": b"",
        "limit_per_minute": 2,
    }


def admit_on_session(session: Session, **kw: Any) -> credentials.PartnerCaller:
    with db.get_engine().connect() as own:
        own.execution_options(isolation_level="AUTOCOMMIT")
        try:
            return credentials.admit(session, own, **kw)
        finally:
            session.rollback()


def admit_on_loop(**kw: Any) -> credentials.PartnerCaller:
    return on_loop(lambda conn: credentials.admit_on_loop(conn, **kw))


def outcome(call: Callable[[], Any]) -> Any:
    try:
        return call()
    except DomainError as error:
        return type(error), error.status_code, error.code, error.details


@pytest.fixture(autouse=True)
def _no_cached_credentials() -> Any:
    credentials.forget_cached_credentials()
    yield
    credentials.forget_cached_credentials()


class TestSigningCredential:
    def test_same_credential_with_revoked_and_live_keys(self, session: Session) -> None:
        partner = create_partner(session)
        credentials.issue_key(
            session, partner_id=partner.partner_id, actor=Actor.system(), client_code=partner.client_code
        )
        credentials.revoke_key(session, key_id=partner.key_id, actor=Actor.system(), reason="rotated")
        session.commit()
        found = on_loop(lambda conn: credentials.signing_credential_on_loop(conn, partner.client_code))
        assert found == credentials.signing_credential(session, partner.client_code)
        assert found is not None and len(found.keys) == 2 and found.keys[0].revoked and found.usable

    def test_suspended_partner_and_unknown_code(self, session: Session) -> None:
        partner = create_partner(session, role="platform", name="Platform Satu")
        credentials.set_status(session, partner_id=partner.partner_id, status="suspended", actor=Actor.system())
        session.commit()
        found = on_loop(lambda conn: credentials.signing_credential_on_loop(conn, partner.client_code))
        assert found == credentials.signing_credential(session, partner.client_code)
        assert found is not None and not found.usable
        assert on_loop(lambda conn: credentials.signing_credential_on_loop(conn, "nobody")) is None


class TestAdmit:
    def test_same_caller_and_same_rows(self, session: Session, frozen_clock: object) -> None:
        partner = create_partner(session)
        on_session = admit_on_session(session, **signed(partner, b"/partner/v1/ping?n=1"))
        credentials.forget_cached_credentials()  # the loop twin reads the credential itself
        loop = admit_on_loop(**signed(partner, b"/partner/v1/ping?n=2"))
        assert loop == on_session.__class__(**{**on_session.__dict__, "signature": loop.signature})
        assert session.scalar(select(func.count()).select_from(SeenSignature)) == 2
        assert session.scalar(select(RateWindow.hits)) == 2

    def test_same_refusals_in_the_same_order(self, session: Session, frozen_clock: object) -> None:
        partner = create_partner(session)
        path = b"/partner/v1/ping"
        now = int(utcnow().timestamp())
        cases: list[dict[str, Any]] = [
            {**signed(partner, path), "signature": None},  # missing header
            signed(partner, path, stamp=now - 3600),  # stale
            {**signed(partner, path), "client_code": "x" * 65},  # unknown (too long)
            {**signed(partner, path), "client_code": "unknown-code"},  # unknown
            signed(partner, path, secret="not-the-secret"),  # bad signature
        ]
        for case in cases:
            sync = outcome(lambda case=case: admit_on_session(session, **case))
            credentials.forget_cached_credentials()
            loop = outcome(lambda case=case: admit_on_loop(**case))
            assert loop == sync and isinstance(loop, tuple), case
        # a replay, then the rate limit (2 a minute): each refused the same way
        first = signed(partner, path + b"?n=1")
        admit_on_loop(**first)
        assert outcome(lambda: admit_on_loop(**first))[2] == "replayed_request"
        assert outcome(lambda: admit_on_session(session, **first))[2] == "replayed_request"
        admit_on_session(session, **signed(partner, path + b"?n=2"))
        loop = outcome(lambda: admit_on_loop(**signed(partner, path + b"?n=3")))
        sync = outcome(lambda: admit_on_session(session, **signed(partner, path + b"?n=4")))
        assert loop == sync and loop[2] == "rate_limited"

    def test_revoked_key_refused_from_a_cached_credential(self, session: Session, frozen_clock: object) -> None:
        partner = create_partner(session)
        admit_on_loop(**signed(partner, b"/partner/v1/ping?n=1"))  # cached now
        credentials.revoke_key(session, key_id=partner.key_id, actor=Actor.system(), reason="leaked")
        session.commit()
        assert outcome(lambda: admit_on_loop(**signed(partner, b"/partner/v1/ping?n=2")))[2] == "credential_revoked"


class TestRefusalRow:
    COLUMNS = ("partner_id", "credential_id", "client_code", "signed", "method", "endpoint", "code", "status", "remote")

    def rows(self, session: Session) -> list[tuple[Any, ...]]:
        session.rollback()
        found = session.scalars(select(PartnerRefusal).order_by(PartnerRefusal.id))
        return [tuple(getattr(r, c) for c in self.COLUMNS) for r in found]

    def test_same_rows_signed_claimed_unknown_and_empty(self, session: Session) -> None:
        partner = create_partner(session)
        caller = admit_on_session(session, **{**signed(partner, b"/p"), "limit_per_minute": 100})
        cases: list[dict[str, Any]] = [
            {"caller": caller, "client_code": partner.client_code},
            {"caller": None, "client_code": partner.client_code},  # claimed, not verified
            {"caller": None, "client_code": "tak-dikenal \u00e9\x00" + "y" * 80},  # unknown, cut and cleaned
            {"caller": None, "client_code": None},
        ]
        for case in cases:
            args = {**case, "method": "POST\x01LONGMETHOD", "endpoint": "/partner/v1/x", "code": "c", "status": 401}
            credentials.record_refusal(session, **args, remote="127.0.0.1")
            session.commit()
            on_loop(lambda conn, args=args: credentials.record_refusal_on_loop(conn, **args, remote="127.0.0.1"))
        rows = self.rows(session)
        assert rows[0::2] == rows[1::2]
        assert rows[0][:4] == (partner.partner_id, caller.credential_id, partner.client_code, True)
        assert rows[2][:4] == (partner.partner_id, caller.credential_id, partner.client_code, False)
        assert rows[4][:2] == (None, None) and rows[6][:3] == (None, None, "")
