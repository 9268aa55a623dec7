"""Join the branches built in parallel after 0007 (ledger posting in SQL, intake signals, partner credentials,
region lists, results by wave, the KTP address's region) into one head.

Revision ID: 0009
Revises: 0008_intake, 0008_ktpregion, 0008_ledger, 0008_partners, 0008_selgaps, 0008_selperf
Create Date: 2026-11-29
"""

from collections.abc import Sequence

revision: str = "0009"
down_revision: str | Sequence[str] | None = (
    "0008_intake",
    "0008_ktpregion",
    "0008_ledger",
    "0008_partners",
    "0008_selgaps",
    "0008_selperf",
)
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to do: a merge point, so `prakerja db downgrade -1` and `current` are unambiguous again."""


def downgrade() -> None:
    pass
