"""Linking an account at a payment partner (docs/payouts-partner-interface.md section 3): the account inquiry, the
partner's OTP and its verification, each request signed with the partner's shared secret (section 2). The NIK and
phone go in the body of the inquiry only; nothing here logs a body, a number or an answer's personal fields."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from prakerja.kit.clock import utcnow
from prakerja.payouts.errors import PartnerUnavailable
from prakerja.payouts.providers import signing

log = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(10.0, connect=3.0)


@dataclass(frozen=True)
class Partner:
    """Where a partner is and how to sign for it."""

    code: str
    base_url: str
    secret: str


@dataclass(frozen=True)
class Inquiry:
    status: str
    """``active``, ``inactive`` or ``not_found``."""
    holder_name: str | None
    nik_match: bool
    kyc: bool
    phone_match: bool


@dataclass(frozen=True)
class Verification:
    linked: bool
    code: str | None
    """When not linked: ``otp_invalid``, ``otp_expired`` or ``otp_locked``."""


def _post(partner: Partner, path: str, body: dict[str, Any]) -> httpx.Response:
    raw = json.dumps(body, separators=(",", ":")).encode()
    url = partner.base_url.rstrip("/") + path
    headers = signing.request_headers(partner.secret, now=utcnow(), method="POST", path=urlsplit(url).path, body=raw)
    try:
        response = httpx.post(url, content=raw, headers=headers, timeout=TIMEOUT)
    except httpx.HTTPError as error:
        log.warning("payment partner unreachable", extra={"partner": partner.code, "error": type(error).__name__})
        raise PartnerUnavailable() from None
    if response.status_code >= 500 or response.status_code in (401, 404, 408, 429):
        log.warning("payment partner refused", extra={"partner": partner.code, "status": response.status_code})
        raise PartnerUnavailable()
    return response


def _json(partner: Partner, response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        data = None
    if not isinstance(data, dict):
        log.warning("payment partner answered no JSON object", extra={"partner": partner.code})
        raise PartnerUnavailable()
    return data


def inquire(partner: Partner, *, reference: str, number: str, nik: str, phone: str) -> Inquiry:
    """Who holds ``number`` at the partner, compared with the participant's NIK and registered phone."""
    response = _post(
        partner, "/accounts/inquiry", {"reference": reference, "number": number, "nik": nik, "phone": phone}
    )
    data = _json(partner, response)
    status = data.get("status")
    if response.status_code != 200 or status not in ("active", "inactive", "not_found"):
        log.warning("payment partner inquiry answer unusable", extra={"partner": partner.code})
        raise PartnerUnavailable()
    holder = data.get("holder_name")
    return Inquiry(
        status=str(status),
        holder_name=str(holder)[:200] if isinstance(holder, str) and holder else None,
        nik_match=data.get("nik_match") is True,
        kyc=data.get("kyc") is True,
        phone_match=data.get("phone_match") is True,
    )


@dataclass(frozen=True)
class OrganisationInquiry:
    status: str
    """``active``, ``inactive`` or ``not_found``."""
    holder_name: str | None
    name_match: bool
    """The bank's holder is the name the organisation gave (its legal name)."""


def inquire_organisation(partner: Partner, *, reference: str, number: str, holder_name: str) -> OrganisationInquiry:
    """Who holds an organisation's bank account ``number``, compared with the legal name it gave (section 3.1)."""
    response = _post(
        partner, "/accounts/inquiry", {"reference": reference, "number": number, "holder_name": holder_name}
    )
    data = _json(partner, response)
    status = data.get("status")
    if response.status_code != 200 or status not in ("active", "inactive", "not_found"):
        log.warning("payment partner inquiry answer unusable", extra={"partner": partner.code})
        raise PartnerUnavailable()
    holder = data.get("holder_name")
    return OrganisationInquiry(
        status=str(status),
        holder_name=str(holder)[:200] if isinstance(holder, str) and holder else None,
        name_match=data.get("name_match") is True,
    )


def send_otp(partner: Partner, *, reference: str) -> None:
    """Ask the partner to send its OTP to the account's holder."""
    response = _post(partner, "/accounts/otp", {"reference": reference})
    if response.status_code != 202:
        log.warning(
            "payment partner did not send an OTP", extra={"partner": partner.code, "status": response.status_code}
        )
        raise PartnerUnavailable()


def verify_otp(partner: Partner, *, reference: str, otp: str) -> Verification:
    response = _post(partner, "/accounts/otp/verify", {"reference": reference, "otp": otp})
    data = _json(partner, response)
    if response.status_code == 200 and data.get("status") == "linked":
        return Verification(linked=True, code=None)
    code = data.get("code")
    if response.status_code == 422 and code in ("otp_invalid", "otp_expired", "otp_locked"):
        return Verification(linked=False, code=str(code))
    log.warning("payment partner OTP answer unusable", extra={"partner": partner.code, "status": response.status_code})
    raise PartnerUnavailable()
