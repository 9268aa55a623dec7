"""registration: the KTP address's region codes (district, regency, province), asked by the wizard's address
step so the KK's region is compared with the KTP address even when the applicant lives elsewhere.

Revision ID: 0008_ktpregion
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_ktpregion"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns without a default: catalogue-only changes, no table rewrite. No backfill: whether an
    # existing domicile is the KTP address is only known from the encrypted address texts; service.kk_region
    # keeps its old inference for profiles saved before these columns.
    op.add_column("registration_applicants", sa.Column("ktp_province", sa.String(length=2), nullable=True))
    op.add_column("registration_applicants", sa.Column("ktp_regency", sa.String(length=4), nullable=True))
    op.add_column("registration_applicants", sa.Column("ktp_district", sa.String(length=6), nullable=True))


def downgrade() -> None:
    op.drop_column("registration_applicants", "ktp_district")
    op.drop_column("registration_applicants", "ktp_regency")
    op.drop_column("registration_applicants", "ktp_province")
