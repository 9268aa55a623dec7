"""Pydantic shapes for the selection API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CommitmentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    randomness_source: str = Field(max_length=200)
    randomness_reference: str = Field(max_length=200)


class SeedReveal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reference: str = Field(max_length=200)
    value: str = Field(max_length=1024)


class Announcement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    override_reason: str | None = Field(default=None, max_length=2000)


class Disqualification(BaseModel):
    model_config = ConfigDict(extra="forbid")

    entry_hash: str = Field(max_length=64)
    reason: str = Field(min_length=1, max_length=500)


class DrawOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    wave_id: uuid.UUID
    eligible_count: int
    merkle_root: str
    randomness_source: str
    randomness_reference: str
    commitment_sha256: str
    committed_at: datetime
    seed_value: str | None
    drawn_at: datetime | None
    results_sha256: str | None
    selected_count: int | None
    fairness: dict[str, Any] | None
    fairness_ok: bool | None
    override_reason: str | None
    announced_at: datetime | None
