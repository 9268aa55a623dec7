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


LAYERS = {"api", "pages", "tasks", "cli", "service", "providers", "repository", "rules", "models", "errors", "schemas"}
"""The layers of the import-linter contract, and the types any layer may use (errors, schemas)."""
LAYERED_DOMAINS = ("auth", "partners", "registration")
"""Domains whose every module sits in a layer (the others are brought in as they are reshaped)."""
OUTSIDE_A_LAYER = {"prakerja.registration.storage"}
"""Known exceptions: uploads' storage is being made selectable by a setting; it joins ``providers`` after that."""


def test_every_module_of_a_layered_domain_sits_in_a_layer() -> None:
    graph = grimp.build_graph("prakerja")
    loose = sorted(
        module
        for module in graph.modules
        if len(parts := module.split(".")) > 2
        and parts[1] in LAYERED_DOMAINS
        and parts[2] not in LAYERS
        and module not in OUTSIDE_A_LAYER
    )
    assert loose == []
