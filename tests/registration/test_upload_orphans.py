"""KTP photos reach storage only when the transaction that records them commits: a rollback leaves no file,
and the sweeper finishes or removes whatever a crash left half-done."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from prakerja.kit.clock import clock
from prakerja.registration.models import Applicant
from prakerja.registration.providers.storage import LocalStorage
from prakerja.registration.service import identity
from tests.registration.factories import create_applicant
from tests.registration.test_wizard import jpeg, png


def files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


@pytest.fixture
def store(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "uploads")


@pytest.fixture
def account_id(session: Session):  # type: ignore[no-untyped-def]
    snapshot = create_applicant(session)
    session.commit()
    return snapshot.account_id


class TestWrittenOnlyOnCommit:
    def test_rollback_leaves_no_file(self, session: Session, store: LocalStorage, account_id) -> None:  # type: ignore[no-untyped-def]
        identity.save_photo(session, account_id=account_id, data=png(), storage=store)
        session.rollback()
        assert files(store.root) == []

    def test_session_closed_without_commit_leaves_no_file(self, engine, store: LocalStorage, account_id) -> None:  # type: ignore[no-untyped-def]
        with Session(engine) as other:
            identity.save_photo(other, account_id=account_id, data=png(), storage=store)
        assert files(store.root) == []

    def test_commit_publishes_the_encrypted_file(self, session: Session, store: LocalStorage, account_id) -> None:  # type: ignore[no-untyped-def]
        data = png()
        applicant = identity.save_photo(session, account_id=account_id, data=data, storage=store)
        key = applicant.ktp_photo_path
        assert key is not None
        session.commit()
        assert files(store.root) == [key]
        assert store.get(key) == data
        assert data[:64] not in (store.root / key).read_bytes()

    def test_replacing_the_photo_removes_the_old_file_after_commit(
        self,
        session: Session,
        store: LocalStorage,
        account_id,  # type: ignore[no-untyped-def]
    ) -> None:
        first = identity.save_photo(session, account_id=account_id, data=png(), storage=store).ktp_photo_path
        session.commit()
        second = identity.save_photo(session, account_id=account_id, data=jpeg(), storage=store).ktp_photo_path
        assert first in files(store.root)  # the old one stays until the new one is committed
        session.commit()
        assert second != first and files(store.root) == [second]

    def test_replacement_rolled_back_keeps_the_old_photo(
        self,
        session: Session,
        store: LocalStorage,
        account_id,  # type: ignore[no-untyped-def]
    ) -> None:
        first = identity.save_photo(session, account_id=account_id, data=png(), storage=store).ktp_photo_path
        session.commit()
        identity.save_photo(session, account_id=account_id, data=jpeg(), storage=store)
        session.rollback()
        assert files(store.root) == [first]


class TestSweeper:
    def _stage(self, store: LocalStorage, key: str, age: timedelta) -> None:
        with clock.frozen(clock.now() - age):
            store.stage(key, b"left over")

    def test_leftovers_older_than_the_limit_are_removed_or_published(
        self,
        session: Session,
        store: LocalStorage,
        account_id,  # type: ignore[no-untyped-def]
    ) -> None:
        from prakerja.registration.service import uploads

        applicant = session.query(Applicant).filter_by(account_id=account_id).one()
        committed_key = f"ktp/{applicant.id}/{'a' * 32}.png"
        applicant.ktp_photo_path = committed_key  # committed, but the process died before publishing
        session.commit()
        self._stage(store, committed_key, timedelta(hours=7))
        self._stage(store, f"ktp/{applicant.id}/{'b' * 32}.png", timedelta(hours=7))  # rolled back, then a crash
        self._stage(store, f"ktp/{applicant.id}/{'c' * 32}.png", timedelta(minutes=5))  # a request in flight
        assert store.get(committed_key) == b"left over"  # readable even before it is published
        result = uploads.sweep_staged(session, store, older_than=timedelta(hours=6))
        assert (result.published, result.removed) == (1, 1)
        assert files(store.root) == [
            f"_staging/ktp/{applicant.id}/{'c' * 32}.png",
            committed_key,
        ]
        assert uploads.sweep_staged(session, store, older_than=timedelta(hours=6)) == result.__class__(0, 0)


def test_sweeper_job_is_registered_and_runs(session: Session, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from prakerja.jobs import app as jobs
    from prakerja.registration import tasks
    from prakerja.registration.providers import storage

    store = LocalStorage(tmp_path)
    monkeypatch.setattr(storage, "default_storage", lambda: store)
    with clock.frozen(clock.now() - timedelta(days=1)):
        store.stage(f"ktp/{'0' * 8}/{'d' * 32}.png", b"orphan")
    assert "registration.sweep_uploads" in jobs.tasks
    assert tasks.sweep_uploads() == 1 and files(tmp_path) == []
