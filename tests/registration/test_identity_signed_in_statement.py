"""The identity submission asks who is signed in within its own statement (ADR 0035): one round trip, and the same
answers as when the sign-in check was a dependency of its own (session rules, refusal order, nothing written)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import asyncpg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from prakerja import db
from prakerja.auth import service as auth
from prakerja.auth.models import Account, LoginSession, Role
from prakerja.auth.rules import token_hash
from prakerja.kit.clock import utcnow
from prakerja.registration.models import Applicant
from prakerja.registration.service import identity
from prakerja.web.deps import SESSION_COOKIE
from tests.conftest import run_async
from tests.registration.test_api_and_bulk import body

PATH = "/api/v1/registration/identity"


def _written(session: Session) -> tuple[int, int, int, int]:
    session.expire_all()
    return (
        int(session.scalar(select(func.count()).select_from(Applicant)) or 0),
        int(session.execute(text("SELECT count(*) FROM registration_identity_checks")).scalar_one()),
        int(session.execute(text("SELECT count(*) FROM registration_signals")).scalar_one()),
        int(session.execute(text("SELECT count(*) FROM procrastinate_jobs")).scalar_one()),
    )


def _account(session: Session, email: str, role: Role = Role.applicant, state: str = "live") -> tuple[Account, str]:
    """An account with a session in ``state``: live, revoked, expired, or disabled (the account)."""
    account = auth.create_account(
        session, email=email, password="kata-sandi-panjang-9", role=role, display_name="Ani Lestari"
    )
    token = auth.start_session(session, account)
    if state == "revoked":
        auth.end_session(session, token)
    elif state == "expired":
        login = session.get(LoginSession, token_hash(token))
        assert login is not None
        login.expires_at = utcnow() - timedelta(seconds=1)
    elif state == "disabled":
        account.is_active = False
    session.commit()
    return account, token


def _as(client: TestClient, token: str | None) -> TestClient:
    client.cookies.clear()
    if token is not None:
        client.cookies.set(SESSION_COOKIE, token)
    return client


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The statements sent on loop connections (asyncpg's ``_execute``: each is one round trip, ADR 0028)."""
    sent: list[str] = []
    original = asyncpg.Connection._execute

    async def counted(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(query)
        return await original(self, query, *args, **kwargs)

    monkeypatch.setattr(asyncpg.Connection, "_execute", counted)
    yield sent


class TestOneRoundTrip:
    def test_a_first_submission_is_one_statement_with_its_sign_in_check(
        self, client: TestClient, session: Session, statements: list[str]
    ) -> None:
        account, token = _account(session, "ani@example.org")
        statements.clear()
        response = _as(client, token).post(PATH, json=body())
        assert response.status_code == 202, response.text
        assert len(statements) == 1
        applicant = session.scalars(select(Applicant)).one()
        assert applicant.account_id == account.id and str(applicant.id) == response.json()["applicant_id"]
        assert _written(session) == (1, 1, 1, 1)


class TestSameAnswersAsTheSignInDependency:
    @pytest.mark.parametrize("state", ["revoked", "expired", "disabled", "unknown", "none"])
    @pytest.mark.parametrize("sent", ["valid", "refused_by_the_rules", "refused_by_the_schema"])
    def test_signed_out_is_401_first_and_writes_nothing(
        self, client: TestClient, session: Session, state: str, sent: str
    ) -> None:
        token: str | None = None
        if state == "unknown":
            token = "no-such-session"
        elif state != "none":
            token = _account(session, "ani@example.org", state=state)[1]
        payload = {"valid": body(), "refused_by_the_rules": body(nik="123"), "refused_by_the_schema": {"nik": "1"}}
        response = _as(client, token).post(PATH, json=payload[sent])
        assert response.status_code == 401 and response.json()["code"] == "unauthenticated", response.text
        assert _written(session) == (0, 0, 0, 0)

    @pytest.mark.parametrize("sent", ["valid", "refused_by_the_rules", "refused_by_the_schema"])
    def test_another_role_is_403_first_and_writes_nothing(
        self, client: TestClient, session: Session, sent: str
    ) -> None:
        _, token = _account(session, "pmo@example.org", role=Role.pmo_admin)
        payload = {"valid": body(), "refused_by_the_rules": body(nik="123"), "refused_by_the_schema": {"nik": "1"}}
        response = _as(client, token).post(PATH, json=payload[sent])
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden" and response.json()["details"] == {"required": ["applicant"]}
        assert _written(session) == (0, 0, 0, 0)

    def test_an_applicant_gets_the_bodys_refusals(self, client: TestClient, session: Session) -> None:
        _, token = _account(session, "ani@example.org")
        rules = _as(client, token).post(PATH, json=body(nik="123"))
        assert rules.status_code == 422 and rules.json()["code"] == "invalid_input"
        schema = _as(client, token).post(PATH, json={"nik": "1"})
        assert schema.status_code == 422 and schema.json()["code"] == "invalid_request"
        assert _written(session) == (0, 0, 0, 0)

    @pytest.mark.parametrize("signed_in", [True, False])
    def test_a_body_that_is_not_json_is_refused_before_the_session_as_before(
        self, client: TestClient, session: Session, signed_in: bool
    ) -> None:
        token = _account(session, "pmo@example.org", role=Role.pmo_admin)[1] if signed_in else None
        response = _as(client, token).post(PATH, content=b"{not json", headers={"content-type": "application/json"})
        assert response.status_code == 422 and response.json()["code"] == "invalid_request", response.text

    def test_an_existing_profile_still_takes_the_general_path(self, client: TestClient, session: Session) -> None:
        _, token = _account(session, "ani@example.org")
        assert _as(client, token).post(PATH, json=body(3)).status_code == 202
        again = _as(client, token).post(PATH, json=body(3, full_name="Siti Aminah Putri"))
        assert again.status_code == 202 and again.json()["identity_status"] == "pending"
        assert _written(session)[:2] == (1, 2)


def _submit(token: str, index: int = 1) -> identity.SignedInSubmission:
    async def go() -> identity.SignedInSubmission:
        async with db.on_loop() as conn:
            return await identity.submit_signed_in_identity_on_loop(
                conn,
                session=auth.session_lookup(token),
                role=Role.applicant,
                submission=identity.IdentitySubmission(**body(index)),
                ip="192.0.2.7",
                device="device-1",
            )

    return run_async(go())


class TestTheStatementAsksWhatResolveSessionAsks:
    @pytest.mark.parametrize("state", ["live", "revoked", "expired", "disabled"])
    def test_the_account_is_resolve_sessions_and_only_a_live_applicant_writes(
        self, session: Session, state: str
    ) -> None:
        _, token = _account(session, "ani@example.org", state=state)
        done = _submit(token)
        assert done.account == auth.resolve_session(session, token)
        assert (done.submitted is not None) == (state == "live")
        assert _written(session) == ((1, 1, 1, 1) if state == "live" else (0, 0, 0, 0))

    def test_another_role_is_known_and_writes_nothing(self, session: Session) -> None:
        account, token = _account(session, "pmo@example.org", role=Role.pmo_admin)
        done = _submit(token)
        assert done.account == auth.CurrentAccount(id=account.id, role=Role.pmo_admin, display_name="Ani Lestari")
        assert done.submitted is None and _written(session) == (0, 0, 0, 0)

    def test_a_nik_held_by_another_profile_writes_nothing(self, session: Session) -> None:
        _, first = _account(session, "a@example.org")
        _, second = _account(session, "b@example.org")
        assert _submit(first).submitted is not None
        done = _submit(second)
        assert done.account is not None and done.submitted is None
        assert _written(session) == (1, 1, 1, 1)


def test_a_submission_adds_no_entry_to_the_regency_index(session: Session) -> None:
    """Migration 0037_subm: the regency index holds only profiles that have a regency (a submission has none yet)."""
    _, token = _account(session, "ani@example.org")
    assert _submit(token).submitted is not None
    predicate = session.execute(
        text("SELECT pg_get_expr(indpred, indrelid) FROM pg_index WHERE indexrelid = CAST(:i AS regclass)"),
        {"i": "ix_registration_applicants_domicile_regency"},
    ).scalar_one()
    assert predicate == "(domicile_regency IS NOT NULL)"
    assert session.scalar(select(func.count()).select_from(Applicant).where(Applicant.domicile_regency.is_(None))) == 1
