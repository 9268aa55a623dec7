"""payouts: a purchase refunded after the settlement of its month was paid is claimed back from the institution
(its share) and from the platform (its commission's share), one receivable each: ``payouts_receivables`` is unique
per purchase and organisation instead of per purchase (the ledger's new ``platform_receivable`` account kind and
``platform_clawback`` transfer code need no change in the schema).

Revision ID: 0035_commission
Revises: 0034_pay2
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0035_commission"
down_revision: str | Sequence[str] | None = "0034_pay2"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_constraint(op.f("uq_payouts_receivables_purchase_id"), "payouts_receivables", type_="unique")
    op.create_unique_constraint(
        op.f("uq_payouts_receivables_purchase_id_organisation_id"),
        "payouts_receivables",
        ["purchase_id", "organisation_id"],
    )


def downgrade() -> None:
    op.drop_constraint(
        op.f("uq_payouts_receivables_purchase_id_organisation_id"), "payouts_receivables", type_="unique"
    )
    op.create_unique_constraint(op.f("uq_payouts_receivables_purchase_id"), "payouts_receivables", ["purchase_id"])
