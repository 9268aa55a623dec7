"""The attendance-proof provider chosen by ``PRAKERJA_ATTENDANCE_PROOF``."""

from __future__ import annotations

from prakerja.config import get_settings
from prakerja.training.providers.base import AttendanceProof, Proof
from prakerja.training.providers.simulator import FailingSimulatorProof, SimulatorProof


def attendance_proof() -> AttendanceProof:
    choice = get_settings().attendance_proof
    if choice == "simulator_fail":
        return FailingSimulatorProof()
    return SimulatorProof()


__all__ = ["AttendanceProof", "Proof", "attendance_proof"]
