"""The whole journey over real HTTP between separate processes: the program (uvicorn on loopback, clock frozen and
moved by the test), the platform and institution simulators (``prakerja sim platform|institution`` processes).

A participant buys on the platform simulator's checkout with their card and the SMS code (read from the program's
notifications), the institution simulator redeems the voucher and commits each session's redeem code (as the
participant would type them from their dashboard) inside its window, reports the completion, the certificate
verifies with ``prakerja certificate verify`` and a tampered copy does not; revoked with ``prakerja certificate
revoke``, it is reported revoked by the status list the program serves over HTTP, by its public page and by the
offline verifier given the documents fetched over HTTP; the participant rates the course, and the webhooks reached
both partners.

Skipped until the program side of purchases exists (``/partner/v1/purchases`` in the app: branch ``training``)."""

from __future__ import annotations

import base64
import functools
import gzip
import json
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from prakerja.audit.service import Actor
from prakerja.catalog.models import Course
from prakerja.cli import app as cli
from prakerja.kit.clock import clock
from prakerja.notifications.models import Message
from prakerja.partners import service as partners
from prakerja.simulators.demo_marketplace import buy_attend_complete
from tests.catalog.conftest import BODY, approve
from tests.conftest import free_port
from tests.partners.conftest import Partner, create_partner
from tests.simulators.processes import WebhookJobs, events, simulator
from tests.simulators.test_against_program import submit_with_the_command


@functools.cache
def purchases_exist() -> bool:
    from prakerja.app import create_app

    return "/partner/v1/purchases" in create_app().openapi()["paths"]


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not purchases_exist(), reason="the program side of purchases (/partner/v1/purchases) is not here yet"
    ),
]

PRICE = 950_000


def last_sms_code(session: Session, account_id: uuid.UUID) -> str:
    """The one-time code in the participant's latest message (the notifications table: their phone, in a test)."""
    session.rollback()
    message = session.scalars(
        select(Message).where(Message.account_id == account_id).order_by(Message.created_at.desc(), Message.id.desc())
    ).first()
    assert message is not None, "no SMS for the participant"
    found = re.search(r"\b(\d{6})\b", message.body)
    assert found, "no 6-digit code in the SMS"
    return found.group(1)


def approved_course(live_server: str, session: Session, institution: Partner, folder: Path) -> str:
    course_id = str(submit_with_the_command(live_server, institution, folder, BODY)["course_id"])
    session.rollback()
    course = session.get(Course, uuid.UUID(course_id))
    assert course is not None
    approve(session, course)
    session.commit()
    return course_id


def status_bit(status_list: dict[str, Any], index: int) -> bool:
    """The entry's bit, read as the W3C Bitstring Status List says (GZIP, base64url, most significant bit first),
    without the program's code."""
    encoded = str(status_list["credentialSubject"]["encodedList"])
    assert encoded.startswith("u")
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def public_status(live_server: str, credential: dict[str, Any], folder: Path) -> tuple[bool, Path, Path]:
    """The certificate's bit in the status list the program serves over HTTP, and the status list and DID document
    as fetched (files for the offline verifier)."""
    entry = credential["credentialStatus"]
    list_url = str(entry["statusListCredential"])
    found = re.search(r"/sertifikat/status/(\d+)$", list_url)
    assert found, list_url
    listed = httpx.get(f"{live_server}/sertifikat/status/{found.group(1)}", timeout=30)
    assert listed.status_code == 200
    did = httpx.get(f"{live_server}/.well-known/did.json", timeout=30)
    assert did.status_code == 200
    (status_file := folder / "status-list.json").write_bytes(listed.content)
    (did_file := folder / "did.json").write_bytes(did.content)
    return status_bit(listed.json(), int(entry["statusListIndex"])), status_file, did_file


def assert_revoked_is_reported(live_server: str, certificate_id: str, credential_file: Path, folder: Path) -> None:
    """Revoked with ``prakerja certificate revoke``: the public status list over HTTP has its bit set, the public
    page says so, and the offline verifier given the documents fetched over HTTP refuses it as revoked."""
    credential = json.loads(credential_file.read_bytes())

    def verify_offline(status_file: Path, did_file: Path) -> Any:
        return CliRunner().invoke(
            cli,
            [
                "certificate",
                "verify",
                str(credential_file),
                "--did-document",
                str(did_file),
                "--status-list",
                str(status_file),
            ],
        )

    revoked, status_file, did_file = public_status(live_server, credential, folder)
    assert not revoked
    before = verify_offline(status_file, did_file)
    assert before.exit_code == 0 and "VALID" in before.output, before.output

    revoke = CliRunner().invoke(cli, ["certificate", "revoke", certificate_id, "--reason", "Data kehadiran dipalsukan"])
    assert revoke.exit_code == 0, revoke.output

    revoked, status_file, did_file = public_status(live_server, credential, folder)
    assert revoked
    page = httpx.get(f"{live_server}/sertifikat/{certificate_id}", timeout=30)
    assert page.status_code == 200 and 'class="state revoked"' in page.text
    after = verify_offline(status_file, did_file)
    assert after.exit_code == 1 and "revoked" in after.output, after.output
    online = CliRunner().invoke(cli, ["certificate", "verify", str(credential_file)])
    assert online.exit_code == 1 and "revoked" in online.output, online.output


def test_html_checkout_with_the_program(
    live_server: str, frozen_clock: object, session: Session, tmp_path: Path
) -> None:
    """The pages a buyer sees: card checked, paid, a wrong SMS code refused in words, the right one gives the
    voucher; the same shop account with another card is refused in words; a confirmed order is cancelled."""
    from prakerja.simulators.platform import MESSAGES
    from tests.training.conftest import make_participant

    institution = create_partner(session, name="Lembaga Pelatihan Halaman", role="institution")
    seller = create_partner(session, name="Toko Belajar Halaman", role="platform")
    course_id = approved_course(live_server, session, institution, tmp_path)
    first, second = make_participant(session), make_participant(session, name="Budi Santoso")
    with (
        simulator("platform", live_server, seller, tmp_path, "--list", f"{course_id}:{PRICE}:{BODY['title']}") as shop,
        httpx.Client(base_url=shop, timeout=60, follow_redirects=True) as buyer,
    ):
        checked = buyer.post(
            f"/kursus/{course_id}/kartu", data={"akun": "ni.made@contoh.id", "nomor_kartu": first.card_number}
        )
        assert checked.status_code == 200 and f"**** **** **** {first.card_number[-4:]}" in checked.text
        order_path = checked.url.path
        paid = buyer.post(f"{order_path}/bayar")
        assert paid.status_code == 200 and "Kode OTP" in paid.text
        code = last_sms_code(session, first.account_id)
        wrong = buyer.post(f"{order_path}/otp", data={"otp": "000000" if code != "000000" else "111111"})
        assert wrong.status_code == 422 and MESSAGES["otp_invalid"] in wrong.text
        done = buyer.post(f"{order_path}/otp", data={"otp": code})
        assert done.status_code == 200 and "Kode voucher Anda" in done.text

        other = buyer.post(
            f"/kursus/{course_id}/kartu", data={"akun": "ni.made@contoh.id", "nomor_kartu": second.card_number}
        )
        refused = buyer.post(f"{other.url.path}/bayar")
        assert refused.status_code == 422 and MESSAGES["platform_account_bound"] in refused.text
        unknown = buyer.post(f"/kursus/{course_id}/kartu", data={"akun": "x@contoh.id", "nomor_kartu": "9" * 16})
        assert unknown.status_code == 404 and MESSAGES["card_not_found"] in unknown.text

        cancelled = buyer.post(f"{order_path}/batal")
        assert (
            cancelled.status_code == 200 and "Pesanan dibatalkan" in cancelled.text and "Rp3.500.000" in cancelled.text
        )


def test_buy_attend_complete_verify_rate(
    live_server: str, frozen_clock: object, session: Session, tmp_path: Path
) -> None:
    from prakerja.training.service import ratings
    from tests.training.conftest import make_participant

    institution = create_partner(session, name="Lembaga Pelatihan Perjalanan", role="institution")
    seller = create_partner(session, name="Toko Belajar Perjalanan", role="platform")
    ports = {"platform": free_port(), "institution": free_port()}
    secrets_ = {}
    for name, partner in (("platform", seller), ("institution", institution)):
        issued = partners.add_webhook_endpoint(
            session,
            partner_id=partner.partner_id,
            url=f"http://127.0.0.1:{ports[name]}/webhooks/prakerja",
            actor=Actor.system(),
        )
        secrets_[name] = issued.secret
    session.commit()
    participant = make_participant(session)

    course_id = approved_course(live_server, session, institution, tmp_path)

    def read_otp(purchase_id: str) -> str:
        return last_sms_code(session, participant.account_id)

    def redeem_codes(purchase_id: str) -> dict[str, str]:
        """What the participant sees on their dashboard (/pelatihan-saya) and types in at the institution."""
        session.rollback()
        (training,) = [
            t for t in ratings.my_trainings(session, participant.account_id) if str(t.purchase_id) == purchase_id
        ]
        return {str(code.session_id): code.code for code in training.codes}

    def set_time(at: datetime) -> None:
        clock.freeze(at)

    with (
        simulator(
            "platform",
            live_server,
            seller,
            tmp_path,
            "--webhook-secret",
            secrets_["platform"],
            "--list",
            f"{course_id}:{PRICE}:{BODY['title']}",
            port=ports["platform"],
        ) as shop,
        simulator(
            "institution",
            live_server,
            institution,
            tmp_path,
            "--webhook-secret",
            secrets_["institution"],
            port=ports["institution"],
        ) as desk,
    ):
        assert BODY["title"] in httpx.get(shop, timeout=10).text
        journey = buy_attend_complete(
            platform_url=shop,
            institution_url=desk,
            course_id=course_id,
            card_number=participant.card_number,
            account="ni.made@contoh.id",
            read_otp=read_otp,
            redeem_codes=redeem_codes,
            set_time=set_time,
            score=88,
            passed=True,
        )
        assert journey.voucher_code and len(journey.attendance) == len(BODY["sessions"])
        assert all(step["commit"]["state"] == "used" for step in journey.attendance)
        assert journey.completion["status"] == "accepted" and journey.certificate_id
        order = httpx.get(f"{shop}/api/orders/{journey.order['order_id']}?refresh=1", timeout=10).json()
        assert order["status"] == "completed"

        credential = httpx.get(f"{live_server}/sertifikat/{journey.certificate_id}.json", timeout=30)
        assert credential.status_code == 200
        good = tmp_path / "certificate.json"
        good.write_bytes(credential.content)
        assert CliRunner().invoke(cli, ["certificate", "verify", str(good)]).exit_code == 0
        tampered_document = json.loads(credential.content)
        tampered_document["validFrom"] = (clock.now() - timedelta(days=400)).isoformat().replace("+00:00", "Z")
        tampered = tmp_path / "tampered.json"
        tampered.write_text(json.dumps(tampered_document))
        assert CliRunner().invoke(cli, ["certificate", "verify", str(tampered)]).exit_code == 1
        assert_revoked_is_reported(live_server, journey.certificate_id, good, tmp_path)

        session.rollback()
        ratings.rate(
            session,
            account_id=participant.account_id,
            purchase_id=uuid.UUID(journey.purchase_id),
            stars=5,
            review="Materinya jelas dan langsung bisa dipraktikkan untuk usaha saya.",
            actor=Actor(id=participant.account_id, role="applicant"),
        )
        session.commit()
        assert [r.stars for r in ratings.course_reviews(session, uuid.UUID(course_id))] == [5]

        WebhookJobs(session).run()
        assert any(e["data"].get("purchase_id") == journey.purchase_id for e in events(shop, "purchase.confirmed")), (
            "purchase.confirmed did not reach the platform"
        )
        assert events(desk, "completion.accepted") or events(desk, "certificate.issued"), (
            "no completion event reached the institution"
        )
