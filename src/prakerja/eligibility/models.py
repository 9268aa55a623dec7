"""Stored eligibility decisions: every rule's outcome with the scheme version and a hash of the inputs."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from prakerja.kit.clock import utcnow
from prakerja.kit.orm import Base, IdMixin


class StoredDecisionRow(IdMixin, Base):
    """One evaluation of one applicant. Append-only: a fresh evaluation is a new row."""

    __tablename__ = "eligibility_decisions"
    __table_args__ = (Index(None, "applicant_id", "decided_at"),)

    applicant_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("registration_applicants.id"))
    context: Mapped[str] = mapped_column(String(32))
    """Why it was evaluated: ``join``, ``close``, ``review``..."""
    eligible: Mapped[bool] = mapped_column(Boolean)
    scheme_version: Mapped[str] = mapped_column(String(64))
    """The scheme name and version whose parameters were applied."""
    inputs_hash: Mapped[str] = mapped_column(String(64))
    """Hex SHA-256 of the canonical inputs (facts and parameters)."""
    reason_codes: Mapped[list[str]] = mapped_column(ARRAY(String(64)))
    """Codes of the rules that failed (empty when eligible)."""
    checks: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    """Every rule: ``{rule, passed, reason_code, message_id, message_en}``."""
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)
