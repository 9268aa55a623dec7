"""The app includes its routers in the order of their traffic (JSON APIs first: FastAPI tries routes in order). That
is only safe because no two routes answer the same method and path: then the order cannot change which one does."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import Request
from fastapi.routing import (
    _FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY,
    _FASTAPI_INCLUDED_ROUTER_KEY,
    _FASTAPI_SCOPE_KEY,
    _IncludedRouter,
)
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
             ("GET", "/static/app.css"), ("GET", "/bahasa/en"), ("POST", "/api/v1/registration/identity"),
             ("POST", "/partner/v1/cards/inquiry"), ("POST", "/partner/v1/purchases/1/confirm"),
             ("POST", "/partner/v1/purchases/2/confirm"), ("GET", "/partner/v1/purchases/3/confirm")]  # fmt: skip
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


# -- down to the route (ADR 0041) -------------------------------------------------------------------------------


def _fastapi_choice(top: list[BaseRoute], scope: dict[str, Any]) -> tuple[Any, Any] | None:
    """The route FastAPI's own routing serves ``scope`` with: the first top-level entry that fully matches and, for an
    included router, the route (and its inclusion's context) its own scan chooses."""
    index = _plain_first_full_match(top, scope)
    if index is None:
        return None
    entry = top[index]
    if not isinstance(entry, _IncludedRouter):
        return entry, None
    probe = {**scope, _FASTAPI_SCOPE_KEY: {_FASTAPI_INCLUDED_ROUTER_KEY: entry}}
    _, _, route, context = entry._match(probe)
    return route, context


def _ask(memo: RouteMemo, method: str, path: str) -> dict[str, Any]:
    """What the memo's dispatch does with a request it serves: the leaf when known, else the scan and the learning."""
    scope = {"type": "http", "method": method, "path": path, "root_path": "", "headers": []}
    if memo.leaf(dict(scope)) is None:
        found = memo.full_match(dict(scope))
        if found is not None:
            index, entry, _ = found
            served = dict(scope)  # the keys FastAPI's _handle_selected leaves in the scope it serves
            if isinstance(entry, _IncludedRouter):
                served[_FASTAPI_SCOPE_KEY] = {_FASTAPI_INCLUDED_ROUTER_KEY: entry}
                _, _, served["route"], context = entry._match(dict(served))
                served[_FASTAPI_SCOPE_KEY][_FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY] = context
            memo.learn(served, index, entry, (method, "", path))
    return scope


def _templates(top: list[BaseRoute]) -> list[tuple[str, set[str]]]:
    return [(path, methods) for path, methods in _leaves(top) if "{" in path]


def test_every_route_known_down_to_the_route_is_the_one_fastapi_serves() -> None:
    """Every route's method and path, with several values in each parameter (numbers, UUIDs, and every literal
    segment of every other route, where a route remembered by its template could be taken for another), asked three
    times: whenever the memo serves a path straight to a route, it is the route (and inclusion) FastAPI's own scan
    chooses; and the hot signed calls are served so from their second time (the confirmation by its template)."""
    import uuid as uuid_module

    app = create_app()
    memo = app.router.middleware_stack
    assert isinstance(memo, RouteMemo)
    top: list[BaseRoute] = app.router.routes
    literals = sorted({part for path, _ in _leaves(top) for part in path.split("/") if part and "{" not in part})
    values = ["1", str(uuid_module.uuid4()), "abc", *literals]
    asked: list[tuple[str, str]] = []
    for path, methods in _leaves(top):
        count = path.count("{")
        for value in values if count == 1 else values[:3] if count else [""]:
            concrete = re.sub(r"\{[^}]+\}", value, path) if count else path
            asked += [(method, concrete) for method in methods]
    asked += [("GET", "/tidak-ada"), ("DELETE", "/healthz"), ("POST", "/partner/v1/purchases/1/2/confirm")]
    served = 0
    for _ in range(3):
        for method, path in asked:
            scope = _ask(memo, method, path)
            known = memo.leaf(dict(scope))
            if known is not None:
                served += 1
                leaf, _ = known
                assert (leaf.route, leaf.context) == _fastapi_choice(top, scope), (method, path)
    assert served > len(asked)
    hot = [("POST", "/partner/v1/cards/inquiry"), ("POST", "/partner/v1/purchases"), ("GET", "/partner/v1/ping"),
           ("POST", f"/partner/v1/purchases/{uuid_module.uuid4()}/confirm")]  # fmt: skip
    for method, path in hot:  # asked once more (the memo may have started over meanwhile: it is bounded)
        scope = _ask(memo, method, path)
        known = memo.leaf(dict(scope))
        assert known is not None and (known[0].route, known[0].context) == _fastapi_choice(top, scope), path
    assert [leaf.path for leaf in memo._templates["POST"]].count("/partner/v1/purchases/{purchase_id}/confirm") == 1


def _small_app(*declare: tuple[str, str]) -> Any:
    """An app with one included router declaring ``(method, path)`` routes in this order, plus a static mount and
    a route of its own before it, routed by the memo."""
    from fastapi import APIRouter, FastAPI
    from fastapi.staticfiles import StaticFiles

    from prakerja.web import routing

    app = FastAPI()

    @app.get("/berkas/{nama}")
    def own(nama: str) -> dict[str, str]:
        return {"nama": nama}

    app.mount("/aset", StaticFiles(directory=str(Path(__file__).parent)), name="aset")
    router = APIRouter(prefix="/t")
    for n, (method, path) in enumerate(declare):

        def endpoint(request: Request, n: int = n) -> dict[str, Any]:
            return {"n": n, "params": request.path_params}

        router.add_api_route(path, endpoint, methods=[method], name=f"r{n}")
    app.include_router(router)
    assert routing.install(app)
    return app


@pytest.mark.parametrize(
    ("declared", "proven"),
    [
        ([("POST", "/a/{x}/confirm")], True),
        ([("POST", "/b/{y}"), ("POST", "/a/{x}/confirm")], True),  # another literal segment
        ([("POST", "/a/{y}/cancel"), ("POST", "/a/{x}/confirm")], True),
        ([("GET", "/a/{y}/confirm"), ("POST", "/a/{x}/confirm")], True),  # another method: a partial match at most
        ([("POST", "/a/{y}"), ("POST", "/a/{x}/confirm")], True),  # another number of segments
        ([("POST", "/a/{y}/{z}"), ("POST", "/a/{x}/confirm")], False),  # may match first
        ([("POST", "/a/special/confirm"), ("POST", "/a/{x}/confirm")], False),
        ([("POST", "/a/{rest:path}"), ("POST", "/a/{x}/confirm")], False),
        ([("POST", "/{x}/{y}/confirm"), ("POST", "/a/{x}/confirm")], False),
        ([("POST", "/a/v{y}/confirm"), ("POST", "/a/{x}/confirm")], False),
    ],
)
def test_a_template_is_remembered_only_when_no_route_before_it_may_match(
    declared: list[tuple[str, str]], proven: bool
) -> None:
    """The last declared route, a template, is served without the scan only when it is proven first for every path
    it matches; whatever is decided, each request is answered by the route FastAPI's own routing answers with."""
    from fastapi.testclient import TestClient

    app = _small_app(*declared)
    plain = _small_app(*declared)
    plain.router.middleware_stack = plain.router.app
    paths = ["/t/a/1/confirm", "/t/a/special/confirm", "/t/a/v2/confirm", "/t/a/x/y", "/t/b/1", "/berkas/a", "/t/a/1"]
    with TestClient(app) as ours, TestClient(plain) as theirs:
        for _ in range(3):
            for path in paths:
                for method in ("GET", "POST"):
                    mine, other = ours.request(method, path), theirs.request(method, path)
                    assert (mine.status_code, mine.text) == (other.status_code, other.text), (method, path)
    memo = app.router.middleware_stack
    assert isinstance(memo, RouteMemo)
    last = f"r{len(declared) - 1}"
    assert any(leaf.route.name == last for leaf in memo._templates.get("POST", [])) is proven


def test_the_route_sees_the_scope_fastapi_gives_it() -> None:
    """The scope a route's endpoint sees (its route, endpoint, path parameters, router, FastAPI's inclusion keys)
    is the same served straight to the route, by path and by template, as through FastAPI's own routing."""
    from fastapi import APIRouter, FastAPI
    from fastapi.testclient import TestClient

    from prakerja.web import routing

    seen: list[dict[str, Any]] = []

    def build() -> Any:
        app = FastAPI()
        router = APIRouter(prefix="/p")

        @router.post("/beli/{beli_id}/konfirmasi")
        @router.post("/beli")
        def endpoint(request: Request) -> dict[str, str]:
            scope = request.scope
            fastapi_scope = scope.get(_FASTAPI_SCOPE_KEY, {})
            seen.append(
                {
                    "route": scope["route"],
                    "endpoint": scope["endpoint"],
                    "path_params": scope["path_params"],
                    "router": scope["router"],
                    "included": fastapi_scope.get(_FASTAPI_INCLUDED_ROUTER_KEY),
                    "context": fastapi_scope.get(_FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY),
                    "keys": sorted(k for k in scope if k not in ("state", "extensions", "headers")),
                    "fastapi_keys": sorted(fastapi_scope),
                }
            )
            return {}

        app.include_router(router)
        return app

    ours = build()
    assert routing.install(ours)
    theirs = build()
    for path in ("/p/beli", "/p/beli", "/p/beli/1/konfirmasi", "/p/beli/2/konfirmasi", "/p/beli/3/konfirmasi"):
        for app in (ours, theirs):
            with TestClient(app) as client:
                assert client.post(path).status_code == 200
        mine, other = seen[-2], seen[-1]
        assert (mine["route"].path, mine["route"].name) == (other["route"].path, other["route"].name)
        assert mine["endpoint"] is mine["route"].endpoint and other["endpoint"] is other["route"].endpoint
        assert mine["path_params"] == other["path_params"]
        assert mine["keys"] == other["keys"] and mine["fastapi_keys"] == other["fastapi_keys"]
        assert mine["router"] is ours.router and mine["included"] is ours.router.routes[-1]
        assert mine["context"] is not None and mine["context"].original_route is mine["route"]
    memo = ours.router.middleware_stack
    assert isinstance(memo, RouteMemo) and memo._templates["POST"][0].path == "/p/beli/{beli_id}/konfirmasi"
