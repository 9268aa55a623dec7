"""Who is calling the payment simulator: the partner named in the path, and the program's signature on the request
(docs/payouts-partner-interface.md section 2). Shared by the account, paying and statement routes."""

from __future__ import annotations

import hmac
import json
import time
from datetime import UTC, datetime
from typing import Any

from fastapi import HTTPException, Request

from prakerja.simulators.payments.state import Partner, Simulator, request_signature


def now() -> datetime:
    return datetime.now(UTC)


def partner_of(request: Request, code: str) -> Partner:
    simulator: Simulator = request.app.state.simulator
    partner = simulator.partners.get(code)
    if partner is None:
        raise HTTPException(404, detail={"code": "unknown_partner"})
    return partner


def check_signature(request: Request, partner: Partner, body: bytes) -> None:
    """401 ``stale_timestamp`` or ``bad_signature`` unless the program signed this request and body."""
    stamp = request.headers.get("x-prakerja-timestamp", "")
    given = request.headers.get("x-prakerja-signature", "")
    if not (stamp.isascii() and stamp.isdigit()) or abs(time.time() - int(stamp)) > 300:
        raise HTTPException(401, detail={"code": "stale_timestamp"})
    wanted = request_signature(partner.secret, int(stamp), request.method, request.url.path, body)
    if not hmac.compare_digest(given, wanted):
        raise HTTPException(401, detail={"code": "bad_signature"})


async def signed_body(request: Request, partner: Partner) -> bytes:
    """The raw body of a request the program signed, or 401."""
    body = await request.body()
    check_signature(request, partner, body)
    return body


async def signed_json(request: Request, partner: Partner) -> dict[str, Any]:
    body = await signed_body(request, partner)
    try:
        data = json.loads(body)
    except ValueError:
        raise HTTPException(400, detail={"code": "malformed_body"}) from None
    if not isinstance(data, dict):
        raise HTTPException(400, detail={"code": "malformed_body"})
    return data
