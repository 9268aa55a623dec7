"""The attendance-proof interface: before a session's code is committed, someone confirms the participant is the
one attending (a face match against the registration photo in real life)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Proof:
    ok: bool
    reason: str = ""
    """Why it failed (a short code), empty when ``ok``."""


class AttendanceProof(Protocol):
    name: str

    def verify(self, *, account_id: uuid.UUID, session_id: uuid.UUID, at: datetime) -> Proof:
        """Whether the participant of ``account_id`` proved their presence for this session around ``at``."""
        ...
