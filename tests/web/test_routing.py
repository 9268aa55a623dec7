"""The app includes its routers in the order of their traffic (JSON APIs first: FastAPI tries routes in order). That
is only safe because no two routes answer the same method and path: then the order cannot change which one does."""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import BaseRoute, Match

from prakerja.app import create_app


def _leaves(routes: list[Any], prefix: str = "") -> list[tuple[str, set[str]]]:
    """Every concrete route's path and methods, through included routers (FastAPI keeps an included router as one
    entry holding the original router and its prefix)."""
    found: list[tuple[str, set[str]]] = []
    for route in routes:
        included = getattr(route, "original_router", None)
        if included is not None:
            found += _leaves(included.routes, prefix + route.include_context.prefix)
        elif hasattr(route, "path") and hasattr(route, "methods"):
            found.append((prefix + route.path, set(route.methods or {"GET"})))
    return found


def _sample(path: str) -> str:
    """A concrete path for a route's template (every parameter of ours accepts ``1``)."""
    return re.sub(r"\{[^}]+\}", "1", path)


def test_no_two_routes_answer_the_same_method_and_path() -> None:
    app = create_app()
    top: list[BaseRoute] = app.router.routes
    leaves = _leaves(top)
    assert len(leaves) > 100
    for path, methods in leaves:
        for method in methods:
            scope = {"type": "http", "method": method, "path": _sample(path), "root_path": "", "headers": []}
            answering = [i for i, route in enumerate(top) if route.matches(dict(scope))[0] == Match.FULL]
            assert len(answering) == 1, (method, path, answering)


def test_the_intake_route_is_among_the_first_tried() -> None:
    app = create_app()
    scope = {"type": "http", "method": "POST", "path": "/api/v1/registration/identity", "root_path": "", "headers": []}
    first = next(i for i, route in enumerate(app.router.routes) if route.matches(dict(scope))[0] == Match.FULL)
    assert first <= 3
