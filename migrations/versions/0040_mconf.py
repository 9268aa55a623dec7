"""purchase confirmation, PostgreSQL's side (issue 13 "Performance", ADR 0040): a redeem code refers to its purchase
and the purchase's institution in one reference; the purchases' index on ``course_id`` that nothing reads is dropped.

- ``training_redeem_codes``: the foreign keys ``(purchase_id) -> training_purchases`` and ``(institution_id) ->
  auth_partners`` become one, ``(institution_id, purchase_id) -> training_purchases (institution_id, id)``: a code's
  institution is its purchase's (which refers to the partner), a stronger statement than before (a code of another
  institution than its purchase's was accepted), checked on the purchase's own row (locked by the confirmation that
  writes the codes) instead of a key-share lock on the institution's row, which every buyer of that institution's
  courses shares (five a confirmation). Its target: the purchases' index on ``institution_id`` (the institution's
  lists) becomes the unique ``(institution_id, id)``, which serves the same lists (same leading column): no index
  added.
- ``ix_training_purchases_course_id`` dropped: no statement reads purchases by course (the course pages read the
  catalogue's own tables; the joins from a purchase to its course go the other way), and courses are never deleted
  (the only statement the index would serve is the foreign key's check of a deleted course). One index entry fewer
  at a purchase's creation and one at its confirmation (whose ``UPDATE`` of the status and the voucher is not HOT).

Revision ID: 0040_mconf
Revises: 0039_maudit
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0040_mconf"
down_revision: str | Sequence[str] | None = "0039_maudit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_unique_constraint(
        "uq_training_purchases_institution_id_id", "training_purchases", ["institution_id", "id"]
    )
    op.drop_index("ix_training_purchases_institution_id", table_name="training_purchases")
    # every code written so far carries its purchase's institution (both writers copy it from the purchase's row);
    # the new reference is validated on the existing rows as it is added
    op.create_foreign_key(
        "fk_training_redeem_codes_purchase_institution",
        "training_redeem_codes",
        "training_purchases",
        ["institution_id", "purchase_id"],
        ["institution_id", "id"],
    )
    op.drop_constraint(
        "fk_training_redeem_codes_purchase_id_training_purchases", "training_redeem_codes", type_="foreignkey"
    )
    op.drop_constraint(
        "fk_training_redeem_codes_institution_id_auth_partners", "training_redeem_codes", type_="foreignkey"
    )
    op.drop_index("ix_training_purchases_course_id", table_name="training_purchases")


def downgrade() -> None:
    op.create_index("ix_training_purchases_course_id", "training_purchases", ["course_id"])
    op.create_foreign_key(
        "fk_training_redeem_codes_institution_id_auth_partners",
        "training_redeem_codes",
        "auth_partners",
        ["institution_id"],
        ["id"],
    )
    op.create_foreign_key(
        "fk_training_redeem_codes_purchase_id_training_purchases",
        "training_redeem_codes",
        "training_purchases",
        ["purchase_id"],
        ["id"],
    )
    op.drop_constraint("fk_training_redeem_codes_purchase_institution", "training_redeem_codes", type_="foreignkey")
    op.create_index("ix_training_purchases_institution_id", "training_purchases", ["institution_id"])
    op.drop_constraint("uq_training_purchases_institution_id_id", "training_purchases", type_="unique")
