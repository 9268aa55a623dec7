"""selection: results partitioned by wave, and the digest of eligible.csv recorded at commitment.

A draw writes every entry's result at once (a million rows for a national wave). Into one shared table each row
paid for a foreign-key check (a lookup of the wave, per row) and a random insertion into the primary key. With one
partition per wave, the draw loads its rows into a new table, then attaches it: PostgreSQL builds the primary key
in one sorted pass and checks the foreign key and the partition bound with one query each, in the same
transaction. Partitions live in the schema ``selection_results_by_wave`` (``w<wave id hex>``). There is no default
partition: attaching next to one would lock it against every reader until the draw commits; results are only ever
written by the draw, which creates its wave's partition. Existing results move to one partition per wave.

``selection_draws.eligible_sha256`` lets the draw check the published eligible list against the committed one
without recomputing its Merkle tree.

Revision ID: 0008_selperf
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_selperf"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SCHEMA = "selection_results_by_wave"


def _results_table(name: str, **kwargs: str) -> None:
    op.create_table(
        name,
        sa.Column("wave_id", sa.UUID(), nullable=False),
        sa.Column("entry_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("stratum", sa.String(length=4), nullable=False),
        sa.Column("tier", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("ticket", sa.LargeBinary(length=32), nullable=False),
        sa.Column(
            "outcome", sa.Enum("selected", "waitlist", name="selection_outcome", native_enum=False), nullable=False
        ),
        sa.Column("probability_num", sa.Integer(), nullable=False),
        sa.Column("probability_den", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "selected",
                "waitlist",
                "disqualified",
                "promoted",
                name="selection_result_status",
                native_enum=False,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("status_reason", sa.String(length=64), nullable=True),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "probability_den > 0 AND probability_num >= 0", name=op.f("ck_selection_results_probability")
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["waves_waves.id"], name=op.f("fk_selection_results_wave_id_waves_waves"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("wave_id", "entry_hash", name=op.f("pk_selection_results")),
        **kwargs,
    )


_COLUMNS = (
    "wave_id, entry_hash, stratum, tier, rank, ticket, outcome, probability_num, probability_den, status, "
    "status_reason, notified_at"
)


def upgrade() -> None:
    op.add_column("selection_draws", sa.Column("eligible_sha256", sa.String(length=64), nullable=True))
    op.execute("ALTER TABLE selection_results RENAME TO selection_results_before_0008")
    for constraint in ("pk", "ck", "fk"):
        name = {"pk": "pk_selection_results", "ck": "ck_selection_results_probability"}.get(
            constraint, "fk_selection_results_wave_id_waves_waves"
        )
        op.execute(f"ALTER TABLE selection_results_before_0008 RENAME CONSTRAINT {name} TO {name}_before_0008")
    _results_table("selection_results", postgresql_partition_by="LIST (wave_id)")
    op.execute(f"CREATE SCHEMA {SCHEMA}")
    waves = op.get_bind().execute(sa.text("SELECT DISTINCT wave_id FROM selection_results_before_0008")).scalars()
    for wave_id in waves:
        op.execute(
            f"CREATE TABLE {SCHEMA}.\"w{wave_id.hex}\" PARTITION OF selection_results FOR VALUES IN ('{wave_id}')"
        )
    op.execute(f"INSERT INTO selection_results ({_COLUMNS}) SELECT {_COLUMNS} FROM selection_results_before_0008")
    op.drop_table("selection_results_before_0008")


def downgrade() -> None:
    op.execute("ALTER TABLE selection_results RENAME TO selection_results_by_wave_0008")
    for name in (
        "pk_selection_results",
        "ck_selection_results_probability",
        "fk_selection_results_wave_id_waves_waves",
    ):
        op.execute(f"ALTER TABLE selection_results_by_wave_0008 RENAME CONSTRAINT {name} TO {name}_0008")
    _results_table("selection_results")
    op.execute(f"INSERT INTO selection_results ({_COLUMNS}) SELECT {_COLUMNS} FROM selection_results_by_wave_0008")
    op.drop_table("selection_results_by_wave_0008")  # with every partition
    op.execute(f"DROP SCHEMA {SCHEMA}")
    op.drop_column("selection_draws", "eligible_sha256")
