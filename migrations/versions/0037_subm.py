"""identity submission, PostgreSQL's side (issue 15, ADR 0035): one index entry fewer a submission.

``ix_registration_applicants_domicile_regency`` becomes an index of the applicants that have a domicile regency
(``WHERE domicile_regency IS NOT NULL``, same name, same column). An identity submission writes a profile before its
address step, so it no longer adds an entry with a NULL key; a look-up by regency (``domicile_regency = ...``) is
served by the partial index as before (the equality implies the predicate), and no query looks for applicants
without one through it.

Revision ID: 0037_subm
Revises: 0036_mpg
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0037_subm"
down_revision: str | Sequence[str] | None = "0036_mpg"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "ix_registration_applicants_domicile_regency"


def upgrade() -> None:
    op.drop_index(INDEX, table_name="registration_applicants")
    op.create_index(
        INDEX,
        "registration_applicants",
        ["domicile_regency"],
        postgresql_where=sa.text("domicile_regency IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="registration_applicants")
    op.create_index(INDEX, "registration_applicants", ["domicile_regency"])
