"""The simulator's ASGI app: partners under ``/{code}/``, each request from the program checked against the partner's
secret (docs/payouts-partner-interface.md section 2), the account-linking calls (section 3) and the controls
(section 6). The payout and file routers are added by :func:`create_app` from ``paying`` and ``files``."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from fastapi import APIRouter, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse

from prakerja.simulators.payments.auth import now, partner_of, signed_json
from prakerja.simulators.payments.paying import paying_router
from prakerja.simulators.payments.state import FAULTS, Customer, LinkSession, Simulator
from prakerja.simulators.payments.statements import statements_router

OTP_LIFETIME = timedelta(minutes=5)
OTP_ATTEMPTS = 5


def _phone(value: str) -> str:
    digits = "".join(c for c in value if c.isdigit())
    return "0" + digits[2:] if digits.startswith("62") else digits


def same_name(held: str, given: str) -> bool:
    """A bank's holder-name check: the same words, ignoring case, punctuation and spacing (``PT. Maju Jaya`` is
    ``pt maju jaya``)."""

    def words(value: str) -> list[str]:
        return "".join(c if c.isalnum() else " " for c in value.casefold()).split()

    return bool(words(given)) and words(held) == words(given)


def linking_router() -> APIRouter:
    router = APIRouter()

    @router.post("/{code}/accounts/inquiry")
    async def inquiry(code: str, request: Request) -> JSONResponse:
        partner = partner_of(request, code)
        data = await signed_json(request, partner)
        reference, number = str(data.get("reference", "")), str(data.get("number", ""))
        if not reference or not number:
            raise HTTPException(422, detail={"code": "invalid_request"})
        if partner.fault("server_error"):
            raise HTTPException(503, detail={"code": "partner_error"})
        customer = partner.customers.get(_phone(number) if partner.kind == "ewallet" else number)
        with partner.lock:
            partner.links[reference] = LinkSession(reference=reference, number=number)
        if customer is None:
            return JSONResponse(
                {
                    "reference": reference,
                    "status": "not_found",
                    "holder_name": None,
                    "nik_match": False,
                    "kyc": False,
                    "phone_match": False,
                }
            )
        answer: dict[str, object] = {
            "reference": reference,
            "status": "active" if customer.active else "inactive",
            "holder_name": customer.holder_name,
            "nik_match": bool(customer.nik) and customer.nik == str(data.get("nik", "")),
            "kyc": customer.kyc if partner.kind == "ewallet" else True,
            "phone_match": _phone(customer.phone) == _phone(str(data.get("phone", ""))),
        }
        if "holder_name" in data:  # an organisation's account: the name it gave against the bank's holder
            answer["name_match"] = same_name(customer.holder_name, str(data.get("holder_name", "")))
        return JSONResponse(answer)

    @router.post("/{code}/accounts/otp", status_code=202)
    async def send_otp(code: str, request: Request) -> JSONResponse:
        partner = partner_of(request, code)
        data = await signed_json(request, partner)
        link = partner.links.get(str(data.get("reference", "")))
        if link is None:
            raise HTTPException(404, detail={"code": "unknown_reference"})
        if link.status in {"linked", "locked"}:
            raise HTTPException(409, detail={"code": f"reference_{link.status}"})
        link.otp = f"{secrets.randbelow(1_000_000):06d}"
        link.expires_at = now() + OTP_LIFETIME
        link.status = "otp_sent"
        partner.outbox.append({"number": link.number, "otp": link.otp, "at": now().isoformat()})
        return JSONResponse({"reference": link.reference, "expires_at": link.expires_at.isoformat()}, status_code=202)

    @router.post("/{code}/accounts/otp/verify")
    async def verify_otp(code: str, request: Request) -> JSONResponse:
        partner = partner_of(request, code)
        data = await signed_json(request, partner)
        link = partner.links.get(str(data.get("reference", "")))
        if link is None:
            raise HTTPException(404, detail={"code": "unknown_reference"})
        if link.status == "linked":
            return JSONResponse({"reference": link.reference, "status": "linked"})
        if link.status == "locked" or link.otp is None:
            raise HTTPException(422, detail={"code": "otp_locked" if link.status == "locked" else "otp_invalid"})
        if link.expires_at is not None and now() > link.expires_at:
            raise HTTPException(422, detail={"code": "otp_expired"})
        if not hmac.compare_digest(str(data.get("otp", "")), link.otp):
            link.attempts += 1
            if link.attempts >= OTP_ATTEMPTS:
                link.status = "locked"
                raise HTTPException(422, detail={"code": "otp_locked"})
            raise HTTPException(422, detail={"code": "otp_invalid"})
        link.status = "linked"
        return JSONResponse({"reference": link.reference, "status": "linked"})

    return router


def controls_router() -> APIRouter:
    """Unsigned controls for tests and the demo (a real partner has none of these)."""
    router = APIRouter()

    @router.post("/{code}/sim/faults")
    async def set_faults(code: str, request: Request) -> JSONResponse:
        partner = partner_of(request, code)
        body = await request.json()
        unknown = set(body) - set(FAULTS) - {"any_account"}
        if unknown or not all(isinstance(v, (int, float)) and 0 <= v <= 1 for k, v in body.items() if k in FAULTS):
            raise HTTPException(400, detail={"code": "invalid_faults", "known": list(FAULTS)})
        partner.faults.update({k: float(v) for k, v in body.items() if k in FAULTS})
        if "any_account" in body:
            partner.any_account = bool(body["any_account"])
        return JSONResponse({**partner.faults, "any_account": partner.any_account})

    @router.post("/{code}/sim/accounts", status_code=201)
    async def open_account(code: str, request: Request) -> JSONResponse:
        """Open an account at the partner (what a person does at the bank before linking it)."""
        partner = partner_of(request, code)
        body = await request.json()
        try:
            customer = Customer(
                number=_phone(str(body["number"])) if partner.kind == "ewallet" else str(body["number"]),
                holder_name=str(body["holder_name"]),
                nik=str(body.get("nik", "")),
                phone=str(body.get("phone", body["number"])),
                active=bool(body.get("active", True)),
                kyc=bool(body.get("kyc", True)),
            )
        except KeyError as missing:
            raise HTTPException(400, detail={"code": "missing_field", "field": str(missing)}) from None
        partner.customers[customer.number] = customer
        return JSONResponse({"number": customer.number}, status_code=201)

    @router.get("/{code}/sim/outbox")
    async def outbox(code: str, request: Request, number: str | None = None) -> JSONResponse:
        partner = partner_of(request, code)

        def same(value: str) -> str:
            return _phone(value) if partner.kind == "ewallet" else value

        return JSONResponse([m for m in partner.outbox if number is None or same(m["number"]) == same(number)])

    @router.get("/{code}/sim/paid")
    async def paid(code: str, request: Request) -> JSONResponse:
        partner = partner_of(request, code)
        return JSONResponse(
            [
                {
                    "end_to_end_id": p.end_to_end_id,
                    "amount": p.amount,
                    "status": p.status,
                    "times": p.times_paid,
                    "number": p.number,
                    "remittance": p.remittance,
                }
                for p in partner.payments.values()
            ]
        )

    return router


def create_app(simulator: Simulator) -> FastAPI:
    app = FastAPI(title="Payment partners simulator", docs_url=None, redoc_url=None)
    app.state.simulator = simulator

    @app.exception_handler(HTTPException)
    async def as_code(request: Request, error: HTTPException) -> JSONResponse:
        detail = error.detail if isinstance(error.detail, dict) else {"code": "error", "message": str(error.detail)}
        return JSONResponse(detail, status_code=error.status_code)

    @app.get("/_health")
    async def health() -> JSONResponse:
        return JSONResponse({"partners": sorted(simulator.partners)})

    app.include_router(linking_router())
    app.include_router(controls_router())
    app.include_router(statements_router())
    app.include_router(paying_router())
    return app


def serve(*, host: str, port: int, simulator: Simulator) -> None:
    import uvicorn

    uvicorn.run(create_app(simulator), host=host, port=port, log_level="warning")
