"""SMS through an HTTP gateway speaking a small JSON protocol (docs/operations.md, "SMS gateway protocol").

``POST {base}/v1/messages`` with ``Authorization: Bearer <token>`` and ``{"id", "to", "text"}``; the gateway
answers ``200``/``201`` with ``{"id", "status": "accepted", "ref"}`` and deduplicates on ``id``, so a retried
delivery never sends a second SMS. Other ``4xx`` mean the gateway refused the message for good; ``5xx``, ``429``
and timeouts are retried here a few times (tenacity), then by the job, as are ``401``/``403`` (a wrong token is a
configuration to fix, not a reason to drop people's messages)."""

from __future__ import annotations

import httpx
from sqlalchemy.orm import Session
from tenacity import retry, retry_if_exception_type, stop_after_attempt, wait_exponential

from prakerja.notifications.providers.base import DeliveryFailed, Outgoing, TemporaryFailure


class HttpSmsSender:
    def __init__(
        self,
        *,
        base_url: str,
        token: str | None,
        timeout: float = 10.0,
        attempts: int = 3,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.timeout = httpx.Timeout(timeout, connect=min(timeout, 5.0))
        self.attempts = attempts
        self.transport = transport

    def send(self, session: Session, message: Outgoing) -> str:
        payload = {"id": message.message_id, "to": message.recipient, "text": message.body}
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}

        @retry(
            retry=retry_if_exception_type(TemporaryFailure),
            stop=stop_after_attempt(self.attempts),
            wait=wait_exponential(multiplier=0.2, max=2),
            reraise=True,
        )
        def post(client: httpx.Client) -> httpx.Response:
            try:
                response = client.post(f"{self.base_url}/v1/messages", json=payload, headers=headers)
            except httpx.HTTPError as error:
                raise TemporaryFailure(f"sms gateway: {type(error).__name__}") from None
            if response.status_code >= 500 or response.status_code == 429:
                raise TemporaryFailure(f"sms gateway: status {response.status_code}")
            return response

        with httpx.Client(timeout=self.timeout, transport=self.transport) as client:
            response = post(client)
        if response.status_code in (401, 403):
            # our credentials are wrong: a configuration to fix, after which the job's retry gets through
            raise TemporaryFailure(f"sms gateway: refused our token ({response.status_code})")
        if response.status_code >= 400:
            raise DeliveryFailed(f"sms gateway: refused with status {response.status_code}")
        try:
            ref = str(response.json()["ref"])
        except (ValueError, KeyError, TypeError):
            raise TemporaryFailure("sms gateway: unreadable answer") from None
        return f"sms:{ref}"[:128]
