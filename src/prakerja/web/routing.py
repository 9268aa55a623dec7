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
bounded (paths carrying ids fill it, then it starts over)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Receive, Scope, Send

try:  # what FastAPI's APIRouter.app does around a full match; without them (another FastAPI), no memo
    from fastapi.routing import _apply_router_form_limits, _update_scope
    from fastapi.telemetry._api import _route_selected

    AVAILABLE = True
except ImportError:  # pragma: no cover
    AVAILABLE = False

MEMO_SIZE = 4096
"""Paths remembered at most (then the memo starts over): the API's and pages' fixed paths fit many times over."""

_NO_FULL_MATCH = -1


class RouteMemo:
    """The app router's dispatch (``router.middleware_stack``, which Starlette's ``Router.__call__`` calls) with the
    index of the first fully matching top-level route remembered per method and path."""

    def __init__(self, router: Any, size: int = MEMO_SIZE) -> None:
        self.router = router
        self.size = size
        self._memo: dict[tuple[str, str, str], int] = {}
        self._routes_seen: list[BaseRoute] = list(router.routes)

    def full_match(self, scope: Scope) -> tuple[int, BaseRoute, Scope] | None:
        """The first top-level route that matches ``scope`` fully, its index and child scope; None when none does
        (FastAPI's scan then decides: a partial match, a redirect or not found)."""
        routes: list[BaseRoute] = self.router.routes
        if routes != self._routes_seen:  # a route added or moved: what was remembered may be wrong now
            self._memo.clear()
            self._routes_seen = list(routes)
        key = (scope["method"], scope.get("root_path", ""), scope["path"])
        index = self._memo.get(key)
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

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        router = self.router
        if scope["type"] != "http":
            await router.app(scope, receive, send)
            return
        _apply_router_form_limits(scope, router.form_limits)
        if "router" not in scope:
            scope["router"] = router
        found = self.full_match(scope)
        if found is None:
            await router.app(scope, receive, send)  # FastAPI's scan: partial match, redirect, not found
            return
        _, route, child_scope = found
        _update_scope(scope, child_scope)
        _route_selected(scope=scope, path=getattr(route, "path_format", None), mount=isinstance(route, Mount))
        await route.handle(scope, receive, send)


def install(app: FastAPI) -> bool:
    """Route ``app``'s requests through a :class:`RouteMemo`; False (FastAPI's routing as it is) when this FastAPI
    lacks the helpers its full-match path uses."""
    if not AVAILABLE:  # pragma: no cover
        return False
    app.router.middleware_stack = RouteMemo(app.router)
    return True
