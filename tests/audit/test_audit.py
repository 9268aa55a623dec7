from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from prakerja.audit import rules, service
from prakerja.audit.service import Actor
from prakerja.kit.ids import new_id

_AT = "id = (SELECT entry_id FROM audit_links WHERE seq = %d)"
"""The entry at a position of the chain (the link is a row of its own: ADR 0039)."""
_CHAIN = "(SELECT l.seq, e.* FROM audit_links l JOIN audit_entries e ON e.id = l.entry_id)"


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
        _tamper(session, f"UPDATE audit_entries SET reason = 'tidak ada' WHERE {_AT % 3}")
        report = service.verify(session)
        assert not report.ok
        assert any("seq 3" in p and "edited" in p for p in report.problems)

    def test_deleted_row_detected(self, session: Session) -> None:
        _record(session, 5)
        _tamper(session, f"DELETE FROM audit_entries WHERE {_AT % 2}; DELETE FROM audit_links WHERE seq = 2")
        assert any("deleted" in p for p in service.verify(session).problems)

    def test_deleted_entry_of_a_link_detected(self, session: Session) -> None:
        _record(session, 5)
        _tamper(session, f"DELETE FROM audit_entries WHERE {_AT % 2}")
        assert any("seq 2" in p and "missing" in p for p in service.verify(session).problems)

    def test_deleted_link_detected(self, session: Session) -> None:
        _record(session, 5)
        _tamper(session, "DELETE FROM audit_links WHERE seq = 2")
        problems = service.verify(session).problems
        assert any("seq 2: missing" in p for p in problems) and any("not linked" in p for p in problems), problems

    def test_deleted_tail_detected(self, session: Session) -> None:
        _record(session, 5)
        _tamper(session, f"DELETE FROM audit_entries WHERE {_AT % 5}; DELETE FROM audit_links WHERE seq = 5")
        assert any("head" in p for p in service.verify(session).problems)

    def test_inserted_row_detected(self, session: Session) -> None:
        _record(session, 3)
        _tamper(
            session,
            "INSERT INTO audit_entries (id, occurred_at, actor_role, action, object_type, object_id, reason, data)"
            " VALUES (99, now(), 'pmo_admin', 'x.y', 'wave', 'w9', '', '{}');"
            " INSERT INTO audit_links (seq, entry_id, prev_hash, hash) SELECT 4, 99, hash, hash FROM audit_links"
            " WHERE seq = 3",
        )
        assert not service.verify(session).ok

    def test_database_refuses_update_and_delete(self, session: Session) -> None:
        _record(session, 1)
        for sql in (
            "UPDATE audit_entries SET reason = 'x'",
            "DELETE FROM audit_entries",
            "TRUNCATE audit_entries",
            "UPDATE audit_links SET seq = 7",
            "UPDATE audit_links SET hash = sha256('x')",
            "DELETE FROM audit_links",
            "TRUNCATE audit_links",
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
    _tamper(session, f"UPDATE audit_entries SET data = '{{\"quota\": 999}}' WHERE {_AT % 2}")
    bad = subprocess.run([sys.executable, "-m", "prakerja", "audit", "verify"], env=env, capture_output=True, text=True)
    assert bad.returncode == 1
    assert "seq 2" in bad.stderr


class TestLinkedAtCommit:
    """Entries are linked into the chain by the database right before their transaction commits (ADR 0012)."""

    def test_entry_is_linked_only_when_its_transaction_commits(self, session: Session) -> None:
        service.record(session, Actor.system(), "x.y", "thing", "1")
        pending = session.execute(text("SELECT id, ctid::text, body_digest FROM audit_entries")).one()
        assert len(pending.body_digest) == 32
        assert session.execute(text("SELECT count(*) FROM audit_links")).scalar_one() == 0
        session.commit()
        linked = session.execute(text("SELECT seq, entry_id, prev_hash, hash FROM audit_links")).one()
        assert linked.entry_id == pending.id
        assert linked.seq == 1 and linked.prev_hash == b"\x00" * 32 and len(linked.hash) == 32
        assert service.verify(session).ok

    def test_an_entry_is_written_once(self, session: Session) -> None:
        """The link is a row of its own (ADR 0039): the entry keeps the one row version its INSERT wrote."""
        service.record(session, Actor.system(), "x.y", "thing", "1")
        service.record(session, Actor.system(), "x.z", "thing", "2")
        before = session.execute(text("SELECT id, ctid::text FROM audit_entries ORDER BY id")).all()
        session.commit()
        after = session.execute(text("SELECT id, ctid::text, xmax::text FROM audit_entries ORDER BY id")).all()
        assert [(r.id, r.ctid) for r in after] == [(r.id, r.ctid) for r in before]
        assert {r.xmax for r in after} == {"0"}  # never updated, deleted or locked
        seqs = session.execute(text("SELECT entry_id, seq FROM audit_links ORDER BY seq")).all()
        assert seqs == [(before[0].id, 1), (before[1].id, 2)]

    def test_chain_is_in_commit_order_and_appends_do_not_wait(self, session: Session, clean_db: Engine) -> None:
        early = Session(clean_db)
        try:
            service.record(early, Actor.system(), "x.first_written", "thing", "1")
            early.flush()
            # another transaction appends and commits while the first is still open: it does not wait for it
            service.record(session, Actor.system(), "x.second_written", "thing", "2")
            session.commit()
            early.commit()
        finally:
            early.close()
        order = session.execute(text(f"SELECT action FROM {_CHAIN} AS chain ORDER BY seq")).scalars().all()
        assert order == ["x.second_written", "x.first_written"]
        assert service.verify(session).ok

    def test_concurrent_appends_make_one_gapless_chain(self, clean_db: Engine, session: Session) -> None:
        def work(n: int) -> None:
            for i in range(10):
                with Session(clean_db) as own:
                    service.record(own, Actor.system(), "x.y", "thing", f"{n}-{i}")
                    service.record(own, Actor.system(), "x.z", "thing", f"{n}-{i}")
                    own.commit()

        threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        report = service.verify(session)
        assert report.ok, report.problems
        assert report.checked == 120
        # the two entries of one transaction are next to each other in the chain
        rows = session.execute(text(f"SELECT object_id FROM {_CHAIN} AS chain ORDER BY seq")).scalars().all()
        assert all(rows[i] == rows[i + 1] for i in range(0, 120, 2))

    def test_reordered_rows_detected(self, session: Session) -> None:
        _record(session, 4)
        _tamper(
            session,
            "UPDATE audit_links SET seq = -seq WHERE seq IN (2, 3);"
            " UPDATE audit_links SET seq = CASE seq WHEN -2 THEN 3 ELSE 2 END WHERE seq IN (-2, -3)",
        )
        problems = service.verify(session).problems
        assert any("does not link" in p for p in problems), problems

    def test_swapped_contents_detected(self, session: Session) -> None:
        """Moving content between positions (links left in place) breaks both rows' hashes."""
        _record(session, 4)
        _tamper(
            session,
            "UPDATE audit_entries a SET object_id = b.object_id, data = b.data, body_digest = b.body_digest"
            f" FROM {_CHAIN} c, {_CHAIN} b WHERE c.id = a.id AND (c.seq, b.seq) IN ((2, 3), (3, 2))",
        )
        problems = service.verify(session).problems
        assert any("seq 2" in p and "edited" in p for p in problems), problems
        assert any("seq 3" in p and "edited" in p for p in problems), problems

    def test_edited_digest_and_content_detected(self, session: Session) -> None:
        """Editing a row and recomputing its content digest still breaks the link's hash."""
        _record(session, 3)
        _tamper(session, f"UPDATE audit_entries SET reason = 'lain', body_digest = sha256('x') WHERE {_AT % 2}")
        assert any("seq 2" in p and "edited" in p for p in service.verify(session).problems)

    def test_digest_dropped_to_pass_as_old_entry_detected(self, session: Session) -> None:
        _record(session, 3)
        _tamper(session, f"UPDATE audit_entries SET body_digest = NULL WHERE {_AT % 2}")
        assert any("seq 2" in p and "edited" in p for p in service.verify(session).problems)

    def test_deleted_middle_row_detected(self, session: Session) -> None:
        _record(session, 5)
        _tamper(session, f"DELETE FROM audit_entries WHERE {_AT % 3}; DELETE FROM audit_links WHERE seq = 3")
        problems = service.verify(session).problems
        assert any("seq 3: missing" in p for p in problems) and any("seq 4: does not link" in p for p in problems)

    def test_row_slipped_in_without_link_detected(self, session: Session) -> None:
        _record(session, 2)
        _tamper(
            session,
            "INSERT INTO audit_entries (occurred_at, actor_role, action, object_type, object_id, reason, data,"
            " body_digest) VALUES (now(), 'pmo_admin', 'x.y', 'wave', 'w9', '', '{}', sha256('x'))",
        )
        assert any("not linked" in p for p in service.verify(session).problems)

    def test_inserted_linked_row_detected(self, session: Session) -> None:
        """A row added at the end with a correct link and a recomputed head: its content digest is not its
        content's."""
        _record(session, 2)
        _tamper(
            session,
            "INSERT INTO audit_entries (id, occurred_at, actor_role, action, object_type, object_id, reason, data,"
            " body_digest) VALUES (99, now(), 'pmo_admin', 'x.y', 'wave', 'w9', '', '{}', sha256('x'));"
            " INSERT INTO audit_links (seq, entry_id, prev_hash, hash) SELECT 3, 99, hash,"
            " sha256(hash || int8send(3) || sha256('x')) FROM audit_links WHERE seq = 2;"
            " UPDATE audit_head SET seq = 3, hash = (SELECT hash FROM audit_links WHERE seq = 3)",
        )
        assert any("seq 3" in p and "edited" in p for p in service.verify(session).problems)

    def test_linked_rows_refuse_change_but_the_link_step_works(self, session: Session) -> None:
        _record(session, 1)
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text("UPDATE audit_links SET seq = 7"))
        session.rollback()
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text("DELETE FROM audit_entries"))
        session.rollback()
        service.record(session, Actor.system(), "x.y", "thing", "2")
        with pytest.raises(DBAPIError, match="append-only"):  # its content digest is fixed once written
            session.execute(text("UPDATE audit_entries SET body_digest = sha256('x') WHERE action = 'x.y'"))
        session.rollback()
        service.record(session, Actor.system(), "x.y", "thing", "3")
        session.commit()  # the link step itself works
        assert service.verify(session).ok

    def test_entries_from_before_the_change_still_verify(self, session: Session) -> None:
        """A chain that starts with rows linked by the first formula (seq inside the hashed form) and goes on
        with rows linked at commit verifies, and an edit in the old part is still found."""
        prev = rules.GENESIS
        for seq in (1, 2):
            when = datetime(2026, 1, 1, 8, 0, seq, tzinfo=UTC)
            body = rules.canonical(
                seq=seq, occurred_at=when, actor_id=None, actor_role="system", action="old.entry",
                object_type="thing", object_id=str(seq), reason="", data={"n": seq}, request_id=None,
            )  # fmt: skip
            digest = rules.chain_hash(prev, body)
            session.execute(text("SET session_replication_role = replica"))  # as the upgrade left them
            session.execute(
                text(
                    "INSERT INTO audit_entries (id, occurred_at, actor_role, action, object_type, object_id, reason,"
                    " data) VALUES (:seq, :when, 'system', 'old.entry', 'thing', :oid, '', CAST(:data AS jsonb))"
                ),
                {"seq": seq, "when": when, "oid": str(seq), "data": f'{{"n": {seq}}}'},
            )
            session.execute(
                text("INSERT INTO audit_links (seq, entry_id, prev_hash, hash) VALUES (:seq, :seq, :prev, :hash)"),
                {"seq": seq, "prev": prev, "hash": digest},
            )
            session.execute(text("SET session_replication_role = origin"))
            prev = digest
        session.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 2, :h)"), {"h": prev})
        session.execute(text("SELECT setval('audit_entries_id_seq', 2)"))
        session.commit()
        _record(session, 2)
        report = service.verify(session)
        assert report.ok and report.checked == 4, report.problems
        assert session.execute(text("SELECT prev_hash FROM audit_links WHERE seq = 3")).scalar_one() == prev
        _tamper(session, f"UPDATE audit_entries SET data = '{{\"n\": 9}}' WHERE {_AT % 1}")
        assert any("seq 1" in p and "edited" in p for p in service.verify(session).problems)


def test_the_chain_moves_to_its_links_table_and_back(database_url: str) -> None:
    """Migration 0039 (ADR 0039) on a database with entries of both formulas: every link moves to ``audit_links``
    unchanged, the chain verifies and goes on from its last entry; the downgrade gives the entries their links back
    and the old trigger links new ones after them."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from prakerja import migrate

    before = ScriptDirectory.from_config(migrate.alembic_config(database_url)).get_revision("0039_maudit").down_revision
    assert isinstance(before, str)
    scratch = make_url(database_url).database + "_audit_mig"  # type: ignore[operator]
    admin = create_engine(make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    url = make_url(database_url).set(database=scratch).render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        migrate.upgrade(before, url=url)
        with Session(engine) as session:
            prev = rules.GENESIS
            for seq in (1, 2):  # linked by the first formula (before 0021)
                when = datetime(2026, 1, 1, 8, 0, seq, tzinfo=UTC)
                body = rules.canonical(
                    seq=seq, occurred_at=when, actor_id=None, actor_role="system", action="old.entry",
                    object_type="thing", object_id=str(seq), reason="", data={}, request_id=None,
                )  # fmt: skip
                digest = rules.chain_hash(prev, body)
                session.execute(
                    text(
                        "INSERT INTO audit_entries (id, seq, occurred_at, actor_role, action, object_type, object_id,"
                        " reason, data, prev_hash, hash) VALUES (:seq, :seq, :when, 'system', 'old.entry', 'thing',"
                        " :oid, '', '{}', :prev, :hash)"
                    ),
                    {"seq": seq, "when": when, "oid": str(seq), "prev": prev, "hash": digest},
                )
                prev = digest
            session.execute(text("INSERT INTO audit_head (id, seq, hash) VALUES (1, 2, :h)"), {"h": prev})
            session.execute(text("SELECT setval('audit_entries_id_seq', 2)"))
            session.commit()
            _record(session, 2)  # linked at commit by 0036's trigger (the second formula)
            old = session.execute(text("SELECT id, seq, prev_hash, hash FROM audit_entries ORDER BY seq")).all()
        assert [r.seq for r in old] == [1, 2, 3, 4]
        engine.dispose()
        migrate.upgrade(url=url)
        with Session(engine) as session:
            moved = session.execute(text("SELECT entry_id, seq, prev_hash, hash FROM audit_links ORDER BY seq")).all()
            assert [tuple(r) for r in moved] == [tuple(r) for r in old]
            report = service.verify(session)
            assert report.ok and report.checked == 4, report.problems
            _record(session, 1)
            fifth = session.execute(text("SELECT prev_hash FROM audit_links WHERE seq = 5")).scalar_one()
            assert fifth == old[-1].hash
            assert service.verify(session).ok
            linked = session.execute(text("SELECT entry_id, seq, prev_hash, hash FROM audit_links ORDER BY seq")).all()
        engine.dispose()
        migrate.downgrade(before, url=url)
        with Session(engine) as session:
            back = session.execute(text("SELECT id, seq, prev_hash, hash FROM audit_entries ORDER BY seq")).all()
            assert [tuple(r) for r in back] == [tuple(r) for r in linked]
            session.execute(
                text(
                    "INSERT INTO audit_entries (occurred_at, actor_role, action, object_type, object_id, reason, data,"
                    " body_digest) VALUES (now(), 'system', 'x.y', 'thing', '9', '', '{}', sha256('x'))"
                )
            )
            session.commit()
            assert session.execute(text("SELECT max(seq) FROM audit_entries")).scalar_one() == 6
        engine.dispose()
        migrate.upgrade(url=url)
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()
