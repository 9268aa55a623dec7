"""the purchase's rows, PostgreSQL's side (issue 13 "Performance", ADR 0044): the purchases' index on ``account_id``
that no hot path reads is dropped.

- ``ix_training_purchases_account_id``: the participant's own page ("my trainings") read purchases by account; it
  now finds them by the participant (``ix_training_purchases_participant_id_status``: one profile an account, one
  card a profile, the account still filtered), and accounts are never deleted (the only other statement the index
  would serve is the foreign key's check of a deleted account). One index entry fewer at a purchase's creation and
  one at its confirmation (whose ``UPDATE`` of the status and the voucher is not HOT).
- ``training_events`` is no longer written (the partner's webhook event is the event's record): nothing changes in
  the schema for it; the table and its rows are kept until a later release drops it (expand, then contract).

Revision ID: 0042_mrows
Revises: 0041_mtrips
Create Date: 2026-12-07
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0042_mrows"
down_revision: str | Sequence[str] | None = "0041_mtrips"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index("ix_training_purchases_account_id", table_name="training_purchases")


def downgrade() -> None:
    op.create_index("ix_training_purchases_account_id", "training_purchases", ["account_id"])
