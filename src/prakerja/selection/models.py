from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Enum,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from prakerja.kit.orm import Base


class Draw(Base):
    """A wave's lottery: the signed commitment, the revealed seed, the fairness report and the announcement."""

    __tablename__ = "selection_draws"

    wave_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("waves_waves.id", ondelete="CASCADE"), primary_key=True)
    folder: Mapped[str] = mapped_column(String(500))
    """The publication folder (under PRAKERJA_HOME/publications unless configured otherwise)."""
    eligible_count: Mapped[int] = mapped_column(BigInteger)
    merkle_root: Mapped[str] = mapped_column(String(64))
    randomness_source: Mapped[str] = mapped_column(String(200))
    randomness_reference: Mapped[str] = mapped_column(String(200))
    """The future public value that seeds the draw, named before it exists."""
    commitment_sha256: Mapped[str] = mapped_column(String(64))
    eligible_sha256: Mapped[str | None] = mapped_column(String(64))
    """SHA-256 of the published ``eligible.csv`` (the draw checks the file against it; empty for draws committed
    before it was recorded, which recompute the Merkle root instead)."""
    committed_at: Mapped[datetime]
    seed_value: Mapped[str | None] = mapped_column(String(1024))
    """Hex of the revealed public value."""
    drawn_at: Mapped[datetime | None]
    results_sha256: Mapped[str | None] = mapped_column(String(64))
    selected_count: Mapped[int | None] = mapped_column(BigInteger)
    fairness: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    """The last fairness report (checks, statistics, pass/fail)."""
    fairness_ok: Mapped[bool | None] = mapped_column(Boolean)
    override_reason: Mapped[str | None] = mapped_column(Text)
    """Why the results were published although a fairness check failed (also in the audit log)."""
    announced_at: Mapped[datetime | None]


class Outcome(enum.StrEnum):
    """What the draw decided (never changes)."""

    selected = "selected"
    waitlist = "waitlist"


class ResultStatus(enum.StrEnum):
    """Where an entry stands after the draw."""

    selected = "selected"
    """Selected by the draw."""
    waitlist = "waitlist"
    """On the waitlist, in rank order."""
    disqualified = "disqualified"
    """Selected, then found ineligible before the decree; replaced from the waitlist."""
    promoted = "promoted"
    """Moved up from the waitlist to replace a disqualified entry."""


class Result(Base):
    """One eligible entry's draw: rank, ticket, outcome and probability of selection (for the evaluation)."""

    __tablename__ = "selection_results"
    __table_args__ = (
        CheckConstraint("probability_den > 0 AND probability_num >= 0", name="probability"),
        {"postgresql_partition_by": "LIST (wave_id)"},
    )
    # No index beyond the primary key: millions of rows are COPied per draw, and the only look-up by stratum
    # (the next on a waitlist) is a rare officer action. One partition per drawn wave, in the schema
    # selection_results_by_wave (migration 0008_selperf; the draw creates and attaches it).

    wave_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("waves_waves.id", ondelete="CASCADE"), primary_key=True)
    entry_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    stratum: Mapped[str] = mapped_column(String(4))
    tier: Mapped[int] = mapped_column(Integer)
    rank: Mapped[int] = mapped_column(Integer)
    ticket: Mapped[bytes] = mapped_column(LargeBinary(32))
    outcome: Mapped[Outcome] = mapped_column(Enum(Outcome, name="selection_outcome", native_enum=False, length=8))
    probability_num: Mapped[int] = mapped_column(Integer)
    probability_den: Mapped[int] = mapped_column(Integer)
    """Probability of selection = num/den as the contract writes it (1 = 1/1, 0 = 0/1, A/B unreduced)."""
    status: Mapped[ResultStatus] = mapped_column(
        Enum(ResultStatus, name="selection_result_status", native_enum=False, length=16)
    )
    status_reason: Mapped[str | None] = mapped_column(String(64))
    notified_at: Mapped[datetime | None]
    """When the applicant was told the outcome (the announcement job's progress marker)."""
