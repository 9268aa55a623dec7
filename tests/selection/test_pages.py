"""Pages: the PMO's wave and lottery pages, the public list of published files, joining, the dashboard and the
proof download."""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from prakerja import lottery
from prakerja.auth.models import Role
from prakerja.ledger import service as ledger
from prakerja.recipients import service as recipients
from prakerja.selection import service as selection
from prakerja.waves import service as waves
from prakerja.waves.models import Wave, WaveState
from tests.registration.factories import create_applicant
from tests.selection.factories import PMO
from tests.web.test_shell import PASSWORD, create_account, csrf, login


def _form(client: TestClient, path: str, data: dict[str, str], page: str, **kwargs: object):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf(client, page)}, follow_redirects=False, **kwargs)


def _applicant_login(client: TestClient, session: Session) -> object:
    person = create_applicant(session, regency="3201", email="peserta@example.org")
    from prakerja.auth.models import Account
    from prakerja.auth.rules import hash_password

    account = session.get(Account, person.account_id)
    assert account is not None
    account.password_hash = hash_password(PASSWORD)
    session.commit()
    assert login(client, "peserta@example.org").status_code == 303
    return person


def test_pmo_runs_a_wave_through_the_pages(client: TestClient, session: Session, tmp_path: object) -> None:
    create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin")
    login(client, "admin@example.org")
    assert "Gelombang, kuota &amp; undian" in client.get("/pmo").text
    now = datetime.now(UTC).astimezone()
    created = _form(
        client,
        "/pmo/gelombang",
        {
            "title": "Gelombang 7",
            "scheme": "2023-normal",
            "opens_at": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "closes_at": (now + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M"),
            "total_quota": "4",
            "stratum_level": "regency",
        },
        "/pmo/gelombang",
    )
    assert created.status_code == 303
    page = created.headers["location"]
    wave_id = uuid.UUID(page.rsplit("/", 1)[1])

    bad = _form(
        client,
        f"{page}/kuota",
        {"method": "csv"},
        page,
        files={"upload": ("q.csv", b"stratum,quota\n3201,-4\n9999,8\n")},
    )
    assert bad.status_code == 422 and "Tabel kuota tidak valid." in bad.text and "baris" in bad.text
    good = _form(
        client, f"{page}/kuota", {"method": "csv"}, page, files={"upload": ("q.csv", b"stratum,quota\n3201,4\n")}
    )
    assert good.status_code == 303
    assert _form(client, f"{page}/buka", {}, page).status_code == 303
    assert 'data-state="open">Dibuka untuk pendaftaran<' in client.get(page).text
    assert _form(client, f"{page}/tutup", {}, page).status_code == 303
    draw_page = f"/pmo/undian/{wave_id}"
    assert 'data-state="closed">' in client.get(draw_page).text
    refused = _form(client, f"{draw_page}/benih", {"reference": "r", "value": "aa"}, draw_page)
    assert refused.status_code == 409 and 'data-code="wave_not_committed"' in refused.text
    committed = _form(client, f"{draw_page}/komitmen", {"source": "drand", "reference": "round/5"}, draw_page)
    assert committed.status_code == 303
    mismatch = _form(client, f"{draw_page}/benih", {"reference": "round/6", "value": "aa" * 32}, draw_page)
    assert mismatch.status_code == 409 and 'data-code="seed_reference_mismatch"' in mismatch.text
    assert (
        _form(client, f"{draw_page}/benih", {"reference": "round/5", "value": "aa" * 32}, draw_page).status_code == 303
    )
    html = client.get(draw_page).text
    assert "Pemeriksaan keadilan" in html and 'data-state="drawn">' in html
    assert _form(client, f"{draw_page}/umumkan", {}, draw_page).status_code == 303
    session.expire_all()
    assert session.get(Wave, wave_id).state is WaveState.announced  # type: ignore[union-attr]


def test_public_page_lists_files_by_stage(client: TestClient, session: Session) -> None:
    from tests.selection.factories import add_entries, create_wave

    wave = create_wave(session, quotas={"3201": 1})
    add_entries(session, wave, [("3201", 0)] * 2)
    draw = selection.commit(session, wave.id, randomness_source="drand", randomness_reference="r/1", actor=PMO)
    session.commit()
    html = client.get("/undian").text
    assert f"/undian/{wave.id}/commitment.json" in html and "results.csv" not in html
    assert "Tahap: Komitmen undian sudah diterbitkan" in html and "Tahap: committed" not in html  # the stage in words
    body = client.get(f"/undian/{wave.id}/commitment.json")
    assert body.status_code == 200 and body.content == (Path(draw.folder) / "commitment.json").read_bytes()
    assert client.get(f"/undian/{wave.id}/results.csv").status_code == 404
    assert client.get(f"/undian/{wave.id}/..%2Fkeys.json").status_code == 404
    selection.seed(session, wave.id, reference="r/1", value="01" * 32, actor=PMO)
    ledger.allocate_budget(
        session, transfer_id=uuid.uuid4(), scheme="2023-normal", year=datetime.now(UTC).year, amount=10**8, actor=PMO
    )
    selection.announce(session, wave.id, actor=PMO)
    session.commit()
    assert client.get(f"/undian/{wave.id}/results.csv").status_code == 200


def test_applicant_joins_sees_dashboard_and_downloads_proof(
    client: TestClient, session: Session, tmp_path: object
) -> None:
    now = datetime.now(UTC)
    wave = waves.create_wave(
        session,
        title="Gelombang 3",
        scheme="2023-normal",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=1),
        total_quota=1,
        actor=PMO,
    )
    waves.open_wave(session, wave.id, actor=PMO)
    session.commit()
    person = _applicant_login(client, session)
    assert "Gelombang 3" in client.get("/gelombang").text
    no_consent = _form(client, f"/gelombang/{wave.id}/gabung", {}, "/gelombang")
    assert no_consent.status_code == 422 and 'data-code="consent_required"' in no_consent.text
    joined = _form(client, f"/gelombang/{wave.id}/gabung", {"consent": "yes"}, "/gelombang")
    assert joined.status_code == 303 and joined.headers["location"].endswith("/tanda-terima")
    receipt = client.get(joined.headers["location"]).text
    secret = re.search(r'data-testid="entry-secret" data-value="([0-9a-f]{64})"', receipt)
    assert secret is not None
    assert f"Gelombang {wave.number}: sudah bergabung." in client.get("/dasbor").text

    waves.close_wave(session, wave.id, actor=PMO)
    waves.set_quotas(session, wave.id, {"3201": 1}, method="csv", actor=PMO)
    selection.commit(session, wave.id, randomness_source="drand", randomness_reference="r/9", actor=PMO)
    session.commit()
    proof = client.get(f"/gelombang/{wave.id}/bukti")
    assert proof.status_code == 200 and "attachment" in proof.headers["content-disposition"]
    assert json.loads(proof.content)["entry_secret"] == secret.group(1)
    selection.seed(session, wave.id, reference="r/9", value="02" * 32, actor=PMO)
    ledger.allocate_budget(
        session, transfer_id=uuid.uuid4(), scheme="2023-normal", year=datetime.now(UTC).year, amount=10**8, actor=PMO
    )
    selection.announce(session, wave.id, actor=PMO)
    while selection.process_outcomes(session, wave.id):
        pass
    session.commit()
    html = client.get("/dasbor").text
    recipient = recipients.recipient_by_account(session, person.account_id)
    assert recipient is not None
    assert "Selamat: Anda terpilih" in html and recipient.card_number in html
    folder = tmp_path / "folder"  # type: ignore[operator]
    folder.mkdir()
    for name in ("eligible.csv", "commitment.json", "commitment.sig", "public-key.pem", "seed.json", "results.csv"):
        (folder / name).write_bytes(client.get(f"/undian/{wave.id}/{name}").content)
    (folder / "proof.json").write_bytes(client.get(f"/gelombang/{wave.id}/bukti").content)
    result = lottery.verify_folder(folder, folder / "proof.json")
    assert result.ok and result.proof is not None and result.proof.outcome == "selected"
    assert session.scalars(select(Wave.state)).one() is WaveState.announced
