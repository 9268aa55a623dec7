"""Public certificate routes: the DID document, status lists, and each certificate as a page, JSON and PDF."""

from __future__ import annotations

import io
from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from prakerja.certificates import service
from prakerja.certificates.errors import CertificateNotFound, StatusListNotFound
from prakerja.certificates.models import Certificate
from prakerja.certificates.rules.pdf import render_pdf
from prakerja.kit.clock import JAKARTA
from prakerja.kit.digits import read_number
from prakerja.kit.errors import DomainError
from prakerja.web.deps import DbSession
from prakerja.web.templating import render

router = APIRouter()
JSON_HEADERS = {"Cache-Control": "no-store", "Access-Control-Allow-Origin": "*"}


def _json(document: dict[str, Any], media_type: str = "application/json") -> JSONResponse:
    return JSONResponse(document, media_type=media_type, headers=JSON_HEADERS)


def _json_error(error: DomainError) -> JSONResponse:
    return JSONResponse(error.to_dict(), status_code=error.status_code, headers={"Cache-Control": "no-store"})


def mask_name(name: str) -> str:
    """``Ni Made Dewi`` -> ``Ni M**e D**i``: at most the first and last character of each part."""
    parts = []
    for part in name.split():
        parts.append(part if len(part) <= 2 else part[0] + "*" * (len(part) - 2) + part[-1])
    return " ".join(parts)


def page_url(certificate: Certificate) -> str:
    return f"{certificate.base_url}/sertifikat/{certificate.id}"


@router.get("/.well-known/did.json", include_in_schema=False)
def did_json(session: DbSession) -> Response:
    return _json(service.did_document(session), "application/did+json")


@router.get("/sertifikat/status/{list_number}", include_in_schema=False)
def status_list_json(list_number: str, session: DbSession) -> Response:
    try:
        number = read_number(list_number)
        if number is None or len(number) > 9:
            raise StatusListNotFound()
        return _json(service.status_list(session, int(number)))
    except DomainError as error:
        return _json_error(error)


@router.get("/sertifikat/{certificate_id}.json", include_in_schema=False)
def certificate_json(certificate_id: str, session: DbSession) -> Response:
    try:
        return _json(service.credential_of(service.get(session, certificate_id)))
    except CertificateNotFound as error:
        return _json_error(error)


@router.get("/sertifikat/{certificate_id}.pdf", include_in_schema=False)
def certificate_pdf(certificate_id: str, session: DbSession) -> Response:
    certificate = service.get(session, certificate_id)
    return Response(
        render_pdf(
            holder_name=mask_name(certificate.holder_name) if certificate.revoked_at else certificate.holder_name,
            course_title=certificate.course_title,
            institution_name=certificate.institution_name,
            completed_on=certificate.completed_at.astimezone(JAKARTA).date(),
            score=certificate.score,
            certificate_id=str(certificate.id),
            url=page_url(certificate),
            revoked=certificate.revoked_at is not None,
        ),
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="sertifikat-{certificate.id}.pdf"',
            "X-Robots-Tag": "noindex",
        },
    )


@router.get("/sertifikat/{certificate_id}/qr.svg", include_in_schema=False)
def certificate_qr(certificate_id: str, session: DbSession) -> Response:
    certificate = service.get(session, certificate_id)
    buffer = io.BytesIO()
    segno.make(page_url(certificate), error="m").save(buffer, kind="svg", scale=4, border=2, xmldecl=False)
    return Response(buffer.getvalue(), media_type="image/svg+xml")


@router.get("/sertifikat/{certificate_id}", include_in_schema=False)
def certificate_page(certificate_id: str, request: Request, session: DbSession) -> Response:
    certificate = service.get(session, certificate_id)
    revoked = certificate.revoked_at is not None
    response = render(
        request,
        "certificates/certificate.html",
        {
            "certificate": certificate,
            "holder": mask_name(certificate.holder_name) if revoked else certificate.holder_name,
            "revoked": revoked,
            "url": page_url(certificate),
            "did": service.did(),
        },
    )
    response.headers["X-Robots-Tag"] = "noindex"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response
