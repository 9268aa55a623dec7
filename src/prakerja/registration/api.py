"""Registration JSON API (``/api/v1``): identity submission, status, and list imports for ministries."""

from __future__ import annotations

import datetime
from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile

from prakerja.auth.models import Role
from prakerja.auth.service import CurrentAccount
from prakerja.kit.errors import NotFound
from prakerja.registration.errors import ListFileInvalid
from prakerja.registration.schemas import IdentityStatusOut, IdentitySubmissionCreate, ListImportOut
from prakerja.registration.service import identity, lists
from prakerja.web.deps import DbSession, require_role

router = APIRouter(prefix="/api/v1", tags=["registration"])
MAX_LIST_BYTES = 512 * 1024 * 1024


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


@router.post("/registration/identity", status_code=202, response_model=IdentityStatusOut)
def submit_identity(
    body: IdentitySubmissionCreate,
    request: Request,
    session: DbSession,
    account: CurrentAccount = Depends(require_role(Role.applicant)),
) -> IdentityStatusOut:
    """Validate, encrypt and store the identity; the civil-registry check is queued in the same transaction.

    Refusals: 422 ``invalid_input`` with ``details.fields`` (``nik_format``, ``nik_birthdate_mismatch``, ...),
    409 ``nik_taken``, 409 ``identity_locked``."""
    applicant = identity.submit_identity(
        session,
        account_id=account.id,
        submission=identity.IdentitySubmission(**body.model_dump()),
        ip=client_ip(request),
    )
    return IdentityStatusOut(applicant_id=applicant.id, identity_status=applicant.identity_status)


@router.get("/registration/identity", response_model=IdentityStatusOut)
def identity_status(
    session: DbSession, account: CurrentAccount = Depends(require_role(Role.applicant))
) -> IdentityStatusOut:
    applicant = identity.find(session, account.id)
    if applicant is None:
        raise NotFound()
    return IdentityStatusOut(applicant_id=applicant.id, identity_status=applicant.identity_status)


@router.post("/exclusion-lists/imports", response_model=ListImportOut)
def import_list(
    session: DbSession,
    file: Annotated[UploadFile, File(description="CSV with a 'nik' header, or Parquet with a 'nik' column")],
    list_type: Annotated[str, Form(max_length=32)],
    source: Annotated[str, Form(max_length=200)],
    as_of: Annotated[datetime.date, Form()],
    mode: Annotated[str, Form(max_length=8)] = "merge",
    account: CurrentAccount = Depends(require_role(Role.pmo_admin)),
) -> ListImportOut:
    """For program-office admins (ministries call the signed ``POST /partner/v1/exclusion-lists/imports``).
    Replace or merge an exclusion list or whitelist. NIKs are kept only as blind indexes; provenance (source,
    type, as-of date, who, row counts) is stored and audited."""
    data = file.file.read(MAX_LIST_BYTES + 1)
    if len(data) > MAX_LIST_BYTES:
        raise ListFileInvalid(code="list_file_too_large", status_code=413)
    result = lists.import_list(
        session,
        data=data,
        filename=file.filename or "",
        list_type=list_type,
        source=source,
        as_of=as_of,
        mode=mode,
        actor=account.actor,
        via="api",
    )
    return ListImportOut(**asdict(result))
