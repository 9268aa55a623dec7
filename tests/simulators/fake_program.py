"""A tiny fake of OUR side of the marketplace API, built from the contract text alone (marketplace-api.md sections
1-2, partner-api.md sections 1-3): status codes, JSON shapes and refusal codes, signatures checked, replays and
missing idempotency keys refused, idempotent replays answered byte for byte. Tests only: the real program side
(purchases, vouchers, redeem codes, completions) is being built elsewhere; the simulators are tested against this
until it lands, and against the real app for what exists (courses, listings, webhooks)."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from prakerja.simulators.partner_client import parse_time, rfc3339


class Refused(Exception):
    def __init__(self, status: int, code: str, details: dict[str, Any] | None = None) -> None:
        super().__init__(code)
        self.status, self.code, self.details = status, code, details or {}


@dataclass
class Card:
    name: str
    balance: int
    status: str = "active"
    first_unfinished: bool = False


@dataclass
class Course:
    institution: str
    price: int
    approved: bool = True
    sessions: list[datetime] = field(default_factory=list)
    duration: timedelta = timedelta(hours=3)
    type: str = "online"


@dataclass
class Purchase:
    id: str
    card_number: str
    course_id: str
    platform: str
    amount: int
    otp: str
    otp_expires_at: datetime
    status: str = "otp_sent"
    wrong: int = 0
    voucher_code: str | None = None
    codes: dict[str, str] = field(default_factory=dict)
    """session_id -> redeem code."""


@dataclass
class Fake:
    now: Callable[[], datetime]
    keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    """client_code -> (key, role)."""
    cards: dict[str, Card] = field(default_factory=dict)
    courses: dict[str, Course] = field(default_factory=dict)
    listings: dict[tuple[str, str], int] = field(default_factory=dict)
    purchases: dict[str, Purchase] = field(default_factory=dict)
    accounts: dict[tuple[str, str], str] = field(default_factory=dict)
    """(platform, platform_account_id) -> card number."""
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)
    """redeem code -> (purchase_id, session_id)."""
    used: dict[str, datetime] = field(default_factory=dict)
    completions: dict[str, dict[str, Any]] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    idempotent: dict[tuple[str, str], tuple[str, str, bytes, int, bytes]] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    """Every authenticated call: method, path (as sent), body, headers (tests inspect them)."""

    def redeem_code(self, purchase_id: str, session_id: str) -> str:
        return self.purchases[purchase_id].codes[session_id]

    def sessions_of(self, course_id: str) -> list[tuple[str, datetime]]:
        return [(f"{course_id}-s{n}", at) for n, at in enumerate(self.courses[course_id].sessions)]


def _error(status: int, code: str, details: dict[str, Any] | None = None) -> JSONResponse:
    return JSONResponse(
        {"code": code, "message": f"Ditolak: {code}", "message_en": f"Refused: {code}", "details": details or {}},
        status_code=status,
    )


def create_app(fake: Fake) -> FastAPI:
    app = FastAPI()

    @app.api_route("/partner/v1/{rest:path}", methods=["GET", "POST", "PUT"])
    async def handle(request: Request, rest: str) -> Response:
        body = await request.body()
        raw_path = request.scope["raw_path"].decode()
        query = request.scope["query_string"].decode()
        path = raw_path + (f"?{query}" if query else "")
        code, stamp, signature = (request.headers.get(h, "") for h in ("client_code", "timestamp", "signature"))
        if not (code and stamp and signature):
            return _error(401, "missing_signature")
        if code not in fake.keys:
            return _error(401, "unknown_client")
        key, role = fake.keys[code]
        expected = hmac.new(
            key.encode(),
            code.encode() + stamp.encode() + request.method.encode() + path.encode() + body,
            hashlib.sha256,
        ).hexdigest()
        if not hmac.compare_digest(expected, signature):
            return _error(401, "bad_signature")
        if not stamp.isdigit() or abs(int(stamp) - fake.now().timestamp()) > 300:
            return _error(401, "stale_timestamp")
        if signature in fake.seen:
            return _error(401, "replayed_request")
        fake.seen.add(signature)
        fake.calls.append({"method": request.method, "path": path, "body": body, "headers": dict(request.headers)})
        idem = request.headers.get("idempotency-key")
        if request.method != "GET":
            if not idem:
                return _error(400, "idempotency_key_missing")
            first = fake.idempotent.get((code, idem))
            if first is not None:
                method, first_path, first_body, status, answer = first
                if (method, first_path.split("?")[0], first_body) != (request.method, raw_path, body):
                    return _error(422, "idempotency_key_mismatch")
                return Response(
                    answer, status_code=status, media_type="application/json", headers={"Idempotent-Replayed": "true"}
                )
        try:
            data = json.loads(body) if body else {}
            status, answer = route(fake, request.method, "/" + rest, data, code, role)
            response = JSONResponse(answer, status_code=status)
        except Refused as refusal:
            response = _error(refusal.status, refusal.code, refusal.details)
        except (ValueError, KeyError, TypeError):
            response = _error(400, "invalid_request")
        if request.method != "GET" and idem:
            fake.idempotent[(code, idem)] = (request.method, path, body, response.status_code, bytes(response.body))
        return response

    return app


def _role(role: str, needed: str) -> None:
    if role != needed:
        raise Refused(403, "partner_role_forbidden")


def _masked(number: str) -> str:
    return f"**** **** **** {number[-4:]}"


def _name(name: str) -> str:
    return " ".join(part[0] + "*" * (len(part) - 2) + part[-1] if len(part) > 2 else part for part in name.split())


def route(fake: Fake, method: str, path: str, data: dict[str, Any], client: str, role: str) -> tuple[int, Any]:
    parts = path.strip("/").split("/")
    now = fake.now()
    if method == "PUT" and parts[0] == "listings":
        _role(role, "platform")
        course = fake.courses.get(parts[1])
        if course is None:
            raise Refused(404, "course_not_found")
        if not course.approved:
            raise Refused(422, "course_not_approved")
        if int(data["price"]) > course.price:
            raise Refused(422, "listing_price_above_curated", {"curated_price": course.price})
        fake.listings[(client, parts[1])] = int(data["price"])
        return 200, {"course_id": parts[1], "status": "listed"}
    if method == "POST" and path == "/cards/inquiry":
        _role(role, "platform")
        card = _card(fake, str(data["card_number"]))
        return 200, {
            "card_number_masked": _masked(data["card_number"]),
            "name_masked": _name(card.name),
            "balance": card.balance,
            "status": card.status,
            "first_purchase_deadline": rfc3339(now + timedelta(days=30)),
        }
    if method == "POST" and path == "/purchases":
        _role(role, "platform")
        number = str(data["card_number"])
        card = _card(fake, number)
        if card.status == "revoked":
            raise Refused(422, "card_revoked")
        if card.status != "active":
            raise Refused(422, "card_not_active")
        if card.first_unfinished:
            raise Refused(422, "first_training_unfinished")
        price = fake.listings.get((client, str(data["course_id"])))
        if price is None:
            raise Refused(422, "course_not_listed")
        if card.balance < price:
            raise Refused(422, "insufficient_balance")
        bound = fake.accounts.get((client, str(data["platform_account_id"])))
        if bound is not None and bound != number:
            raise Refused(422, "platform_account_bound")
        fake.accounts[(client, str(data["platform_account_id"]))] = number
        purchase = Purchase(
            id=f"pur_{secrets.token_hex(6)}",
            card_number=number,
            course_id=str(data["course_id"]),
            platform=client,
            amount=price,
            otp=f"{secrets.randbelow(10**6):06d}",
            otp_expires_at=now + timedelta(minutes=5),
        )
        fake.purchases[purchase.id] = purchase
        return 201, {
            "purchase_id": purchase.id,
            "status": "otp_sent",
            "amount": price,
            "otp_expires_at": rfc3339(purchase.otp_expires_at),
        }
    if parts[0] == "purchases" and len(parts) >= 2:
        _role(role, "platform")
        purchase = fake.purchases.get(parts[1])
        if purchase is None or purchase.platform != client:
            raise Refused(404, "purchase_not_found")
        card = fake.cards[purchase.card_number]
        if method == "GET":
            return 200, {
                "purchase_id": purchase.id,
                "status": purchase.status,
                "course_id": purchase.course_id,
                "amount": purchase.amount,
                "voucher_code": purchase.voucher_code,
                "sessions": [
                    {"session_id": sid, "starts_at": rfc3339(at)} for sid, at in fake.sessions_of(purchase.course_id)
                ],
            }
        if parts[2] == "confirm":
            if purchase.status != "otp_sent":
                raise Refused(409, "purchase_state")
            if now > purchase.otp_expires_at:
                raise Refused(422, "otp_expired")
            if not hmac.compare_digest(str(data["otp"]), purchase.otp):
                purchase.wrong += 1
                if purchase.wrong >= 5:
                    purchase.status = "cancelled"
                    raise Refused(429, "otp_attempts_exceeded")
                raise Refused(422, "otp_invalid")
            card.balance -= purchase.amount
            purchase.status, purchase.voucher_code = "confirmed", f"VCR{secrets.token_hex(5).upper()}"
            for sid, _at in fake.sessions_of(purchase.course_id):
                code = f"RC{secrets.token_hex(4).upper()}"
                purchase.codes[sid] = code
                fake.codes[code] = (purchase.id, sid)
            return 200, {
                "purchase_id": purchase.id,
                "status": "confirmed",
                "voucher_code": purchase.voucher_code,
                "amount": purchase.amount,
                "balance_after": card.balance,
            }
        if parts[2] == "cancel":
            if purchase.status not in {"otp_sent", "confirmed"}:
                raise Refused(409, "purchase_state")
            if purchase.status == "confirmed":
                card.balance += purchase.amount
            purchase.status = "cancelled"
            return 200, {"purchase_id": purchase.id, "status": "cancelled", "balance_after": card.balance}
    if method == "POST" and path == "/vouchers/redeem":
        _role(role, "institution")
        found = [p for p in fake.purchases.values() if p.voucher_code == data["voucher_code"]]
        if not found:
            raise Refused(404, "voucher_not_found")
        purchase = found[0]
        if fake.courses[purchase.course_id].institution != client:
            raise Refused(403, "voucher_other_institution")
        if purchase.status != "confirmed":
            raise Refused(409, "voucher_used")
        purchase.status = "redeemed"
        return 200, {
            "purchase_id": purchase.id,
            "course_id": purchase.course_id,
            "participant_name_masked": _name(fake.cards[purchase.card_number].name),
            "sessions": [
                {"session_id": sid, "starts_at": rfc3339(at)} for sid, at in fake.sessions_of(purchase.course_id)
            ],
        }
    if method == "POST" and path in {"/redeem-codes/status", "/redeem-codes/commit"}:
        _role(role, "institution")
        code = str(data["redeem_code"])
        if code not in fake.codes:
            raise Refused(404, "redeem_code_not_found")
        purchase_id, sid = fake.codes[code]
        purchase = fake.purchases[purchase_id]
        course = fake.courses[purchase.course_id]
        if course.institution != client:
            raise Refused(403, "redeem_code_other_institution")
        if purchase.status == "cancelled":
            raise Refused(409, "transaction_cancelled")
        starts = dict(fake.sessions_of(purchase.course_id))[sid]
        state = "used" if code in fake.used else "valid"
        if path.endswith("status"):
            return 200, {
                "redeem_code": code,
                "state": state,
                "session_id": sid,
                "valid_from": rfc3339(starts - timedelta(hours=1)),
                "valid_until": rfc3339(starts + timedelta(hours=1)),
            }
        if state == "used":
            raise Refused(409, "redeem_code_used")
        if abs(now - starts) > timedelta(hours=1):
            raise Refused(422, "redeem_code_outside_window")
        fake.used[code] = now
        return 200, {"redeem_code": code, "state": "used", "session_id": sid, "attended_at": rfc3339(now)}
    if method == "POST" and path == "/completions":
        _role(role, "institution")
        purchase = fake.purchases[str(data["purchase_id"])]
        score = data["score"]
        if not isinstance(score, int) or not 0 <= score <= 100 or not isinstance(data["passed"], bool):
            raise Refused(422, "invalid_request")
        if purchase.id in fake.completions:
            raise Refused(409, "completion_exists")
        if any(code not in fake.used for code in purchase.codes.values()):
            raise Refused(422, "attendance_missing")
        completed_at = parse_time(str(data["completed_at"]))
        course = fake.courses[purchase.course_id]
        if completed_at > now or (course.sessions and completed_at < max(course.sessions) + course.duration):
            raise Refused(422, "completion_too_early")
        purchase.status = "completed"
        answer = {"completion_id": f"cmp_{purchase.id}", "status": "accepted", "certificate_id": f"crt_{purchase.id}"}
        fake.completions[purchase.id] = answer
        return 201, answer
    raise Refused(404, "not_found")


def _card(fake: Fake, number: str) -> Card:
    card = fake.cards.get(number)
    if card is None:
        raise Refused(404, "card_not_found")
    return card
