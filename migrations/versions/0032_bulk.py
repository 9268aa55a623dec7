"""registration: the applicant table's account, phone and IP indexes hold only rows that have those values (partial
indexes), so an offline bulk import, whose records have none of them, no longer writes three index entries per row.
Uniqueness is unchanged (NULLs never conflicted); look-ups by value use the partial indexes.

Revision ID: 0032_bulk
Revises: 0030_ipath
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0032_bulk"
down_revision: str | Sequence[str] | None = "0030_ipath"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLE = "registration_applicants"
IP_INDEX = "ix_registration_applicants_registration_ip_index_created_at"


def upgrade() -> None:
    for column in ("account_id", "phone_index"):
        name = f"uq_registration_applicants_{column}"
        op.drop_constraint(name, TABLE, type_="unique")
        op.create_index(name, TABLE, [column], unique=True, postgresql_where=sa.text(f"{column} IS NOT NULL"))
    op.drop_index(IP_INDEX, table_name=TABLE)
    op.create_index(
        IP_INDEX,
        TABLE,
        ["registration_ip_index", "created_at"],
        unique=False,
        postgresql_where=sa.text("registration_ip_index IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index(IP_INDEX, table_name=TABLE)
    op.create_index(IP_INDEX, TABLE, ["registration_ip_index", "created_at"], unique=False)
    for column in ("account_id", "phone_index"):
        name = f"uq_registration_applicants_{column}"
        op.drop_index(name, table_name=TABLE)
        op.create_unique_constraint(name, TABLE, [column])
