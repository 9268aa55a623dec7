"""JSON shapes of the registration API."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field


class IdentitySubmissionCreate(BaseModel):
    """The identity an applicant declares; checked by the same rules as the wizard."""

    model_config = ConfigDict(extra="forbid")

    nik: str = Field(max_length=64)
    kk: str = Field(max_length=64)
    birth_date: str = Field(max_length=32, description="YYYY-MM-DD")
    sex: str = Field(max_length=1, description="M or F")
    full_name: str = Field(max_length=500)
    mother_maiden_name: str = Field(max_length=500)


class IdentityStatusOut(BaseModel):
    applicant_id: uuid.UUID
    identity_status: str


class ListImportOut(BaseModel):
    import_id: str
    list_type: str
    kind: str
    mode: str
    rows_read: int
    rows_invalid: int
    rows_added: int
    rows_removed: int
    rows_total: int
