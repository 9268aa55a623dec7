"""Webhooks we send (partner-api.md section 4): endpoints and their secrets, queueing in the caller's transaction,
delivery over real HTTP to a receiver on loopback that verifies with the ``standardwebhooks`` library, retries,
410, 429 with Retry-After, timeouts, a job run twice, and the delivery log each partner reads."""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from typer.testing import CliRunner

from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.config import reset_settings
from prakerja.kit.clock import clock
from prakerja.kit.errors import DomainError
from prakerja.partners import service, tasks
from prakerja.partners.models import (
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEndpointStatus,
    WebhookEvent,
)
from tests.conftest import free_port
from tests.partners.conftest import Partner, SignedClient, create_partner

# --- a receiver on loopback --------------------------------------------------------------------------------------


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A partner's endpoint: answers from ``script`` in order (status, headers, seconds to wait), then 200."""

    url: str = ""
    script: list[tuple[int, dict[str, str], float]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)

    def answer(self, status: int, headers: dict[str, str] | None = None, delay: float = 0.0) -> None:
        self.script.append((status, headers or {}, delay))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "http"
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        self.received.append(Received({k.decode(): v.decode() for k, v in scope["headers"]}, body))
        status, headers, delay = self.script.pop(0) if self.script else (200, {}, 0.0)
        if delay:
            await asyncio.sleep(delay)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(k.encode(), v.encode()) for k, v in headers.items()],
            }
        )
        await send({"type": "http.response.body", "body": b"ok"})

    def verify(self, secret: str, index: int = -1) -> Any:
        """What the partner does: check the signature with the library, get the event."""
        got = self.received[index]
        return Webhook(secret).verify(got.body, got.headers)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    port = free_port()
    found = Receiver(url=f"http://127.0.0.1:{port}/hooks/prakerja")
    server = uvicorn.Server(uvicorn.Config(found, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "receiver did not start"
        time.sleep(0.02)
    yield found
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def short_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("PRAKERJA_WEBHOOK_TIMEOUT_SECONDS", "0.3")
    reset_settings()
    yield
    monkeypatch.delenv("PRAKERJA_WEBHOOK_TIMEOUT_SECONDS")
    reset_settings()


class Jobs:
    """Runs queued ``partners.deliver_webhook`` jobs the way the worker would, ignoring their scheduled time."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.done: set[int] = set()

    def pending(self) -> list[tuple[int, dict[str, Any], datetime | None]]:
        self.session.commit()
        rows = self.session.execute(
            text(
                "SELECT id, args, scheduled_at FROM procrastinate_jobs "
                "WHERE task_name = 'partners.deliver_webhook' ORDER BY id"
            )
        ).all()
        return [(r[0], r[1], r[2]) for r in rows if r[0] not in self.done]

    def run(self) -> list[str | None]:
        results = []
        for job_id, args, _ in self.pending():
            self.done.add(job_id)
            results.append(tasks.deliver_webhook(**args))
        return results


@pytest.fixture
def jobs(session: Session) -> Jobs:
    return Jobs(session)


def platform_with_endpoint(session: Session, url: str, name: str = "Pijar Mahir") -> tuple[Partner, str]:
    partner = create_partner(session, name=name, role="platform")
    issued = service.add_webhook_endpoint(session, partner_id=partner.partner_id, url=url, actor=Actor.system())
    session.commit()
    return partner, issued.secret


def queue(session: Session, partner: Partner, **kwargs: Any) -> WebhookEvent:
    args: dict[str, Any] = {"type": "purchase.confirmed", "data": {"purchase_id": "pur_1", "course_id": "crs_1"}}
    event = service.queue_webhook(session, partner_id=partner.partner_id, **{**args, **kwargs})
    session.commit()
    return event


def attempts(session: Session) -> list[tuple[int, int | None, str, str]]:
    session.commit()
    rows = session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id))
    return [(a.number, a.status_code, a.error, a.outcome.value) for a in rows]


def audit_actions(session: Session) -> list[str]:
    session.commit()
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


# --- endpoints ----------------------------------------------------------------------------------------------------


class TestEndpoints:
    def test_secret_shown_once_stored_encrypted_rotated_audited(self, session: Session) -> None:
        partner = create_partner(session, role="platform")
        issued = service.add_webhook_endpoint(
            session, partner_id=partner.partner_id, url="https://platform.example.id/hooks", actor=Actor.system()
        )
        session.commit()
        raw = session.execute(text("SELECT secret FROM partner_webhook_endpoints")).scalar_one()
        assert issued.secret.startswith("whsec_") and issued.secret.encode() not in bytes(raw)
        assert session.scalars(select(WebhookEndpoint)).one().secret == issued.secret
        rotated = service.rotate_webhook_secret(session, endpoint_id=issued.endpoint_id, actor=Actor.system())
        session.commit()
        assert rotated.secret != issued.secret
        assert session.scalars(select(WebhookEndpoint)).one().secret == rotated.secret
        views = service.webhook_endpoints(session, partner.partner_id)
        assert [(v.url, v.status) for v in views] == [("https://platform.example.id/hooks", "active")]
        assert not any(hasattr(v, "secret") for v in views)
        logged = session.execute(text("SELECT data::text FROM audit_entries")).scalars().all()
        assert all(issued.secret not in row and rotated.secret not in row for row in logged)
        assert audit_actions(session)[-2:] == ["partners.webhook_endpoint_added", "partners.webhook_secret_rotated"]

    @pytest.mark.parametrize("url", ["http://platform.example.id/hooks", "ftp://x.example/", ""])
    def test_bad_url_refused_nothing_written(self, session: Session, url: str) -> None:
        partner = create_partner(session, role="platform")
        with pytest.raises(DomainError) as caught:
            service.add_webhook_endpoint(session, partner_id=partner.partner_id, url=url, actor=Actor.system())
        assert caught.value.code == "webhook_endpoint_invalid" and caught.value.status_code == 422
        session.rollback()
        assert session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0

    def test_unknown_endpoint(self, session: Session) -> None:
        with pytest.raises(DomainError) as caught:
            service.rotate_webhook_secret(session, endpoint_id="not-an-id", actor=Actor.system())
        assert caught.value.code == "webhook_endpoint_not_found"

    def test_cli_add_list_rotate_disable_enable(self, session: Session) -> None:
        from prakerja.cli import app

        create_partner(session, name="Pijar Mahir", role="platform")
        runner = CliRunner()
        added = runner.invoke(app, ["partner", "webhook", "add", "Pijar Mahir", "https://pijar.example.id/hook"])
        assert added.exit_code == 0, added.output
        secret = re.search(r"^secret\s+(whsec_\S+)$", added.output, re.M)
        endpoint_id = re.search(r"^endpoint_id\s+(\S+)$", added.output, re.M)
        assert secret and endpoint_id
        listed = runner.invoke(app, ["partner", "webhook", "list", "Pijar Mahir"])
        assert listed.exit_code == 0 and "https://pijar.example.id/hook" in listed.output
        assert secret.group(1) not in listed.output
        rotated = runner.invoke(app, ["partner", "webhook", "rotate", endpoint_id.group(1)])
        assert rotated.exit_code == 0 and secret.group(1) not in rotated.output and "whsec_" in rotated.output
        disabled = runner.invoke(app, ["partner", "webhook", "disable", endpoint_id.group(1), "--reason", "uji"])
        assert disabled.exit_code == 0 and "disabled" in disabled.output
        enabled = runner.invoke(app, ["partner", "webhook", "enable", endpoint_id.group(1)])
        assert enabled.exit_code == 0 and "active" in enabled.output
        bad = runner.invoke(app, ["partner", "webhook", "add", "Pijar Mahir", "http://pijar.example.id/hook"])
        assert bad.exit_code == 2 and "webhook_endpoint_invalid" in bad.output
        assert audit_actions(session)[-4:] == [
            "partners.webhook_endpoint_added",
            "partners.webhook_secret_rotated",
            "partners.webhook_endpoint_disabled",
            "partners.webhook_endpoint_enabled",
        ]


class TestPages:
    def test_officer_adds_rotates_disables_and_enables(self, client: Any, session: Session) -> None:
        from prakerja.auth.models import Role
        from tests.web.test_shell import create_account, csrf, login

        partner = create_partner(session, name="Pijar Mahir", role="platform")
        create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin")
        login(client, "admin@example.org")
        token = csrf(client, "/pmo/mitra")
        page = f"/pmo/mitra/{partner.partner_id}/webhook"
        bad = client.post(page, data={"url": "http://x.example/", "csrf_token": token})
        assert bad.status_code == 422 and "https" in bad.text
        added = client.post(
            f"/pmo/mitra/{partner.partner_id}/webhook", data={"url": "https://pijar.example.id/h", "csrf_token": token}
        )
        assert added.status_code == 200 and added.headers["Cache-Control"] == "no-store"
        secret = re.search(r'data-testid="secret">(whsec_[^<]+)<', added.text)
        endpoint_id = re.search(r'data-testid="endpoint-id">([^<]+)<', added.text)
        assert secret and endpoint_id
        session.commit()
        assert session.scalars(select(WebhookEndpoint)).one().secret == secret.group(1)
        listing = client.get("/pmo/mitra").text
        assert "https://pijar.example.id/h" in listing and secret.group(1) not in listing  # shown once
        rotated = client.post(f"/pmo/mitra/webhook/{endpoint_id.group(1)}/rotasi", data={"csrf_token": token})
        assert rotated.status_code == 200 and secret.group(1) not in rotated.text and "whsec_" in rotated.text
        for status in ("disabled", "active"):
            changed = client.post(
                f"/pmo/mitra/webhook/{endpoint_id.group(1)}/status",
                data={"status": status, "csrf_token": token},
                follow_redirects=False,
            )
            assert changed.status_code == 303
        assert audit_actions(session)[-4:] == [
            "partners.webhook_endpoint_added",
            "partners.webhook_secret_rotated",
            "partners.webhook_endpoint_disabled",
            "partners.webhook_endpoint_enabled",
        ]


# --- queueing -----------------------------------------------------------------------------------------------------


class TestQueue:
    def test_event_deliveries_and_jobs_commit_or_roll_back_together(self, session: Session, jobs: Jobs) -> None:
        partner, _ = platform_with_endpoint(session, "https://platform.example.id/a")
        service.add_webhook_endpoint(
            session, partner_id=partner.partner_id, url="https://platform.example.id/b", actor=Actor.system()
        )
        session.commit()
        service.queue_webhook(session, partner_id=partner.partner_id, type="purchase.confirmed", data={})
        session.rollback()
        assert jobs.pending() == []
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 0
        event = queue(session, partner)
        assert len(jobs.pending()) == 2  # one per active endpoint
        assert session.scalar(select(func.count()).select_from(WebhookDelivery)) == 2
        assert event.webhook_id.startswith("evt_")

    def test_same_event_id_queued_twice_is_one_event(self, session: Session, jobs: Jobs) -> None:
        partner, _ = platform_with_endpoint(session, "https://platform.example.id/a")
        first = queue(session, partner, event_id="purchase.confirmed:pur_1")
        again = queue(session, partner, event_id="purchase.confirmed:pur_1")
        assert again.id == first.id and len(jobs.pending()) == 1
        with pytest.raises(ValueError, match="another event"):
            queue(session, partner, event_id="purchase.confirmed:pur_1", data={"purchase_id": "pur_2"})

    @pytest.mark.parametrize(
        ("kwargs", "message"),
        [
            ({"type": "purchase.exploded"}, "unknown webhook event type"),
            ({"data": {"nik": "3201010101010001"}}, "personal data"),
            ({"event_id": "has spaces"}, "event_id"),
        ],
    )
    def test_programming_errors_refused_nothing_written(
        self, session: Session, jobs: Jobs, kwargs: dict[str, Any], message: str
    ) -> None:
        partner, _ = platform_with_endpoint(session, "https://platform.example.id/a")
        with pytest.raises(ValueError, match=message):
            queue(session, partner, **kwargs)
        session.rollback()
        assert jobs.pending() == [] and session.scalar(select(func.count()).select_from(WebhookEvent)) == 0

    def test_one_event_for_two_partners_in_one_call(self, session: Session, jobs: Jobs) -> None:
        """``queue_webhooks`` (one endpoints query, one INSERT): each partner gets its event, deliveries only to
        active endpoints, the same events again are the first ones, and an unknown partner writes nothing."""
        platform, _ = platform_with_endpoint(session, "https://platform.example.id/a")
        institution = create_partner(session, name="Lembaga Tanpa Endpoint", role="institution")
        data = {"purchase_id": "pur_1"}
        items = [
            service.WebhookToQueue(platform.partner_id, "purchase.confirmed", data, "purchase.confirmed:pur_1"),
            service.WebhookToQueue(institution.partner_id, "purchase.confirmed", data, "purchase.confirmed:pur_1"),
        ]
        first = service.queue_webhooks(session, items)
        session.commit()
        assert [e.partner_id for e in first] == [platform.partner_id, institution.partner_id]
        assert all(json.loads(e.body)["data"] == data for e in first)
        assert len(jobs.pending()) == 1  # the platform's endpoint only
        again = service.queue_webhooks(session, items)
        session.commit()
        assert [e.id for e in again] == [e.id for e in first] and len(jobs.pending()) == 1
        stranger = service.WebhookToQueue(uuid.uuid4(), "purchase.confirmed", {"purchase_id": "pur_2"})
        with pytest.raises(DomainError):
            service.queue_webhooks(session, [items[0], stranger])
        session.rollback()
        assert session.scalar(select(func.count()).select_from(WebhookEvent)) == 2

    def test_no_endpoint_no_job(self, session: Session, jobs: Jobs) -> None:
        partner = create_partner(session, role="platform")
        queue(session, partner)
        assert jobs.pending() == [] and session.scalar(select(func.count()).select_from(WebhookEvent)) == 1


# --- delivery over real HTTP ----------------------------------------------------------------------------------


class TestDelivery:
    def test_signed_per_standard_webhooks_and_verified_by_the_library(
        self, session: Session, jobs: Jobs, receiver: Receiver
    ) -> None:
        partner, secret = platform_with_endpoint(session, receiver.url)
        event = queue(session, partner, data={"purchase_id": "pur_1", "course_id": "crs_1"})
        assert jobs.run() == ["succeeded"]
        payload = receiver.verify(secret)
        assert payload["type"] == "purchase.confirmed" and payload["data"] == {
            "purchase_id": "pur_1",
            "course_id": "crs_1",
        }
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", payload["timestamp"])
        got = receiver.received[0]
        assert got.headers["webhook-id"] == event.webhook_id
        assert got.headers["content-type"] == "application/json"
        assert got.body == event.body.encode()
        assert attempts(session) == [(1, 200, "", "succeeded")]
        assert jobs.pending() == []

    def test_500_then_200_two_attempts_same_id_same_body(
        self, session: Session, jobs: Jobs, receiver: Receiver
    ) -> None:
        partner, secret = platform_with_endpoint(session, receiver.url)
        queue(session, partner)
        receiver.answer(500)
        assert jobs.run() == ["pending"]
        [(_, _, scheduled_at)] = jobs.pending()
        assert scheduled_at is not None and scheduled_at > datetime.now(UTC)  # backoff: not at once
        assert jobs.run() == ["succeeded"]
        assert attempts(session) == [(1, 500, "", "retrying"), (2, 200, "", "succeeded")]
        first, second = receiver.received
        assert first.headers["webhook-id"] == second.headers["webhook-id"] and first.body == second.body
        receiver.verify(secret, 0), receiver.verify(secret, 1)
        delivery = session.scalars(select(WebhookDelivery)).one()
        assert delivery.status == WebhookDeliveryStatus.succeeded and delivery.attempts == 2
        assert jobs.pending() == []

    def test_410_disables_the_endpoint(self, session: Session, jobs: Jobs, receiver: Receiver) -> None:
        partner, _ = platform_with_endpoint(session, receiver.url)
        queue(session, partner, event_id="first")
        queue(session, partner, event_id="second")  # queued before the 410 came back
        receiver.answer(410)
        assert jobs.run() == ["endpoint_disabled", "endpoint_disabled"]
        assert len(receiver.received) == 1  # the second was not sent
        assert attempts(session) == [(1, 410, "", "endpoint_disabled")]
        endpoint = session.scalars(select(WebhookEndpoint)).one()
        assert endpoint.status == WebhookEndpointStatus.disabled and endpoint.status_reason == "gone"
        assert audit_actions(session)[-1] == "partners.webhook_endpoint_disabled"
        queue(session, partner, event_id="third")
        assert jobs.pending() == []  # nothing queued to a disabled endpoint

    def test_429_waits_for_retry_after(self, session: Session, jobs: Jobs, receiver: Receiver) -> None:
        partner, _ = platform_with_endpoint(session, receiver.url)
        queue(session, partner)
        receiver.answer(429, {"Retry-After": "3600"})
        assert jobs.run() == ["pending"]
        attempt = session.scalars(select(WebhookAttempt)).one()
        assert attempt.status_code == 429 and attempt.next_attempt_at is not None
        assert attempt.next_attempt_at - attempt.attempted_at >= timedelta(seconds=3600)
        [(_, args, scheduled_at)] = jobs.pending()
        assert args["attempt"] == 2 and scheduled_at == attempt.next_attempt_at

    def test_timeout_is_retried(self, session: Session, jobs: Jobs, receiver: Receiver, short_timeout: None) -> None:
        partner, secret = platform_with_endpoint(session, receiver.url)
        queue(session, partner)
        receiver.answer(200, delay=2.0)
        assert jobs.run() == ["pending"]
        assert jobs.run() == ["succeeded"]
        assert attempts(session) == [(1, None, "timeout", "retrying"), (2, 200, "", "succeeded")]
        receiver.verify(secret)

    def test_connection_refused_is_retried(self, session: Session, jobs: Jobs) -> None:
        partner, _ = platform_with_endpoint(session, f"http://127.0.0.1:{free_port()}/closed")
        queue(session, partner)
        assert jobs.run() == ["pending"]
        assert attempts(session) == [(1, None, "connection_error", "retrying")]

    @pytest.mark.parametrize("status", [400, 401, 404, 301])
    def test_other_answers_fail_without_retry(
        self, session: Session, jobs: Jobs, receiver: Receiver, status: int
    ) -> None:
        partner, _ = platform_with_endpoint(session, receiver.url)
        queue(session, partner)
        receiver.answer(status, {"Location": "https://elsewhere.example/"} if status == 301 else {})
        assert jobs.run() == ["failed"]
        assert attempts(session) == [(1, status, "", "failed")] and jobs.pending() == []
        assert len(receiver.received) == 1  # a redirect is not followed

    def test_gives_up_after_about_three_days(self, session: Session, jobs: Jobs, receiver: Receiver) -> None:
        clock.freeze(datetime.now(UTC))
        try:
            partner, _ = platform_with_endpoint(session, receiver.url)
            queue(session, partner)
            receiver.answer(503)
            assert jobs.run() == ["pending"]
            clock.advance(timedelta(days=3))
            receiver.answer(503)
            assert jobs.run() == ["failed"]
        finally:
            clock.unfreeze()
        assert attempts(session) == [(1, 503, "", "retrying"), (2, 503, "", "failed")]
        assert jobs.pending() == []

    def test_after_a_rotation_both_secrets_verify_for_a_day(
        self, session: Session, jobs: Jobs, receiver: Receiver
    ) -> None:
        partner, old = platform_with_endpoint(session, receiver.url)
        [endpoint] = service.webhook_endpoints(session, partner.partner_id)
        new = service.rotate_webhook_secret(session, endpoint_id=endpoint.id, actor=Actor.system()).secret
        session.commit()
        queue(session, partner, event_id="during")
        jobs.run()
        assert len(receiver.received[-1].headers["webhook-signature"].split(" ")) == 2
        assert receiver.verify(new)["type"] == receiver.verify(old)["type"] == "purchase.confirmed"
        session.execute(text("UPDATE partner_webhook_endpoints SET previous_secret_until = now() - interval '1 s'"))
        queue(session, partner, event_id="after")
        jobs.run()
        assert receiver.verify(new)["type"] == "purchase.confirmed"
        with pytest.raises(WebhookVerificationError):
            receiver.verify(old)

    def test_a_job_run_twice_sends_once(self, session: Session, jobs: Jobs, receiver: Receiver) -> None:
        partner, _ = platform_with_endpoint(session, receiver.url)
        queue(session, partner)
        [(_, args, _)] = jobs.pending()
        with ThreadPoolExecutor(2) as pool:  # at the same time: the second waits for the first's lock
            results = sorted(pool.map(lambda _: tasks.deliver_webhook(**args), range(2)))
        assert results == ["succeeded", "succeeded"]
        assert tasks.deliver_webhook(**args) == "succeeded"  # and once more, later
        assert len(receiver.received) == 1 and attempts(session) == [(1, 200, "", "succeeded")]

    def test_a_stale_retry_job_sends_nothing(self, session: Session, jobs: Jobs, receiver: Receiver) -> None:
        partner, _ = platform_with_endpoint(session, receiver.url)
        queue(session, partner)
        receiver.answer(500)
        [(_, first_args, _)] = jobs.pending()
        assert jobs.run() == ["pending"]
        assert tasks.deliver_webhook(**first_args) == "pending"  # attempt 1 again while 2 waits: already made
        assert len(receiver.received) == 1
        assert jobs.run() == ["succeeded"]
        assert tasks.deliver_webhook(**first_args) == "succeeded"
        assert len(receiver.received) == 2 and [a[0] for a in attempts(session)] == [1, 2]

    def test_lost_jobs_are_resumed(self, session: Session, jobs: Jobs, receiver: Receiver) -> None:
        partner, _ = platform_with_endpoint(session, receiver.url)
        queue(session, partner)
        clock.freeze(datetime.now(UTC) + timedelta(hours=1))
        try:
            assert tasks.resume_webhooks() == 0  # its job is still queued: nothing added
            [(job_id, _, _)] = jobs.pending()
            jobs.done.add(job_id)
            session.execute(text("UPDATE procrastinate_jobs SET status = 'failed' WHERE id = :id"), {"id": job_id})
            session.commit()  # the job failed for good (say the database went away five times)
            assert tasks.resume_webhooks() == 1
            assert tasks.resume_webhooks() == 0
        finally:
            clock.unfreeze()
        assert jobs.run() == ["succeeded"] and len(receiver.received) == 1

    def test_endpoint_disabled_by_the_office_gets_nothing(
        self, session: Session, jobs: Jobs, receiver: Receiver
    ) -> None:
        partner, _ = platform_with_endpoint(session, receiver.url)
        queue(session, partner)
        [endpoint] = service.webhook_endpoints(session, partner.partner_id)
        service.set_webhook_endpoint_status(session, endpoint_id=endpoint.id, status="disabled", actor=Actor.system())
        session.commit()
        assert jobs.run() == ["endpoint_disabled"] and receiver.received == [] and attempts(session) == []

    def test_the_worker_delivers(self, session: Session, receiver: Receiver) -> None:
        from prakerja.worker import run_worker

        partner, secret = platform_with_endpoint(session, receiver.url)
        queue(session, partner)
        with ThreadPoolExecutor(1) as pool:
            pool.submit(run_worker, concurrency=1, wait=False).result(timeout=120)
        assert receiver.verify(secret)["type"] == "purchase.confirmed"
        assert attempts(session) == [(1, 200, "", "succeeded")]


# --- the delivery log ---------------------------------------------------------------------------------------------


def _log(client: SignedClient, partner: Partner, query: str = "") -> Any:
    response, _ = client.request("GET", "/partner/v1/webhook-deliveries" + query, partner)
    return response


class TestDeliveryLog:
    def test_each_partner_reads_its_own_attempts(
        self, session: Session, jobs: Jobs, receiver: Receiver, signed_client: SignedClient
    ) -> None:
        platform, _ = platform_with_endpoint(session, receiver.url)
        other = create_partner(session, name="Lembaga Pelatihan Nusantara", role="institution")
        event = queue(session, platform)
        receiver.answer(500)
        jobs.run()
        jobs.run()
        mine = _log(signed_client, platform)
        assert mine.status_code == 200, mine.text
        items = mine.json()["items"]
        assert [(i["event_id"], i["type"], i["attempt"], i["status"], i["status_code"]) for i in items] == [
            (event.webhook_id, "purchase.confirmed", 1, "retrying", 500),
            (event.webhook_id, "purchase.confirmed", 2, "succeeded", 200),
        ]
        assert items[0]["next_attempt_at"] is not None and items[1]["next_attempt_at"] is None
        assert items[0]["error"] is None and mine.json()["next_cursor"] is None
        theirs = _log(signed_client, other)
        assert theirs.status_code == 200 and theirs.json() == {"items": [], "next_cursor": None}

    def test_filters_and_pages(
        self, session: Session, jobs: Jobs, receiver: Receiver, signed_client: SignedClient
    ) -> None:
        platform, _ = platform_with_endpoint(session, receiver.url)
        queue(session, platform, event_id="a")
        queue(session, platform, event_id="b", type="purchase.cancelled")
        queue(session, platform, event_id="c")
        receiver.answer(404)
        jobs.run()
        by_type = _log(signed_client, platform, "?type=purchase.cancelled").json()["items"]
        assert [i["event_id"] for i in by_type] == ["b"]
        failed = _log(signed_client, platform, "?status=failed").json()["items"]
        assert [(i["event_id"], i["status_code"]) for i in failed] == [("a", 404)]
        first = _log(signed_client, platform, "?limit=2").json()
        assert [i["event_id"] for i in first["items"]] == ["a", "b"] and first["next_cursor"]
        second = _log(signed_client, platform, f"?limit=2&after={first['next_cursor']}").json()
        assert [i["event_id"] for i in second["items"]] == ["c"] and second["next_cursor"] is None
        future = (datetime.now(UTC) + timedelta(days=400)).strftime("%Y-%m-%dT%H:%M:%SZ")
        assert _log(signed_client, platform, f"?since={future}").json()["items"] == []
        past = "2020-01-01T00:00:00Z"
        assert len(_log(signed_client, platform, f"?since={past}").json()["items"]) == 3

    @pytest.mark.parametrize(
        ("query", "code"),
        [
            ("?type=purchase.exploded", "webhook_query_invalid"),
            ("?status=great", "webhook_query_invalid"),
            ("?after=nope", "webhook_query_invalid"),
            ("?since=2026-03-02T09:00:00", "webhook_query_invalid"),
            ("?since=yesterday", "invalid_request"),
            ("?limit=0", "invalid_request"),
        ],
    )
    def test_bad_filters_are_422(self, session: Session, signed_client: SignedClient, query: str, code: str) -> None:
        platform = create_partner(session, role="platform")
        response = _log(signed_client, platform, query)
        assert response.status_code == 422 and response.json()["code"] == code

    def test_unsigned_is_refused(self, signed_client: SignedClient) -> None:
        response, _ = signed_client.request("GET", "/partner/v1/webhook-deliveries", None)
        assert response.status_code == 401 and response.json()["code"] == "missing_signature"

    def test_documented_in_openapi(self, client: Any) -> None:
        spec = client.get("/openapi.json").json()
        route = spec["paths"]["/partner/v1/webhook-deliveries"]["get"]
        assert "webhook_query_invalid" in route["responses"]["422"]["x-error-codes"]
        assert {p["name"] for p in route["parameters"]} >= {"type", "status", "since", "after", "limit"}


def test_event_bodies_never_carry_personal_data(session: Session) -> None:
    partner = create_partner(session, role="platform")
    for key in ("nik", "phone", "email", "name", "card_number"):
        with pytest.raises(ValueError, match="personal data"):
            service.queue_webhook(session, partner_id=partner.partner_id, type="payout.succeeded", data={key: "x"})
    body = json.loads(queue(session, partner, type="payout.succeeded", data={"payout_id": "pay_1"}).body)
    assert body["data"] == {"payout_id": "pay_1"}
