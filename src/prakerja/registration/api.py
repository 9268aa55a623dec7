"""Registration JSON API (``/api/v1``): identity submission, status, and list imports for ministries."""

from __future__ import annotations

import datetime
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from prakerja.auth import service as auth
from prakerja.auth.models import Role
from prakerja.auth.service import CurrentAccount
from prakerja.db import on_loop, unit_of_work
from prakerja.kit.errors import InvalidInput, NotFound, Unauthenticated
from prakerja.registration.schemas import IdentityStatusOut, IdentitySubmissionCreate, ListImportOut
from prakerja.registration.service import identity, lists
from prakerja.web.deps import (
    CsrfForCookie,
    DbSession,
    check_role,
    client_ip,
    device_id,
    require_role,
    session_token,
    signed_in_as,
    signed_in_first,
)

router = APIRouter(prefix="/api/v1", tags=["registration"])


async def submit_identity(body: IdentitySubmissionCreate, request: Request) -> IdentityStatusOut:
    """Validate, encrypt and store the identity; the civil-registry check is queued in the same transaction.
    Applicant session required (401 signed out, 403 another role).

    Refusals: 422 ``invalid_input`` with ``details.fields`` (``nik_format``, ``nik_birthdate_mismatch``, ...),
    409 ``nik_taken``, 409 ``identity_locked``."""
    # The intake hot path (ADR 0014, 0035): who is signed in and a first submission are one statement on a loop
    # connection, one round trip, no thread and no Session: the applicant, its check, its device signal and its
    # registry job are written for a live applicant session only. An existing profile takes the general path on a
    # Session in one thread hop. Refusals keep their order: signed out 401, another role 403, then the body's 422
    # (the route class answers the first two for a body FastAPI refuses; here for one the rules refuse).
    token = session_token(request)
    if token is None:
        raise Unauthenticated()
    submission = identity.IdentitySubmission(
        nik=body.nik, kk=body.kk, birth_date=body.birth_date, sex=body.sex, full_name=body.full_name,
        mother_maiden_name=body.mother_maiden_name,
    )  # fmt: skip
    ip, device = client_ip(request), device_id(request)
    try:
        async with on_loop() as conn:
            done = await identity.submit_signed_in_identity_on_loop(
                conn, session=auth.session_lookup(token), role=Role.applicant, submission=submission, ip=ip,
                device=device,
            )  # fmt: skip
    except InvalidInput:
        await signed_in_as(request, _APPLICANT)
        raise
    if done.account is None:
        raise Unauthenticated()
    request.state.user = done.account
    account = check_role(done.account, _APPLICANT)
    submitted = done.submitted
    if submitted is None:
        submitted = await run_in_threadpool(_submit_identity, account, submission, ip, device)
    return IdentityStatusOut(applicant_id=submitted.id, identity_status=submitted.identity_status)


_APPLICANT = frozenset({Role.applicant})
router.add_api_route(
    "/registration/identity",
    submit_identity,
    methods=["POST"],
    status_code=202,
    response_model=IdentityStatusOut,
    route_class_override=signed_in_first(Role.applicant),
)


def _submit_identity(
    account: CurrentAccount, submission: identity.IdentitySubmission, ip: str | None, device: str | None
) -> identity.Submitted:
    with unit_of_work() as session:
        return identity.submit_identity(session, account_id=account.id, submission=submission, ip=ip, device=device)


@router.get("/registration/identity", response_model=IdentityStatusOut)
def identity_status(
    session: DbSession, account: CurrentAccount = Depends(require_role(Role.applicant))
) -> IdentityStatusOut:
    applicant = identity.find(session, account.id)
    if applicant is None:
        raise NotFound()
    return IdentityStatusOut(applicant_id=applicant.id, identity_status=applicant.identity_status)


@router.post("/exclusion-lists/imports", response_model=ListImportOut, dependencies=[CsrfForCookie])
def import_list(
    session: DbSession,
    file: Annotated[UploadFile, File(description="CSV with a 'nik' header, or Parquet with a 'nik' column")],
    list_type: Annotated[str, Form(max_length=32)],
    source: Annotated[str, Form(max_length=200)],
    as_of: Annotated[datetime.date, Form()],
    mode: Annotated[str, Form(max_length=8)] = "merge",
    account: CurrentAccount = Depends(require_role(Role.pmo_admin)),
) -> ListImportOut:
    """For program-office admins (ministries call the signed ``POST /partner/v1/exclusion-lists/imports``), signed
    in by cookie: send the CSRF cookie's value as ``X-CSRF-Token`` or the ``csrf_token`` field (403
    ``csrf_failed``). Replace or merge an exclusion list or whitelist. NIKs are kept only as blind indexes;
    provenance (source, type, as-of date, who, row counts) is stored and audited."""
    result = lists.import_list(
        session,
        data=lists.read_upload(file.file),
        filename=file.filename or "",
        list_type=list_type,
        source=source,
        as_of=as_of,
        mode=mode,
        actor=account.actor,
        via="api",
    )
    return ListImportOut(**asdict(result))
