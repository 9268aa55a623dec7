"""Every module of ``prakerja`` sits in a layer of an import-linter contract, and a domain reaches another domain only
through that domain's service (or its public types: schemas, errors, models). The contracts live in pyproject.toml
and ``lint-imports`` checks them; these tests read the same contracts, so the linter and the tests agree on what a
layer is, and a new module or domain cannot slip in unplaced."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import grimp

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
SOURCE = PYPROJECT.parent / "src" / "prakerja"

ENTRY_AND_INSIDE = ("api", "pages", "tasks", "cli", "providers", "repository", "rules")
"""What another domain may not import of a domain: everything but its service and its public types."""
NOT_A_TARGET = {"schemes"}
"""Scheme files' loader: ``schemes.rules`` is its public face, read by catalog, ledger, selection and waves."""


def _contracts() -> list[dict[str, object]]:
    with PYPROJECT.open("rb") as file:
        return list(tomllib.load(file)["tool"]["importlinter"]["contracts"])


def _layer_names(contract: dict[str, object]) -> set[str]:
    names: set[str] = set()
    for layer in contract["layers"]:  # type: ignore[attr-defined]
        names.update(part.strip().strip("()") for part in re.split(r"[|:]", layer))
    return names


def _layered(container: str) -> dict[str, object]:
    (contract,) = [c for c in _contracts() if c["type"] == "layers" and container in c.get("containers", ())]  # type: ignore[operator]
    return contract


def _domains() -> list[str]:
    return [c.removeprefix("prakerja.") for c in _layered("prakerja.auth")["containers"]]  # type: ignore[attr-defined]


def test_every_module_of_prakerja_sits_in_a_layer() -> None:
    root = _layer_names(_layered("prakerja"))
    domains = set(_domains())
    inside = _layer_names(_layered("prakerja.auth"))
    graph = grimp.build_graph("prakerja")
    loose = sorted(
        module
        for module in graph.modules
        if module != "prakerja"
        and (
            (parts := module.split("."))[1] not in root
            or (parts[1] in domains and len(parts) > 2 and parts[2] not in inside)
        )
    )
    assert loose == []


def test_the_layer_contracts_are_exhaustive() -> None:
    """lint-imports itself fails when a module of the package or of a domain is in no layer."""
    assert _layered("prakerja").get("exhaustive") is True
    assert _layered("prakerja.auth").get("exhaustive") is True
    assert not _layered("prakerja").get("exhaustive_ignores")
    assert not _layered("prakerja.auth").get("exhaustive_ignores")


def test_each_domain_has_a_contract_keeping_others_to_its_service() -> None:
    """One forbidden contract per domain: every other domain (and the web shell) imports none of its entry points,
    providers, repository or rules. Written out in pyproject.toml; this test keeps them complete."""
    domains = _domains()
    expected = {}
    for domain in domains:
        if domain in NOT_A_TARGET:
            continue
        forbidden = [
            f"prakerja.{domain}.{name}"
            for name in ENTRY_AND_INSIDE
            if (SOURCE / domain / f"{name}.py").exists() or (SOURCE / domain / name / "__init__.py").exists()
        ]
        sources = sorted([*(f"prakerja.{other}" for other in domains if other != domain), "prakerja.web"])
        expected[domain] = (sources, sorted(forbidden))
    found = {}
    for contract in _contracts():
        if contract["type"] != "forbidden" or not str(contract["name"]).startswith("Another domain reaches "):
            continue
        domain = str(contract["name"]).split()[3]
        assert contract.get("allow_indirect_imports") is True  # its service may use its repository
        found[domain] = (sorted(contract["source_modules"]), sorted(contract["forbidden_modules"]))  # type: ignore[call-overload]
    assert found == expected
