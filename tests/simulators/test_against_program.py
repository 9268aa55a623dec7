"""The simulators against the real program over HTTP (the app served by uvicorn on loopback, clock frozen), for
what exists on the program side: an institution submits a course with ``prakerja sim submit-course``, the platform
lists it once approved (and is told why not before), and both simulators, started as separate processes with
``prakerja sim platform|institution``, receive and verify the program's webhooks."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from prakerja.audit.service import Actor
from prakerja.catalog.models import Course
from prakerja.cli import app as cli
from prakerja.kit.clock import utcnow
from prakerja.partners import service as partners
from prakerja.simulators import platform
from prakerja.simulators.partner_client import Credentials, PartnerClient, SimClock
from prakerja.simulators.webhook_receiver import Inbox
from tests.catalog.conftest import BODY, approve
from tests.partners.conftest import Partner, create_partner
from tests.simulators.processes import WebhookJobs, clock_offset, credentials_file, events, simulator

pytestmark = pytest.mark.slow


def submit_with_the_command(api_url: str, institution: Partner, folder: Path, course: dict) -> dict:
    path = folder / "course.json"
    path.write_text(json.dumps(course, ensure_ascii=False))
    result = CliRunner().invoke(
        cli,
        [
            "sim",
            "submit-course",
            str(path),
            "--api-url",
            api_url,
            "--key",
            str(credentials_file(folder, institution)),
            "--clock-offset",
            clock_offset(),
        ],
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_submit_course_then_list_it_on_the_platform(
    live_server: str, frozen_clock: object, session: Session, tmp_path: Path
) -> None:
    institution = create_partner(session, name="Lembaga Pelatihan Simulator", role="institution")
    seller = create_partner(session, name="Toko Belajar Simulator", role="platform")
    submitted = submit_with_the_command(live_server, institution, tmp_path, BODY)
    assert submitted["status"] == "in_curation"

    clock = SimClock()
    clock.set(now=utcnow())
    shop = platform.Shop(
        client=PartnerClient.connect(live_server, Credentials(seller.client_code, seller.secret), clock)
    )
    with TestClient(platform.create_app(shop, Inbox(None, clock))) as http:
        early = http.post("/_admin/listings", json={"course_id": submitted["course_id"], "price": 900_000})
        assert (early.status_code, early.json()["code"]) == (422, "course_not_approved")
        assert early.json()["message"] == platform.MESSAGES["course_not_approved"]

        session.rollback()
        course = session.get(Course, uuid.UUID(submitted["course_id"]))
        assert course is not None
        approve(session, course)
        session.commit()

        dear = http.post("/_admin/listings", json={"course_id": submitted["course_id"], "price": BODY["price"] + 1})
        assert (dear.status_code, dear.json()["code"]) == (422, "listing_price_above_curated")
        listed = http.post(
            "/_admin/listings", json={"course_id": submitted["course_id"], "price": 900_000, "title": BODY["title"]}
        )
        assert listed.status_code == 200, listed.text
        assert listed.json()["status"] == "listed"
        again = http.post("/_admin/listings", json={"course_id": submitted["course_id"], "price": 900_000})
        assert again.status_code == 200, again.text
        page = http.get("/")
        assert BODY["title"] in page.text and "Rp900.000" in page.text

    refused = CliRunner().invoke(
        cli,
        [
            "sim",
            "submit-course",
            str(tmp_path / "course.json"),
            "--api-url",
            live_server,
            "--key",
            str(credentials_file(tmp_path, seller)),
            "--clock-offset",
            clock_offset(),
        ],
    )
    assert refused.exit_code == 2 and "partner_role_forbidden" in refused.output


def test_simulator_processes_receive_our_webhooks(
    live_server: str, frozen_clock: object, session: Session, tmp_path: Path
) -> None:
    seller = create_partner(session, name="Toko Belajar Proses", role="platform")
    institution = create_partner(session, name="Lembaga Proses", role="institution")
    course = submit_with_the_command(live_server, institution, tmp_path, BODY)
    session.rollback()
    found = session.get(Course, uuid.UUID(course["course_id"]))
    assert found is not None
    approve(session, found)
    session.commit()

    from tests.conftest import free_port

    jobs = WebhookJobs(session)
    platform_port, institution_port = free_port(), free_port()
    urls = {}
    secrets_ = {}
    for name, partner, port in (("platform", seller, platform_port), ("institution", institution, institution_port)):
        urls[name] = f"http://127.0.0.1:{port}"
        issued = partners.add_webhook_endpoint(
            session, partner_id=partner.partner_id, url=f"{urls[name]}/webhooks/prakerja", actor=Actor.system()
        )
        secrets_[name] = issued.secret
    session.commit()

    listing = f"{course['course_id']}:900000:{BODY['title']}"
    with (
        simulator(
            "platform",
            live_server,
            seller,
            tmp_path,
            "--webhook-secret",
            secrets_["platform"],
            "--list",
            listing,
            port=platform_port,
        ) as shop,
        simulator(
            "institution",
            live_server,
            institution,
            tmp_path,
            "--webhook-secret",
            secrets_["institution"],
            port=institution_port,
        ) as desk,
    ):
        assert shop == urls["platform"] and desk == urls["institution"]
        assert BODY["title"] in httpx.get(shop, timeout=10).text
        partners.queue_webhook(
            session,
            partner_id=seller.partner_id,
            type="purchase.confirmed",
            data={"purchase_id": "pur_sim_1", "course_id": course["course_id"]},
            event_id="purchase.confirmed:pur_sim_1",
        )
        partners.queue_webhook(
            session,
            partner_id=institution.partner_id,
            type="completion.accepted",
            data={"completion_id": "cmp_sim_1", "purchase_id": "pur_sim_1"},
        )
        session.commit()
        assert jobs.run() == ["succeeded", "succeeded"]
        (got,) = events(shop)
        assert (got["webhook_id"], got["type"]) == ("purchase.confirmed:pur_sim_1", "purchase.confirmed")
        assert got["data"] == {"purchase_id": "pur_sim_1", "course_id": course["course_id"]}
        assert [e["type"] for e in events(desk)] == ["completion.accepted"]
        forged = httpx.post(
            f"{shop}/webhooks/prakerja",
            content=b'{"type":"purchase.cancelled","data":{}}',
            headers={"webhook-id": "evt_x", "webhook-timestamp": "1", "webhook-signature": "v1,AAAA"},
            timeout=10,
        )
        assert forged.status_code == 400 and len(events(shop)) == 1

        clock = SimClock()
        clock.set(now=utcnow())
        reader = PartnerClient.connect(live_server, Credentials(seller.client_code, seller.secret), clock)
        log = reader.webhook_deliveries()
        reader.close()
        assert [(i["type"], i["status"]) for i in log["items"]] == [("purchase.confirmed", "succeeded")]
