"""Development and test stand-ins for the attendance proof: one that always passes (the default) and one that
always fails (to see the review path)."""

from __future__ import annotations

import uuid
from datetime import datetime

from prakerja.training.providers.base import Proof


class SimulatorProof:
    name = "simulator"

    def verify(self, *, account_id: uuid.UUID, session_id: uuid.UUID, at: datetime) -> Proof:
        return Proof(ok=True)


class FailingSimulatorProof:
    name = "simulator_fail"

    def verify(self, *, account_id: uuid.UUID, session_id: uuid.UUID, at: datetime) -> Proof:
        return Proof(ok=False, reason="face_mismatch")
