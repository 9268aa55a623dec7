"""Which of the app's top-level routes answers a path, remembered (ADR 0034).

FastAPI finds a request's route by asking each top-level entry in order whether it matches, and an included router
answers by asking each of its routes in turn: ~2 us an entry, ~40 us for the intake route (after the API
documentation's and the shell pages' routers) and ~360 us for a page near the end of the list or a 404
(docs/benchmarks.md, branch ``bare``). Which entry matches first depends only on the request's type, method and
path (we have no host routes), so :class:`RouteMemo` remembers, for a method and path already seen, the index of
the first top-level entry that matched it fully; the next request for it asks that entry alone (and falls back to
the whole scan if it no longer matches fully). What happens once the entry is found is what FastAPI's
``APIRouter.app`` does for a full match; anything else (no full match: 405, a trailing-slash redirect, 404) is left
to FastAPI's own ``APIRouter.app`` as it is. The memo forgets everything when the top-level list changes, and is
bounded (paths carrying ids fill it, then it starts over).

Down to the route (ADR 0041): when the entry is an included router and the route it chose is one of its own FastAPI
routes, the memo keeps that route (:class:`Leaf`) and serves the next request for the path straight to it, doing to
the scope what the included router's ``handle`` and ``_handle_selected`` do (no second scan of the router's routes).
A route whose path has parameters (``/partner/v1/purchases/{purchase_id}/confirm``) is remembered by its template
instead of by each path, once it is proven that no route FastAPI tries before it can fully match any path it matches
(:func:`_shadowed`: methods and literal segments compared); a path it matches is then served by it without the scan.
Anything not proven keeps the scan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.convertors import PathConvertor
from starlette.routing import BaseRoute, Match, Mount, Route, WebSocketRoute
from starlette.types import Receive, Scope, Send

try:  # what FastAPI's APIRouter.app does around a full match; without them (another FastAPI), no memo
    from fastapi.routing import _apply_router_form_limits, _update_scope
    from fastapi.telemetry._api import _route_selected

    AVAILABLE = True
except ImportError:  # pragma: no cover
    AVAILABLE = False

try:  # what an included router does once it chose its route (ADR 0041); without them, the memo stops at the entry
    from fastapi.routing import (
        _FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY,
        _FASTAPI_INCLUDED_ROUTER_KEY,
        _FASTAPI_SCOPE_KEY,
        _EffectiveRouteContext,
        _get_fastapi_scope,
        _IncludedRouter,
    )

    LEAVES = AVAILABLE
except ImportError:  # pragma: no cover
    LEAVES = False

MEMO_SIZE = 4096
"""Paths remembered at most (then the memo starts over): the API's and pages' fixed paths fit many times over."""

_NO_FULL_MATCH = -1


@dataclass(frozen=True, slots=True)
class Leaf:
    """A FastAPI route chosen by the included router at top-level ``index`` (ADR 0041), with what serving it needs:
    the inclusion's route context (the route as included, with the app's dependencies), the telemetry path, and the
    included router's routes version when it was chosen (a route added to that router since: not used)."""

    index: int
    included: Any
    context: Any
    route: APIRoute
    path: str | None
    version: int


class RouteMemo:
    """The app router's dispatch (``router.middleware_stack``, which Starlette's ``Router.__call__`` calls) with the
    index of the first fully matching top-level route remembered per method and path."""

    def __init__(self, router: Any, size: int = MEMO_SIZE) -> None:
        self.router = router
        self.size = size
        self._memo: dict[tuple[str, str, str], int | Leaf] = {}
        self._routes_seen: list[BaseRoute] = list(router.routes)
        self._templates: dict[str, list[Leaf]] = {}
        """Per method, the routes with path parameters proven first for every path they match (:func:`_shadowed`)."""
        self._judged: set[tuple[str, int]] = set()
        """(method, id of a route context) whose template was already judged (proven or not): judged once."""

    def full_match(self, scope: Scope) -> tuple[int, BaseRoute, Scope] | None:
        """The first top-level route that matches ``scope`` fully, its index and child scope; None when none does
        (FastAPI's scan then decides: a partial match, a redirect or not found)."""
        routes = self._routes()
        key = (scope["method"], scope.get("root_path", ""), scope["path"])
        index = self._memo.get(key)
        if isinstance(index, Leaf):
            index = index.index
        if index is not None:
            if index == _NO_FULL_MATCH:
                return None
            route = routes[index]
            match, child_scope = route.matches(scope)
            if match == Match.FULL:
                return index, route, child_scope
        if len(self._memo) >= self.size:
            self._memo.clear()
        for index, route in enumerate(routes):
            match, child_scope = route.matches(scope)
            if match == Match.FULL:
                self._memo[key] = index
                return index, route, child_scope
        self._memo[key] = _NO_FULL_MATCH
        return None

    def _routes(self) -> list[BaseRoute]:
        routes: list[BaseRoute] = self.router.routes
        if routes != self._routes_seen:  # a route added or moved: what was remembered may be wrong now
            self._memo.clear()
            self._templates.clear()
            self._judged.clear()
            self._routes_seen = list(routes)
        return routes

    def leaf(self, scope: Scope) -> tuple[Leaf, Scope] | None:
        """The FastAPI route (and its child scope) a remembered path, or a proven template, leads to; None when the
        path is not known down to its route (then :meth:`full_match` and FastAPI's own handling decide)."""
        routes = self._routes()
        method = scope["method"]
        known = self._memo.get((method, scope.get("root_path", ""), scope["path"]))
        if isinstance(known, Leaf):
            return self._usable(known, routes, scope)
        if known is None:
            for template in self._templates.get(method, ()):
                found = self._usable(template, routes, scope)
                if found is not None:
                    return found
        return None

    @staticmethod
    def _usable(leaf: Leaf, routes: list[BaseRoute], scope: Scope) -> tuple[Leaf, Scope] | None:
        included: Any = leaf.included
        version = included.original_router._get_routes_version()
        if routes[leaf.index] is not included or version != leaf.version:
            return None
        match, child_scope = leaf.context.matches(scope)
        return (leaf, child_scope) if match == Match.FULL else None

    def learn(self, scope: Scope, index: int, entry: BaseRoute, key: tuple[str, str, str]) -> Leaf | None:
        """Which route the included router ``entry`` (the first full match at ``index``) chose for the request
        ``key`` names, read from the keys FastAPI's ``_handle_selected`` left in the ``scope`` it served (no scan of
        ours), remembered for the path (or, for a route with path parameters proven first wherever it matches, for
        its template); None when it chose something other than one of its own FastAPI routes (a router inside it,
        a plain route)."""
        if not isinstance(entry, _IncludedRouter):
            return None
        fastapi_scope = scope.get(_FASTAPI_SCOPE_KEY)
        if not isinstance(fastapi_scope, dict) or fastapi_scope.get(_FASTAPI_INCLUDED_ROUTER_KEY) is not entry:
            return None
        context: Any = fastapi_scope.get(_FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY)
        route: Any = scope.get("route")
        if getattr(context, "original_route", None) is not route or not isinstance(route, APIRoute):
            return None
        found = Leaf(
            index=index,
            included=entry,
            context=context,
            route=route,
            path=getattr(context.starlette_route, "path_format", None) or context.path_format,
            version=entry.original_router._get_routes_version(),
        )
        method = key[0]
        if not context.param_convertors:
            self._memo[key] = found
        elif (method, id(context)) not in self._judged:
            self._judged.add((method, id(context)))
            if not _shadowed(self.router.routes, found, method):
                self._templates.setdefault(method, []).append(found)
        return found

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        router = self.router
        if scope["type"] != "http":
            await router.app(scope, receive, send)
            return
        _apply_router_form_limits(scope, router.form_limits)
        if "router" not in scope:
            scope["router"] = router
        if LEAVES:
            known = self.leaf(scope)
            if known is not None:
                await _handle_leaf(scope, receive, send, *known)
                return
        found = self.full_match(scope)
        if found is None:
            await router.app(scope, receive, send)  # FastAPI's scan: partial match, redirect, not found
            return
        index, route, child_scope = found
        key = (scope["method"], scope.get("root_path", ""), scope["path"])
        _update_scope(scope, child_scope)
        _route_selected(scope=scope, path=getattr(route, "path_format", None), mount=isinstance(route, Mount))
        await route.handle(scope, receive, send)
        if LEAVES:
            self.learn(scope, index, route, key)  # what FastAPI chose inside the entry, from the scope it served


async def _handle_leaf(scope: Scope, receive: Receive, send: Send, leaf: Leaf, child_scope: Scope) -> None:
    """What FastAPI does from the top-level full match of ``leaf.included`` to its route's ``handle``
    (``APIRouter.app``, ``_IncludedRouter.handle``, ``APIRouter.handle``, ``_IncludedRouter._handle_selected``), on
    the route already matched: the same scope keys, form limits, telemetry route and route context."""
    included = leaf.included
    _route_selected(scope=scope, path=getattr(included, "path_format", None), mount=False)  # the entry's
    _apply_router_form_limits(scope, included.include_context.form_limits)
    fastapi_scope = _get_fastapi_scope(scope)
    fastapi_scope[_FASTAPI_INCLUDED_ROUTER_KEY] = included
    child_scope["route"] = leaf.route  # as APIRoute.matches adds it
    _update_scope(scope, child_scope)
    _route_selected(scope=scope, path=leaf.path, mount=False)
    fastapi_scope[_FASTAPI_EFFECTIVE_ROUTE_CONTEXT_KEY] = leaf.context
    scope["route"] = leaf.route
    await leaf.route.handle(scope, receive, send)


def _segments(path_format: str, convertors: dict[str, Any]) -> list[str | None]:
    """A path template's segments: the literal text, or None for a segment a parameter is part of (it may match
    any text without a slash); a parameter that may match slashes (``path``, or one not understood) ends the list
    with ``...`` (anything from there on; see :func:`_disjoint`)."""
    found: list[str | None] = []
    for segment in path_format.split("/"):
        if "{" not in segment:
            found.append(segment)
            continue
        names = [part.split("}", 1)[0].split(":", 1)[0] for part in segment.split("{")[1:]]
        if any(isinstance(convertors.get(name), PathConvertor) or name not in convertors for name in names):
            found.append("...")
            return found
        found.append(None)
    return found


def _disjoint(ours: list[str | None], theirs: list[str | None]) -> bool:
    """No path matches both templates: at some segment both are literal texts that differ; or, when neither has a
    slash-matching parameter, their segment counts differ."""
    for mine, other in zip(ours, theirs, strict=False):
        if mine == "..." or other == "...":
            return False
        if mine is not None and other is not None and mine != other:
            return True
    if "..." in ours or "..." in theirs:
        return False
    return len(ours) != len(theirs)


def _atoms(entry: Any) -> list[Any] | None:
    """What FastAPI may fully match inside a top-level or included entry, in order (route contexts and routes); None
    when something in it cannot be judged (a route group serving files, a host route, an unknown kind)."""
    if LEAVES and isinstance(entry, _IncludedRouter):
        found: list[Any] = []
        for candidate in entry.effective_candidates():
            inner = _atoms(candidate)
            if inner is None:
                return None
            found += inner
        return found
    if LEAVES and isinstance(entry, _EffectiveRouteContext):
        if isinstance(entry.original_route, APIRoute):
            return [entry]
        return _atoms(entry.starlette_route) if entry.starlette_route is not None else None
    if isinstance(entry, Route | Mount | WebSocketRoute):
        return [entry]
    return None


def _may_fully_match(atom: Any, method: str, template: list[str | None]) -> bool:
    if isinstance(atom, WebSocketRoute) or isinstance(getattr(atom, "original_route", None), WebSocketRoute):
        return False  # an HTTP request never matches a websocket route
    methods = getattr(atom, "methods", None)
    if methods and method not in methods:
        return False  # a partial match at most: it cannot be chosen over a full one
    convertors = getattr(atom, "param_convertors", None)
    path_format = getattr(atom, "path_format", None)
    if convertors is None or path_format is None:
        return True
    return not _disjoint(template, _segments(path_format, convertors))


def _shadowed(routes: list[BaseRoute], leaf: Leaf, method: str) -> bool:
    """Whether some route FastAPI tries before ``leaf``'s (top-level entries before its router, then the routes
    before it in its router) might fully match a ``method`` request for a path ``leaf`` matches: True unless proven
    not (each such route's template disjoint from the leaf's, or another method's)."""
    template = _segments(leaf.context.path_format, leaf.context.param_convertors)
    if "..." in template:
        return True
    before: list[Any] = []
    for entry in routes[: leaf.index]:
        atoms = _atoms(entry)
        if atoms is None:
            return True
        before += atoms
    for candidate in leaf.included.effective_candidates():
        if candidate is leaf.context:
            break
        atoms = _atoms(candidate)
        if atoms is None:
            return True
        before += atoms
    else:
        return True  # not among its router's routes any more
    return any(_may_fully_match(atom, method, template) for atom in before)


def install(app: FastAPI) -> bool:
    """Route ``app``'s requests through a :class:`RouteMemo`; False (FastAPI's routing as it is) when this FastAPI
    lacks the helpers its full-match path uses."""
    if not AVAILABLE:  # pragma: no cover
        return False
    app.router.middleware_stack = RouteMemo(app.router)
    return True
