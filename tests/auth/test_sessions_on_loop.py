"""Who is signed in, asked on a loop connection (``db.on_loop``, ADR 0014), answers as the ``Session`` query does."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from prakerja import db
from prakerja.auth import service as auth
from prakerja.auth.models import Account, LoginSession, Role
from prakerja.auth.rules import token_hash
from prakerja.kit.clock import utcnow
from tests.conftest import run_async


def _on_loop(token: str) -> auth.CurrentAccount | None:
    async def ask() -> auth.CurrentAccount | None:
        async with db.on_loop() as conn:
            return await auth.resolve_session_on_loop(conn, token)

    return run_async(ask())


def _account(session: Session, email: str = "ani@example.org") -> tuple[Account, str]:
    account = auth.create_account(
        session, email=email, password="kata-sandi-panjang-9", role=Role.applicant, display_name="Ani Lestari"
    )
    token = auth.start_session(session, account)
    session.commit()
    return account, token


class TestResolveSessionOnLoop:
    def test_live_session_gives_the_same_account(self, session: Session) -> None:
        account, token = _account(session)
        found = _on_loop(token)
        assert found == auth.resolve_session(session, token)
        assert found == auth.CurrentAccount(id=account.id, role=Role.applicant, display_name="Ani Lestari")

    def test_unknown_revoked_expired_and_disabled_are_nobody(self, session: Session) -> None:
        assert _on_loop("no-such-token") is None
        _, revoked = _account(session, "a@example.org")
        auth.end_session(session, revoked)
        _, expired = _account(session, "b@example.org")
        login = session.get(LoginSession, token_hash(expired))
        assert login is not None
        login.expires_at = utcnow() - timedelta(seconds=1)
        disabled_account, disabled = _account(session, "c@example.org")
        disabled_account.is_active = False
        session.commit()
        for token in (revoked, expired, disabled):
            assert auth.resolve_session(session, token) is None
            assert _on_loop(token) is None
