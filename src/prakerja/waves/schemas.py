"""Pydantic shapes for the waves API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from prakerja.waves.models import StratumLevel, WaveState

INT32_MAX = 2**31 - 1
"""The columns are PostgreSQL ``integer``: a larger number is a validation error here, not a database error."""


class WaveCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=200)
    scheme: str = Field(min_length=2, max_length=64)
    opens_at: datetime
    closes_at: datetime
    total_quota: int = Field(le=INT32_MAX)
    stratum_level: StratumLevel = StratumLevel.regency
    provinces: list[str] = Field(default_factory=list)
    priority_tiers: list[dict[str, Any]] = Field(default_factory=list)
    number: int | None = Field(default=None, ge=1, le=INT32_MAX)


class QuotaSet(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quotas: dict[str, Annotated[int, Field(le=INT32_MAX)]]


class WaveOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    number: int
    title: str
    state: WaveState
    scheme_name: str
    scheme_hash: str
    opens_at: datetime
    closes_at: datetime
    total_quota: int = Field(le=INT32_MAX)
    stratum_level: StratumLevel
    provinces: list[str]
    priority_tiers: list[dict[str, Any]]
    quota_method: str
    eligible_count: int | None
    ineligible_count: int | None


class JoinReceipt(BaseModel):
    """What the applicant is shown once: the entry secret is their key to the published files."""

    entry_id: uuid.UUID
    wave_id: uuid.UUID
    wave_number: int
    stratum: str
    entry_secret: str
    entry_hash: str
