"""Alembic environment: migrations run against the URL the process uses (embedded or external)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from prakerja.config import get_settings
from prakerja.models import Base

config = context.config
target_metadata = Base.metadata

# Tables owned by libraries (procrastinate) are created by migrations but not modelled here.
EXTERNAL_TABLE_PREFIXES = ("procrastinate_",)


def include_object(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    if type_ == "table" and name and name.startswith(EXTERNAL_TABLE_PREFIXES):
        return False
    table = getattr(obj, "table", None)
    return not (table is not None and str(table.name).startswith(EXTERNAL_TABLE_PREFIXES))


def render_item(type_, obj, autogen_context):  # type: ignore[no-untyped-def]
    """Encrypted personal fields are plain bytea in the database."""
    if type_ == "type" and obj.__class__.__name__ == "Encrypted":
        return "sa.LargeBinary()"
    return False


def _run_with_timeouts() -> None:
    """Run the migrations with ``lock_timeout`` and ``statement_timeout`` for their transaction (``SET LOCAL``): a
    migration waiting for a lock behind a long query fails after a few seconds instead of queueing every request
    behind it, and no statement runs unbounded. Both are settings (``PRAKERJA_MIGRATION_*``)."""
    settings = get_settings()
    with context.begin_transaction():
        context.execute(f"SET LOCAL lock_timeout = '{settings.migration_lock_timeout}'")
        context.execute(f"SET LOCAL statement_timeout = '{settings.migration_statement_timeout}'")
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            include_object=include_object,
            compare_type=True,
            render_item=render_item,
        )
        _run_with_timeouts()
        return
    engine = engine_from_config(
        {"sqlalchemy.url": config.get_main_option("sqlalchemy.url")}, prefix="sqlalchemy.", poolclass=pool.NullPool
    )
    with engine.connect() as conn:
        context.configure(
            connection=conn,
            target_metadata=target_metadata,
            include_object=include_object,
            compare_type=True,
            render_item=render_item,
        )
        _run_with_timeouts()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run against a database")
run_migrations_online()
