"""Migrations are reviewed code: the models and the migrations must agree, and every step reverses."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from prakerja import migrate
from prakerja.models import Base


def _include(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    if type_ == "table" and name and name.startswith("procrastinate_"):
        return False
    table = getattr(obj, "table", None)
    return not (table is not None and str(table.name).startswith("procrastinate_"))


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": _include, "compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"autogenerate found differences: {diff}"


def test_at_head(engine: Engine) -> None:
    assert migrate.at_head(engine)


def test_downgrade_and_upgrade_again(database_url: str) -> None:
    scratch = make_url(database_url).database + "_mig"  # type: ignore[operator]
    admin = create_engine(make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{scratch}"'))
    url = make_url(database_url).set(database=scratch).render_as_string(hide_password=False)
    try:
        migrate.upgrade(url=url)
        migrate.downgrade("base", url=url)
        probe = create_engine(url)
        with probe.connect() as conn:
            left = conn.execute(
                text("SELECT count(*) FROM pg_tables WHERE schemaname='public' AND tablename <> 'alembic_version'")
            ).scalar_one()
        probe.dispose()
        assert left == 0
        migrate.upgrade(url=url)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        admin.dispose()


def test_one_head() -> None:
    """Branches built in parallel are joined by a merge revision before they land, so `prakerja db downgrade -1`
    and `current` stay unambiguous."""
    assert len(migrate.head_revisions()) == 1, sorted(migrate.head_revisions())
