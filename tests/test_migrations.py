"""Migrations are reviewed code: the models and the migrations must agree, and every step reverses."""

from __future__ import annotations

import ast

from alembic import command
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


def test_revision_ids_are_unique() -> None:
    """Alembic keeps only one of two files with the same revision id (with a warning): the other would never run."""
    ids = []
    files = sorted((migrate._migrations_dir() / "versions").glob("*.py"))
    for path in files:
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.AnnAssign | ast.Assign):
                targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
                if any(isinstance(t, ast.Name) and t.id == "revision" for t in targets):
                    assert isinstance(node.value, ast.Constant), path.name
                    ids.append(node.value.value)
    assert len(ids) == len(files), "every migration file names its revision"
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert duplicates == [], f"revision ids used twice: {duplicates}"


def test_no_migration_imports_another() -> None:
    """Each migration stands alone: editing or squashing one never changes what another does."""
    for path in sorted((migrate._migrations_dir() / "versions").glob("*.py")):
        source = path.read_text()
        assert "importlib" not in source and "spec_from_file_location" not in source, path.name


def test_migrations_run_with_lock_and_statement_timeouts(database_url: str) -> None:
    """env.py sets both timeouts for the migrations' transaction (SET LOCAL: nothing leaks past it)."""
    probe = create_engine(database_url)
    with probe.begin() as conn:
        cfg = migrate.alembic_config(database_url)
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "heads")  # at head already: only the environment runs
        assert conn.execute(text("SHOW lock_timeout")).scalar_one() == "5s"
        assert conn.execute(text("SHOW statement_timeout")).scalar_one() == "30min"
    with probe.connect() as conn:
        assert conn.execute(text("SHOW lock_timeout")).scalar_one() == "0"
    probe.dispose()
