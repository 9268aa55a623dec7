"""identity submission, PostgreSQL's side (issue 15, ADR 0038): three index entries fewer a submission.

- ``ix_registration_applicants_kk_index`` dropped: no query looks a profile up by its KK's blind index (the KK is read
  with the profile; the per-family cap counts ``selection_recipients`` by their own ``kk_index`` index).
- ``registration_signals`` keyed by what a row says: the primary key becomes ``(applicant_id, kind, value_index)``
  (what the unique constraint held), the surrogate ``id`` (never read, never referenced) and its index go, and so
  does ``ix_registration_signals_kind_value_index`` (the integrity scan aggregates the whole table; no query looks
  a value up through it). One index entry a signal instead of three; the same rows are refused as duplicates.

The downgrade gives the signals fresh random ids (the old ones were never read).

Revision ID: 0038_subpg
Revises: 0037_subm
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0038_subpg"
down_revision: str | Sequence[str] | None = "0037_subm"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SIGNALS = "registration_signals"
KEY = ["applicant_id", "kind", "value_index"]


def upgrade() -> None:
    op.drop_index("ix_registration_applicants_kk_index", table_name="registration_applicants")
    op.drop_index("ix_registration_signals_kind_value_index", table_name=SIGNALS)
    op.drop_constraint("pk_registration_signals", SIGNALS, type_="primary")
    op.drop_constraint("uq_registration_signals_applicant_id_kind_value_index", SIGNALS, type_="unique")
    op.create_primary_key("pk_registration_signals", SIGNALS, KEY)
    op.drop_column(SIGNALS, "id")


def downgrade() -> None:
    op.add_column(SIGNALS, sa.Column("id", sa.Uuid(), nullable=True))
    op.execute(f"UPDATE {SIGNALS} SET id = gen_random_uuid()")
    op.alter_column(SIGNALS, "id", nullable=False)
    op.drop_constraint("pk_registration_signals", SIGNALS, type_="primary")
    op.create_primary_key("pk_registration_signals", SIGNALS, ["id"])
    op.create_unique_constraint("uq_registration_signals_applicant_id_kind_value_index", SIGNALS, KEY)
    op.create_index("ix_registration_signals_kind_value_index", SIGNALS, ["kind", "value_index"])
    op.create_index("ix_registration_applicants_kk_index", "registration_applicants", ["kk_index"])
