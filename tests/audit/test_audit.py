from __future__ import annotations

import os
import subprocess
import sys

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from prakerja.audit import service
from prakerja.audit.service import Actor
from prakerja.kit.ids import new_id


def _record(session: Session, n: int) -> None:
    officer = Actor(id=new_id(), role="pmo_officer")
    for i in range(n):
        service.record(session, officer, "wave.quota_changed", "wave", f"w{i}", reason="koreksi", data={"quota": i})
    session.commit()


def _tamper(session: Session, sql: str) -> None:
    session.execute(text("SET session_replication_role = replica"))  # what a superuser could do
    session.execute(text(sql))
    session.execute(text("SET session_replication_role = origin"))
    session.commit()


class TestChain:
    def test_intact(self, session: Session) -> None:
        _record(session, 5)
        report = service.verify(session)
        assert report.ok and report.checked == 5

    def test_edited_row_detected(self, session: Session) -> None:
        _record(session, 5)
        _tamper(session, "UPDATE audit_entries SET reason = 'tidak ada' WHERE seq = 3")
        report = service.verify(session)
        assert not report.ok
        assert any("seq 3" in p and "edited" in p for p in report.problems)

    def test_deleted_row_detected(self, session: Session) -> None:
        _record(session, 5)
        _tamper(session, "DELETE FROM audit_entries WHERE seq = 2")
        assert any("deleted" in p for p in service.verify(session).problems)

    def test_deleted_tail_detected(self, session: Session) -> None:
        _record(session, 5)
        _tamper(session, "DELETE FROM audit_entries WHERE seq = 5")
        assert any("head" in p for p in service.verify(session).problems)

    def test_inserted_row_detected(self, session: Session) -> None:
        _record(session, 3)
        _tamper(
            session,
            "INSERT INTO audit_entries (seq, occurred_at, actor_role, action, object_type, object_id, reason, data,"
            " prev_hash, hash) SELECT 4, now(), 'pmo_admin', 'x.y', 'wave', 'w9', '', '{}', hash, hash"
            " FROM audit_entries WHERE seq = 3",
        )
        assert not service.verify(session).ok

    def test_database_refuses_update_and_delete(self, session: Session) -> None:
        _record(session, 1)
        for sql in (
            "UPDATE audit_entries SET reason = 'x'",
            "DELETE FROM audit_entries",
            "TRUNCATE audit_entries",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                session.execute(text(sql))
            session.rollback()

    def test_rolled_back_change_leaves_no_entry(self, session: Session) -> None:
        service.record(session, Actor.system(), "x.y", "thing", "1")
        session.rollback()
        assert service.verify(session).checked == 0


def test_cli_verify_fails_on_tampered_row(session: Session, database_url: str) -> None:
    _record(session, 3)
    env = {**os.environ, "PRAKERJA_DATABASE_URL": database_url}
    ok = subprocess.run([sys.executable, "-m", "prakerja", "audit", "verify"], env=env, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "3 entries" in ok.stdout
    _tamper(session, "UPDATE audit_entries SET data = '{\"quota\": 999}' WHERE seq = 2")
    bad = subprocess.run([sys.executable, "-m", "prakerja", "audit", "verify"], env=env, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "seq 2" in bad.stderr
