"""The signed-call bookkeeping (replay record and rate count) is one committed statement, and a credential read
once is reused only while it is current (docs/benchmarks.md, Marketplace): a change takes effect at the next
request."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import asyncpg
import pytest
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from prakerja.audit.service import Actor
from prakerja.kit.clock import clock
from prakerja.partners import service as credentials
from prakerja.partners.models import PartnerKey, RateWindow, SeenSignature
from tests.partners.conftest import Partner, SignedClient
from tests.partners.test_exclusion_import_api import assert_error


@pytest.fixture
def statements(clean_db: Engine, monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every statement sent, through the engine or on a loop connection (the ping is on the loop frame, ADR
    0021)."""
    seen: list[str] = []

    def log(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        seen.append(statement)

    def logged(name: str):  # type: ignore[no-untyped-def]
        sent = getattr(asyncpg.Connection, name)

        async def loop_log(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
            seen.append(str(query))
            return await sent(self, query, *args, **kwargs)

        return loop_log

    for name in ("execute", "fetch", "fetchrow", "fetchval"):  # a loop connection's statements (asyncpg, ADR 0028)
        monkeypatch.setattr(asyncpg.Connection, name, logged(name))
    event.listen(clean_db, "before_cursor_execute", log)
    yield seen
    event.remove(clean_db, "before_cursor_execute", log)


def ping(client: SignedClient, partner: Partner, n: int, secret: str | None = None):  # type: ignore[no-untyped-def]
    return client.request("GET", f"/partner/v1/ping?n={n}", partner, secret=secret)[0]


class TestOneStatement:
    def test_a_cached_credential_costs_one_statement(
        self, signed_client: SignedClient, ministry: Partner, statements: list[str]
    ) -> None:
        assert ping(signed_client, ministry, 1).status_code == 200  # reads the credential
        statements.clear()
        assert ping(signed_client, ministry, 2).status_code == 200
        assert len(statements) == 1, statements
        assert "partner_seen_signatures" in statements[0] and "partner_rate_windows" in statements[0]

    def test_signature_and_count_survive_a_request_that_fails_later(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        # admitted, then refused by the route (no Idempotency-Key): the request's own transaction rolls back
        first, request = signed_client.request("POST", "/partner/v1/exclusion-lists/imports", ministry)
        assert_error(first, 400, "idempotency_key_required")
        assert_error(signed_client.send(request), 401, "replayed_request")
        session.rollback()
        assert session.scalar(select(func.count()).select_from(SeenSignature)) == 1
        assert session.scalar(select(RateWindow.hits)) == 1  # the replay is not counted

    def test_replay_refused_from_a_cached_credential(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        assert ping(signed_client, ministry, 1).status_code == 200
        first, request = signed_client.request("GET", "/partner/v1/ping?n=2", ministry)
        assert first.status_code == 200
        clock.advance(timedelta(seconds=30))
        assert_error(signed_client.send(request), 401, "replayed_request")


class TestCachedCredentialIsCurrent:
    def test_revoked_key_refused_at_the_next_request(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        assert ping(signed_client, ministry, 1).status_code == 200
        credentials.revoke_key(session, key_id=ministry.key_id, actor=Actor.system(), reason="leaked")
        session.commit()
        assert_error(ping(signed_client, ministry, 2), 401, "credential_revoked")
        session.rollback()
        assert session.scalar(select(func.count()).select_from(SeenSignature)) == 1  # the refused one: not written

    def test_suspension_refused_at_once_and_reinstatement_accepted_at_once(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        assert ping(signed_client, ministry, 1).status_code == 200
        credentials.set_status(session, partner_id=ministry.partner_id, status="suspended", actor=Actor.system())
        session.commit()
        assert_error(ping(signed_client, ministry, 2), 401, "credential_revoked")
        credentials.set_status(session, partner_id=ministry.partner_id, status="active", actor=Actor.system())
        session.commit()
        assert ping(signed_client, ministry, 3).status_code == 200

    def test_new_key_accepted_at_once(self, signed_client: SignedClient, ministry: Partner, session: Session) -> None:
        assert ping(signed_client, ministry, 1).status_code == 200
        new = credentials.issue_key(
            session, partner_id=ministry.partner_id, actor=Actor.system(), client_code=ministry.client_code
        )
        session.commit()
        assert ping(signed_client, ministry, 2, secret=new.secret).status_code == 200

    def test_key_revoked_in_sql_behind_the_service_refused(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        """The revision is the rows' own version, so even a change no service made is seen."""
        assert ping(signed_client, ministry, 1).status_code == 200
        key = session.get(PartnerKey, ministry.key_id)
        assert key is not None
        key.revoked_at = clock.now()
        session.commit()
        assert_error(ping(signed_client, ministry, 2), 401, "credential_revoked")
