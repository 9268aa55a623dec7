"""The app includes its routers in the order of their traffic (JSON APIs first: FastAPI tries routes in order). That
is only safe because no two routes answer the same method and path: then the order cannot change which one does."""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import BaseRoute, Match

from prakerja.app import create_app
from prakerja.web.routing import RouteMemo


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


def _plain_first_full_match(top: list[BaseRoute], scope: dict[str, Any]) -> int | None:
    return next((i for i, route in enumerate(top) if route.matches(dict(scope))[0] == Match.FULL), None)


def test_the_remembered_route_is_the_one_fastapi_would_find() -> None:
    """The route memo (ADR 0034) finds, for every route's method and path, asked twice (remembered the second time),
    and for paths no route answers fully, the top-level entry FastAPI's own scan finds first."""
    app = create_app()
    memo = app.router.middleware_stack
    assert isinstance(memo, RouteMemo)
    top: list[BaseRoute] = app.router.routes
    paths = [(method, _sample(path)) for path, methods in _leaves(top) for method in methods]
    paths += [("GET", "/tidak-ada"), ("DELETE", "/healthz"), ("GET", "/healthz/"), ("GET", "/static/app.css")]
    for _ in range(2):
        for method, path in paths:
            scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
            found = memo.full_match(dict(scope))
            assert (found[0] if found else None) == _plain_first_full_match(top, scope), (method, path)


def test_a_route_added_later_is_found_and_the_memo_is_bounded() -> None:
    app = create_app()
    memo = app.router.middleware_stack
    assert isinstance(memo, RouteMemo)
    scope = {"type": "http", "method": "GET", "path": "/baru-saja", "root_path": "", "headers": []}
    assert memo.full_match(dict(scope)) is None

    @app.get("/baru-saja")
    def added() -> dict[str, str]:
        return {}

    found = memo.full_match(dict(scope))
    assert found is not None and found[1] is app.router.routes[-1]
    small = RouteMemo(app.router, size=3)
    for n in range(10):
        small.full_match({**scope, "path": f"/x/{n}"})
        assert len(small._memo) <= 3


def test_requests_answer_as_without_the_memo(app: Any, client: Any) -> None:
    """Through the whole app, each asked twice: a route, a path with a parameter, a 404 page, a 405, the
    trailing-slash redirect, a static file, a refused API call: the same status, location, content type and JSON
    body as FastAPI's own routing gives."""
    from fastapi.testclient import TestClient

    from prakerja.app import create_app

    plain = create_app()
    plain.router.middleware_stack = plain.router.app  # FastAPI's routing as it is
    asked = [("GET", "/healthz"), ("GET", "/tidak-ada-halaman"), ("DELETE", "/healthz"), ("GET", "/healthz/"),
             ("GET", "/static/app.css"), ("GET", "/bahasa/en"), ("POST", "/api/v1/registration/identity")]  # fmt: skip
    with TestClient(plain, base_url="http://testserver") as reference:
        for _ in range(2):
            for method, path in asked:
                ours = client.request(method, path, follow_redirects=False)
                theirs = reference.request(method, path, follow_redirects=False)
                assert (ours.status_code, ours.headers.get("location")) == (
                    theirs.status_code,
                    theirs.headers.get("location"),
                ), (method, path)
                assert ours.headers.get("content-type") == theirs.headers.get("content-type"), (method, path)
                if "json" in (ours.headers.get("content-type") or ""):
                    assert ours.json() == theirs.json(), (method, path)
