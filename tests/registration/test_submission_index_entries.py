"""What an identity submission adds to each index (ADR 0038, migration 0038_subpg): fourteen entries (seventeen
before), and every index left still holds its guarantee."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from prakerja.kit.clock import utcnow
from prakerja.registration import repository
from prakerja.registration.models import Applicant, Signal
from prakerja.registration.service import integrity
from tests.registration.test_identity_signed_in_statement import _account, _submit

TABLES = (
    "registration_applicants",
    "registration_identity_checks",
    "registration_signals",
    "procrastinate_jobs",
    "procrastinate_events",
)


def _entries(session: Session) -> dict[str, int]:
    """Each index of the tables a submission writes, with the entries it holds (the tables were emptied before the
    test, so a non-empty index is one leaf page: block 1, read with ``pageinspect``)."""
    session.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
    names = session.execute(
        text("SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid::regclass::text = ANY(:t)"),
        {"t": list(TABLES)},
    ).scalars()
    found = {}
    for name in names:
        pages = session.execute(text("SELECT pg_relation_size(CAST(:i AS regclass)) / 8192"), {"i": name}).scalar_one()
        assert pages <= 2, name  # the metapage and one leaf
        found[name] = (
            int(session.execute(text("SELECT count(*) FROM bt_page_items(:i, 1)"), {"i": name}).scalar_one())
            if pages == 2
            else 0
        )
    return found


def test_a_first_submission_writes_fourteen_index_entries(session: Session) -> None:
    _, token = _account(session, "ani@example.org")
    assert _submit(token).submitted is not None
    session.rollback()
    written = {name: n for name, n in _entries(session).items() if n}
    assert written == {
        # the profile: its key, one per account, one per NIK (blind index), its IP for the burst scan
        "pk_registration_applicants": 1,
        "uq_registration_applicants_account_id": 1,
        "uq_registration_applicants_nik_index": 1,
        "ix_registration_applicants_registration_ip_index_created_at": 1,
        # the registry check: its key (the job's argument), the applicant's checks
        "pk_registration_identity_checks": 1,
        "ix_registration_identity_checks_applicant_id": 1,
        # the device signal: its key only (applicant, kind, value)
        "pk_registration_signals": 1,
        # procrastinate's job and its `deferred` event (the library's indexes)
        "procrastinate_jobs_pkey": 1,
        "procrastinate_jobs_id_lock_idx_v1": 1,
        "procrastinate_jobs_priority_idx_v1": 1,
        "procrastinate_jobs_queue_name_idx_v1": 1,
        "procrastinate_jobs_queueing_lock_idx_v1": 1,
        "procrastinate_events_pkey": 1,
        "procrastinate_events_job_id_fkey_v1": 1,
    }
    assert sum(written.values()) == 14


def test_the_dropped_indexes_are_gone_and_the_signal_key_is_what_it_says(session: Session) -> None:
    indexes = dict(
        session.execute(
            text(
                "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
                " WHERE indrelid IN ('registration_applicants'::regclass, 'registration_signals'::regclass)"
            )
        ).all()
    )
    assert "ix_registration_applicants_kk_index" not in indexes
    assert "ix_registration_signals_kind_value_index" not in indexes
    assert [name for name in indexes if "signals" in name] == ["pk_registration_signals"]
    assert indexes["pk_registration_signals"].endswith("USING btree (applicant_id, kind, value_index)")
    columns = session.execute(
        text("SELECT column_name FROM information_schema.columns WHERE table_name = 'registration_signals'")
    ).scalars()
    assert sorted(columns) == ["applicant_id", "created_at", "kind", "value_index"]


def test_a_signal_is_kept_once_and_its_key_refuses_a_second_row(session: Session) -> None:
    _, token = _account(session, "ani@example.org")
    done = _submit(token)
    assert done.submitted is not None
    applicant_id = done.submitted.id
    # the general path records the same use again: nothing new (the key is the conflict's arbiter)
    integrity.record_use(session, applicant_id=applicant_id, ip="192.0.2.7", device="device-1")
    integrity.record_use(session, applicant_id=applicant_id, ip="192.0.2.7", device="device-1")
    session.commit()
    kinds = sorted(session.scalars(select(Signal.kind).where(Signal.applicant_id == applicant_id)))
    assert kinds == ["device", "ip"]
    device = integrity.device_index("device-1")
    with pytest.raises(IntegrityError):
        session.execute(
            text(
                "INSERT INTO registration_signals (applicant_id, kind, value_index, created_at)"
                " VALUES (:a, 'device', :v, now())"
            ),
            {"a": applicant_id, "v": device},
        )
    session.rollback()
    with pytest.raises(IntegrityError):  # the applicant must exist (the foreign key stays)
        repository.add_signal(session, applicant_id=uuid.uuid4(), kind="device", value_index=device)
    session.rollback()


def test_one_profile_per_nik_and_per_account_still(session: Session) -> None:
    account, token = _account(session, "ani@example.org")
    other, _ = _account(session, "budi@example.org")
    done = _submit(token)
    assert done.submitted is not None
    mine = session.get(Applicant, done.submitted.id)
    assert mine is not None
    now = utcnow()
    same_nik = {"account_id": other.id, "nik_index": mine.nik_index}
    same_account = {"account_id": account.id, "nik_index": b"\x01" * 32}
    for values in (same_nik, same_account):
        with pytest.raises(IntegrityError):
            session.execute(
                text(
                    "INSERT INTO registration_applicants (id, account_id, nik_index, identity_status, created_at,"
                    " updated_at) VALUES (:id, :account_id, :nik_index, 'pending', :now, :now)"
                ),
                {"id": uuid.uuid4(), "now": now, **values},
            )
        session.rollback()
