"""A domain reaches another domain only through that domain's service (or its public types: schemas, errors,
models for enums and foreign keys). Never its repository, rules, tasks, api or pages."""

from __future__ import annotations

import grimp

SHARED = {
    "kit",
    "lottery",  # a pure library (the published lottery's algorithm), used by waves, selection and verifiers
    "web",
    "app",
    "cli",
    "config",
    "db",
    "jobs",
    "migrate",
    "models",
    "pgembed",
    "tasks",
    "worker",
    "demo",
    "schemes",
    "simulators",
    "__main__",
}
ALLOWED_TARGETS = {"service", "schemas", "errors", "models"}


def test_cross_domain_imports_go_through_service() -> None:
    graph = grimp.build_graph("prakerja")
    offending = []
    for importer in sorted(graph.modules):
        parts = importer.split(".")
        if len(parts) < 3 or parts[1] in SHARED:
            continue
        for imported in graph.find_modules_directly_imported_by(importer):
            target = imported.split(".")
            if len(target) < 2 or target[1] in SHARED or target[1] == parts[1]:
                continue
            if len(target) < 3 or target[2] not in ALLOWED_TARGETS:
                offending.append(f"{importer} -> {imported}")
    assert offending == []
