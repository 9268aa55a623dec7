"""the signed call's admission in the call's own transaction (issue 13 "Performance", ADR 0043): a credential's rate
count per minute is kept in shards, one per database connection that counted it, so no call holds the minute's row
locked until its commit.

- ``partner_rate_windows``: a column ``shard`` (``integer``, 0 for the rows written before, and for the admission
  committed on its own, ADR 0033) joins the primary key ``(credential_id, window_start, shard)``. The admission
  folded into a call's transaction (ADR 0043) counts in the shard of its server process (``pg_backend_pid()``: no
  two transactions at once share one), and the minute's count is the sum of its shards. The index on
  ``window_start`` (the purge's) is unchanged.

Revision ID: 0041_mtrips
Revises: 0040_mconf
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0041_mtrips"
down_revision: str | Sequence[str] | None = "0040_mconf"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("partner_rate_windows", sa.Column("shard", sa.Integer(), server_default="0", nullable=False))
    op.drop_constraint("pk_partner_rate_windows", "partner_rate_windows", type_="primary")
    op.create_primary_key("pk_partner_rate_windows", "partner_rate_windows", ["credential_id", "window_start", "shard"])


def downgrade() -> None:
    # the shards of a minute summed into one row, as the table held it before
    op.execute(
        "DELETE FROM partner_rate_windows w USING (SELECT credential_id, window_start, sum(hits) AS hits, min(shard)"
        " AS keep FROM partner_rate_windows GROUP BY credential_id, window_start HAVING count(*) > 1) s"
        " WHERE w.credential_id = s.credential_id AND w.window_start = s.window_start AND w.shard <> s.keep"
    )
    op.execute(
        "UPDATE partner_rate_windows w SET hits = s.hits FROM (SELECT credential_id, window_start, sum(hits) AS hits"
        " FROM partner_rate_windows GROUP BY credential_id, window_start) s"
        " WHERE w.credential_id = s.credential_id AND w.window_start = s.window_start"
    )
    op.drop_constraint("pk_partner_rate_windows", "partner_rate_windows", type_="primary")
    op.drop_column("partner_rate_windows", "shard")
    op.create_primary_key("pk_partner_rate_windows", "partner_rate_windows", ["credential_id", "window_start"])
