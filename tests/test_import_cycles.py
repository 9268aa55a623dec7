"""No import cycle anywhere in ``src/prakerja``: the import graph of its modules (grimp, as in
``tests/test_layers.py``) has no strongly connected component of more than one module, and no module imports
itself. A cycle is reported with one shortest loop through it, so it can be cut where it is."""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

ALLOWED_CYCLES: list[frozenset[str]] = []
"""Cycles known and being removed elsewhere, each with the reason; the lead empties this list. Empty: none."""


def _components(graph: grimp.ImportGraph) -> list[list[str]]:
    """Tarjan's strongly connected components of more than one module (iterative: the graph is deep)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def _loop(graph: grimp.ImportGraph, component: list[str]) -> str:
    first = component[0]
    back = min(
        (graph.find_shortest_chain(importer=other, imported=first) or () for other in component[1:]),
        key=lambda chain: len(chain) or 10**6,
    )
    forward = graph.find_shortest_chain(importer=first, imported=back[0]) if back else None
    chain = [*(forward or (first,)), *back[1:]]
    return " -> ".join(chain)


def test_no_import_cycle_between_modules() -> None:
    graph = grimp.build_graph("prakerja")
    cycles = [c for c in _components(graph) if frozenset(c) not in ALLOWED_CYCLES]
    assert [_loop(graph, c) for c in cycles] == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p.c")
    graph.add_import(importer="p.c", imported="p.a")
    assert _components(graph) == [["p.a", "p.b", "p.c"]]
    assert _loop(graph, ["p.a", "p.b", "p.c"]) == "p.a -> p.b -> p.c -> p.a"


def test_the_wave_lifecycle_runs_one_way() -> None:
    """Waves, the recipient register and the lottery never reach selection, not even through another module;
    recipients and the lottery reach no wave; the lottery no part of prakerja."""
    graph = grimp.build_graph("prakerja")
    graph.remove_import(importer="prakerja.db", imported="prakerja.models")  # mapper set-up, not a call

    def reaches(importer: str, imported: str) -> bool:
        return graph.chain_exists(importer=importer, imported=imported, as_packages=True)

    assert not reaches("prakerja.waves.service", "prakerja.selection")
    assert not reaches("prakerja.recipients.service", "prakerja.selection")
    assert not reaches("prakerja.recipients.service", "prakerja.waves")
    lottery = {m for m in graph.modules if m.startswith("prakerja.lottery")}
    outside = {i for m in lottery for i in graph.find_modules_directly_imported_by(m)} - lottery
    assert outside == set()


SOURCE = Path(__file__).resolve().parent.parent / "src" / "prakerja"

LAZY_IMPORTS = {
    ("cli.py", "prakerja.app"): "the web application, every page",
    ("cli.py", "prakerja.demo"): "the demo seeds and the Dukcapil simulator",
    ("cli.py", "prakerja"): "prakerja.migrate: Alembic and Mako, about 110 modules",
    ("cli.py", "prakerja.worker"): "every domain's jobs and services, about 160 modules",
    ("certificates/cli.py", "prakerja.certificates"): "its service: JSON-LD and PDF libraries, about 130 modules",
    ("ledger/cli.py", "prakerja.ledger"): "its service: about 100 modules",
    ("payouts/cli.py", "prakerja.audit.service"): "the services, for one command",
    ("payouts/cli.py", "prakerja.db"): "the engine, for one command",
    ("payouts/cli.py", "prakerja.kit.clock"): "with the services, for one command",
    ("payouts/cli.py", "prakerja.payouts.models"): "with the services, for one command",
    ("payouts/cli.py", "prakerja.payouts.service"): "the payouts services (about 150 modules), for one command",
    ("selection/cli.py", "prakerja.selection"): "its service: the draw and its libraries, about 130 modules",
    ("simulators/cli.py", "prakerja.simulators.dukcapil"): "a whole ASGI app for one command",
    ("simulators/cli.py", "prakerja.simulators.sms"): "a whole ASGI app for one command",
    ("simulators/cli.py", "prakerja.simulators.platform"): "a whole ASGI app (the shop) for one command",
    ("simulators/cli.py", "prakerja.simulators.institution"): "a whole ASGI app for one command",
    ("simulators/cli.py", "prakerja.simulators.partner_client"): "httpx and the signing client, for three commands",
    ("simulators/cli.py", "prakerja.simulators.payments.app"): "a whole ASGI app (the payment partners) for one command",
    ("simulators/cli.py", "prakerja.simulators.payments.state"): "the payment partners' state, with their app",
    ("simulators/demo_marketplace.py", "prakerja.simulators"): "the two partner apps, started only when the demo buys",
    ("db.py", "prakerja.models"): "every mapper registered before the first flush; models.py sits above db",
}
"""Imports of ``prakerja`` inside a function body, each with its reason. An import is put inside a function only to
keep a heavy module off the command line's start (``python -X importtime -m prakerja --help``: what costs more than
about 150 ms there stays in the command that needs it), never to dodge a cycle: a cycle is cut by moving code to the
layer it belongs to."""


def _function_level_imports() -> set[tuple[str, str]]:
    found = set()
    for path in sorted(SOURCE.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.ImportFrom):
                    names = [node.module or ""] if node.level == 0 else ["prakerja (relative)"]
                elif isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                else:
                    continue
                relative = path.relative_to(SOURCE).as_posix()
                found.update((relative, name) for name in names if name.split(".")[0] == "prakerja")
    return found


def test_no_prakerja_import_inside_a_function_but_the_listed_ones() -> None:
    assert _function_level_imports() == set(LAZY_IMPORTS)
