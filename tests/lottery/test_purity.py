"""The lottery package is pure: no database, settings, clock or timers (import-linter forbids the imports; this
also catches reading the clock or the environment through the standard library)."""

from __future__ import annotations

import ast
from pathlib import Path

import prakerja.lottery

PACKAGE = Path(prakerja.lottery.__file__).parent
FORBIDDEN_MODULES = {"sqlalchemy", "psycopg", "time", "timeit", "prakerja"}
FORBIDDEN_CALLS = {"now", "utcnow", "today", "perf_counter", "monotonic", "getenv", "environ"}


def _imports_and_names(path: Path) -> tuple[set[str], set[str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    imported: set[str] = set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Attribute):
            names.add(node.attr)
    return imported, names


def test_the_lottery_reads_no_database_settings_clock_or_timer() -> None:
    offending = []
    for path in sorted(PACKAGE.glob("*.py")):
        imported, names = _imports_and_names(path)
        for module in imported:
            top = module.split(".")[0]
            if top in FORBIDDEN_MODULES and not module.startswith("prakerja.lottery"):
                offending.append(f"{path.name} imports {module}")
        offending.extend(f"{path.name} uses {name}" for name in sorted(names & FORBIDDEN_CALLS))
    assert offending == []


def test_the_lottery_package_has_a_module_per_section_of_the_contract() -> None:
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert {"entries", "files", "commitment", "merkle", "drawing", "verify"} <= modules
