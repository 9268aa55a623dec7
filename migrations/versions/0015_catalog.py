"""catalog: courses and their sessions, curation decisions, platform listings, platform-institution links.
Courses carry a generated tsvector (``indonesian`` text-search configuration) with a GIN index.

Revision ID: 0015_catalog
Revises: 0014_certificates
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0015_catalog"
down_revision: str | Sequence[str] | None = "0014_certificates"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The model's Computed expression, as PostgreSQL prints it back (so autogenerate finds no difference).
SEARCH_DOCUMENT = (
    "setweight(to_tsvector('indonesian'::regconfig, (title)::text), 'A'::\"char\") || "
    "setweight(to_tsvector('indonesian'::regconfig, (competency_standard)::text), 'B'::\"char\") || "
    "setweight(to_tsvector('indonesian'::regconfig, syllabus), 'C'::\"char\")"
)


def upgrade() -> None:
    op.create_table(
        "catalog_courses",
        sa.Column("institution_id", sa.UUID(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("competency_standard", sa.String(length=300), nullable=False),
        sa.Column("syllabus", sa.Text(), nullable=False),
        sa.Column(
            "format",
            sa.Enum(
                "webinar", "self_paced", "offline", "hybrid", name="catalog_course_format", native_enum=False, length=16
            ),
            nullable=False,
        ),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("class_size", sa.Integer(), nullable=False),
        sa.Column("trainer_count", sa.Integer(), nullable=False),
        sa.Column("trainers", sa.LargeBinary(), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("outside_price", sa.BigInteger(), nullable=False),
        sa.Column("outside_url", sa.String(length=500), nullable=False),
        sa.Column("interactive", sa.Boolean(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "in_curation",
                "approved",
                "changes_requested",
                "rejected",
                name="catalog_course_status",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("scheme_name", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rating_average", sa.Numeric(precision=3, scale=2), nullable=True),
        sa.Column("rating_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed(
                SEARCH_DOCUMENT,
                persisted=True,
            ),
            nullable=False,
        ),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("class_size > 0", name=op.f("ck_catalog_courses_class_size_positive")),
        sa.CheckConstraint("hours > 0", name=op.f("ck_catalog_courses_hours_positive")),
        sa.CheckConstraint("outside_price >= 0", name=op.f("ck_catalog_courses_outside_price_not_negative")),
        sa.CheckConstraint("price > 0", name=op.f("ck_catalog_courses_price_positive")),
        sa.CheckConstraint("trainer_count > 0", name=op.f("ck_catalog_courses_trainer_count_positive")),
        sa.CheckConstraint("version > 0", name=op.f("ck_catalog_courses_version_positive")),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["auth_partners.id"], name=op.f("fk_catalog_courses_institution_id_auth_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_courses")),
    )
    op.create_index(op.f("ix_catalog_courses_institution_id"), "catalog_courses", ["institution_id"], unique=False)
    op.create_index("ix_catalog_courses_search", "catalog_courses", ["search"], unique=False, postgresql_using="gin")
    op.create_index(op.f("ix_catalog_courses_status_category"), "catalog_courses", ["status", "category"], unique=False)
    op.create_table(
        "catalog_partner_links",
        sa.Column("platform_id", sa.UUID(), nullable=False),
        sa.Column("institution_id", sa.UUID(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("ownership", "shared_person", name="catalog_link_kind", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("evidence", sa.LargeBinary(), nullable=False),
        sa.Column("recorded_by", sa.UUID(), nullable=True),
        sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.UUID(), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["institution_id"], ["auth_partners.id"], name=op.f("fk_catalog_partner_links_institution_id_auth_partners")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["auth_partners.id"], name=op.f("fk_catalog_partner_links_platform_id_auth_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_partner_links")),
    )
    op.create_index(
        op.f("ix_catalog_partner_links_institution_id"), "catalog_partner_links", ["institution_id"], unique=False
    )
    op.create_index(
        "uq_catalog_partner_links_active",
        "catalog_partner_links",
        ["platform_id", "institution_id", "kind"],
        unique=True,
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.create_table(
        "catalog_course_sessions",
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_minutes", sa.Integer(), nullable=False),
        sa.Column(
            "training_type",
            sa.Enum("online", "offline", name="catalog_training_type", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("place", sa.String(length=300), nullable=False),
        sa.Column("province_code", sa.String(length=2), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.CheckConstraint(
            "training_type <> 'offline' OR (province_code IS NOT NULL AND place <> '')",
            name=op.f("ck_catalog_course_sessions_offline_has_place"),
        ),
        sa.CheckConstraint(
            "duration_minutes > 0 AND duration_minutes <= 1440",
            name=op.f("ck_catalog_course_sessions_duration_in_a_day"),
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["catalog_courses.id"],
            name=op.f("fk_catalog_course_sessions_course_id_catalog_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_course_sessions")),
        sa.UniqueConstraint("course_id", "position", name=op.f("uq_catalog_course_sessions_course_id_position")),
    )
    op.create_index(
        op.f("ix_catalog_course_sessions_province_code_course_id"),
        "catalog_course_sessions",
        ["province_code", "course_id"],
        unique=False,
    )
    op.create_table(
        "catalog_curation_decisions",
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("course_version", sa.Integer(), nullable=False),
        sa.Column(
            "decision",
            sa.Enum("approved", "changes_requested", "rejected", name="catalog_decision", native_enum=False, length=24),
            nullable=False,
        ),
        sa.Column("reasons", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("checks", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("scheme_name", sa.String(length=64), nullable=False),
        sa.Column("scheme_version", sa.String(length=32), nullable=False),
        sa.Column("scheme_hash", sa.String(length=64), nullable=False),
        sa.Column("inputs_hash", sa.String(length=64), nullable=False),
        sa.Column("officer_id", sa.UUID(), nullable=True),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["catalog_courses.id"],
            name=op.f("fk_catalog_curation_decisions_course_id_catalog_courses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_curation_decisions")),
    )
    op.create_index(
        op.f("ix_catalog_curation_decisions_course_id_created_at"),
        "catalog_curation_decisions",
        ["course_id", "created_at"],
        unique=False,
    )
    op.create_table(
        "catalog_listings",
        sa.Column("course_id", sa.UUID(), nullable=False),
        sa.Column("platform_id", sa.UUID(), nullable=False),
        sa.Column("url", sa.String(length=500), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column(
            "status",
            sa.Enum("listed", "suspended", name="catalog_listing_status", native_enum=False, length=16),
            nullable=False,
        ),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("price > 0", name=op.f("ck_catalog_listings_price_positive")),
        sa.ForeignKeyConstraint(
            ["course_id"], ["catalog_courses.id"], name=op.f("fk_catalog_listings_course_id_catalog_courses")
        ),
        sa.ForeignKeyConstraint(
            ["platform_id"], ["auth_partners.id"], name=op.f("fk_catalog_listings_platform_id_auth_partners")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_catalog_listings")),
        sa.UniqueConstraint("course_id", "platform_id", name=op.f("uq_catalog_listings_course_id_platform_id")),
    )
    op.create_index(op.f("ix_catalog_listings_platform_id"), "catalog_listings", ["platform_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_catalog_listings_platform_id"), table_name="catalog_listings")
    op.drop_table("catalog_listings")
    op.drop_index(op.f("ix_catalog_curation_decisions_course_id_created_at"), table_name="catalog_curation_decisions")
    op.drop_table("catalog_curation_decisions")
    op.drop_index(op.f("ix_catalog_course_sessions_province_code_course_id"), table_name="catalog_course_sessions")
    op.drop_table("catalog_course_sessions")
    op.drop_index(
        "uq_catalog_partner_links_active",
        table_name="catalog_partner_links",
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.drop_index(op.f("ix_catalog_partner_links_institution_id"), table_name="catalog_partner_links")
    op.drop_table("catalog_partner_links")
    op.drop_index(op.f("ix_catalog_courses_status_category"), table_name="catalog_courses")
    op.drop_index("ix_catalog_courses_search", table_name="catalog_courses", postgresql_using="gin")
    op.drop_index(op.f("ix_catalog_courses_institution_id"), table_name="catalog_courses")
    op.drop_table("catalog_courses")
