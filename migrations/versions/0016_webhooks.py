"""partners: webhooks we send (partner-api.md section 4): endpoints with their encrypted secrets, events with their
fixed bodies, one delivery per event and endpoint, and every attempt (the log partners read).

Revision ID: 0016_webhooks
Revises: 0015_catalog
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016_webhooks"
down_revision: str | Sequence[str] | None = "0015_catalog"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

EVENT_TYPES = (
    "purchase.confirmed",
    "purchase.cancelled",
    "session.cancelled",
    "completion.accepted",
    "completion.refused",
    "certificate.issued",
    "certificate.revoked",
    "payout.succeeded",
    "payout.failed",
)


def upgrade() -> None:
    op.create_table(
        "partner_webhook_endpoints",
        sa.Column("partner_id", sa.UUID(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("active", "disabled", name="partner_webhook_endpoint_status", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status_reason", sa.String(length=200), nullable=False),
        sa.Column("created_by", sa.UUID(), nullable=True),
        sa.Column("secret_rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("previous_secret", sa.LargeBinary(), nullable=True),
        sa.Column("previous_secret_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["auth_partners.id"], name=op.f("fk_partner_webhook_endpoints_partner_id_auth_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_webhook_endpoints")),
    )
    op.create_index(
        op.f("ix_partner_webhook_endpoints_partner_id"), "partner_webhook_endpoints", ["partner_id"], unique=False
    )
    op.create_table(
        "partner_webhook_events",
        sa.Column("partner_id", sa.UUID(), nullable=False),
        sa.Column("webhook_id", sa.String(length=128), nullable=False),
        sa.Column(
            "type",
            sa.Enum(*EVENT_TYPES, name="partner_webhook_event_type", native_enum=False, length=64),
            nullable=False,
        ),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["auth_partners.id"], name=op.f("fk_partner_webhook_events_partner_id_auth_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_webhook_events")),
        sa.UniqueConstraint("partner_id", "webhook_id", name=op.f("uq_partner_webhook_events_partner_id_webhook_id")),
    )
    op.create_index(
        op.f("ix_partner_webhook_events_partner_id"), "partner_webhook_events", ["partner_id"], unique=False
    )
    op.create_table(
        "partner_webhook_deliveries",
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("endpoint_id", sa.UUID(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "succeeded",
                "failed",
                "endpoint_disabled",
                name="partner_webhook_delivery_status",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["partner_webhook_endpoints.id"],
            name=op.f("fk_partner_webhook_deliveries_endpoint_id_partner_webhook_endpoints"),
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["partner_webhook_events.id"],
            name=op.f("fk_partner_webhook_deliveries_event_id_partner_webhook_events"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_webhook_deliveries")),
        sa.UniqueConstraint("event_id", "endpoint_id", name=op.f("uq_partner_webhook_deliveries_event_id_endpoint_id")),
    )
    op.create_index(
        op.f("ix_partner_webhook_deliveries_endpoint_id"), "partner_webhook_deliveries", ["endpoint_id"], unique=False
    )
    op.create_table(
        "partner_webhook_attempts",
        sa.Column("delivery_id", sa.UUID(), nullable=False),
        sa.Column("partner_id", sa.UUID(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.String(length=64), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "succeeded",
                "retrying",
                "failed",
                "endpoint_disabled",
                name="partner_webhook_attempt_outcome",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["partner_webhook_deliveries.id"],
            name=op.f("fk_partner_webhook_attempts_delivery_id_partner_webhook_deliveries"),
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["auth_partners.id"], name=op.f("fk_partner_webhook_attempts_partner_id_auth_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_webhook_attempts")),
        sa.UniqueConstraint("delivery_id", "number", name=op.f("uq_partner_webhook_attempts_delivery_id_number")),
    )
    op.create_index(
        op.f("ix_partner_webhook_attempts_partner_id_id"),
        "partner_webhook_attempts",
        ["partner_id", "id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_partner_webhook_attempts_partner_id_id"), table_name="partner_webhook_attempts")
    op.drop_table("partner_webhook_attempts")
    op.drop_index(op.f("ix_partner_webhook_deliveries_endpoint_id"), table_name="partner_webhook_deliveries")
    op.drop_table("partner_webhook_deliveries")
    op.drop_index(op.f("ix_partner_webhook_events_partner_id"), table_name="partner_webhook_events")
    op.drop_table("partner_webhook_events")
    op.drop_index(op.f("ix_partner_webhook_endpoints_partner_id"), table_name="partner_webhook_endpoints")
    op.drop_table("partner_webhook_endpoints")
