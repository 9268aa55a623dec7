"""Hot routes served by our own ASGI path, outside FastAPI's middleware stack, exception layers and
``request_response`` (ADR 0042).

For every HTTP request FastAPI's stack runs, from the outside in: Starlette's ``ServerErrorMiddleware`` (an
unexpected exception becomes the app's 500 answer, then is raised again), FastAPI's exception telemetry and
body-limit layers (pass-through here: no telemetry, no body limit), our :class:`~prakerja.web.middleware.
ShellMiddleware`, Starlette's ``ExceptionMiddleware`` (the app's exception handlers), FastAPI's
``AsyncExitStackMiddleware``, the router (:class:`~prakerja.web.routing.RouteMemo`), then the route's
``request_response`` (a ``Request``, two exit stacks, the route-level exception wrapper) and its handler.

A route class registers here (:func:`register`) a handler that serves one route as included in the app (its
``request -> Response`` function, which needs none of those layers' scope keys) with a switch saying when it may
be used. :class:`FastPath`, installed at the top of the stack, asks the route memo which route a request goes to
(a path or template FastAPI's own routing already chose: ADR 0034, 0041; nothing new is decided here); when it is a
registered one, the request is served by the same ``ServerErrorMiddleware`` and the same ``ShellMiddleware``
instance around a short inner app that does what the skipped layers do for such a route: the exception handlers'
scope key, the router's and route's scope keys, the ``Request``, the handler, the app's exception handlers through
Starlette's own route-level wrapper, the answer. Everything else (another path, a method the route does not serve,
a path not yet seen, dependency overrides, FastAPI's telemetry on, :data:`USE_FAST_PATH` off) goes down FastAPI's
stack as before.

The stack is checked when it is built: the fast path is used only when it is exactly FastAPI's layers listed above
with our one middleware (another middleware added to the app: no fast path)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.asyncexitstack import AsyncExitStackMiddleware
from starlette._exception_handler import wrap_app_handling_exceptions
from starlette.middleware.errors import ServerErrorMiddleware
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from prakerja.web.middleware import ShellMiddleware
from prakerja.web.routing import RouteMemo

try:  # the pass-through layers FastAPI 0.165 puts between ServerErrorMiddleware and the user's middleware
    from fastapi._body_limit import AppBodyLimitMiddleware
    from fastapi.telemetry._asgi import ExceptionTelemetryMiddleware

    AVAILABLE = True
except ImportError:  # pragma: no cover
    AVAILABLE = False

USE_FAST_PATH = True
"""False sends every request down FastAPI's stack (``benchmarks/partner_asgi.py --ab --ab-flag
prakerja.web.fastpath:USE_FAST_PATH`` compares the two; the equivalence tests run both)."""

Handler = Callable[[Request], Coroutine[Any, Any, Response]]

_HANDLER = "prakerja_fast_path"
"""The attribute, on a route as included in the app (FastAPI's route context), of its handler and when it is usable:
kept on the route itself, so that it lives and dies with its app (tests build hundreds)."""

_PREFIXES: tuple[str, ...] = ()
"""Path prefixes of the registered routes: a request outside them is not looked up at all."""

_SERVED = "prakerja.fastpath"
"""The scope key that carries the chosen handler and route from :class:`FastPath` to its inner app."""


def register(context: Any, handler: Handler, usable: Callable[[], bool], prefix: str) -> None:
    """Serve the route ``context`` (FastAPI's route as included, ``web.direct.effective_route``) with ``handler``
    while ``usable()`` says so; ``prefix`` is a path prefix every request to the route has (``/partner/v1/``)."""
    global _PREFIXES
    setattr(context, _HANDLER, (handler, usable))
    if prefix not in _PREFIXES:
        _PREFIXES = (*_PREFIXES, prefix)


class FastPath:
    """The top of the app's stack (:func:`install`): registered routes served outside FastAPI's layers."""

    def __init__(self, app: FastAPI, stack: ASGIApp, shell: ShellMiddleware, exceptions: ExceptionMiddleware) -> None:
        self.app = app
        self.stack = stack
        self.shell = shell
        self.memo: RouteMemo = app.router.middleware_stack  # type: ignore[assignment]
        self.handlers = (exceptions._exception_handlers, exceptions._status_handlers)
        error_handler = None
        for key, value in app.exception_handlers.items():  # as FastAPI's build_middleware_stack picks it
            if key in (500, Exception):
                error_handler = value
        self.errors = ServerErrorMiddleware(self._shell, handler=error_handler, debug=app.debug)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            USE_FAST_PATH
            and scope["type"] == "http"
            and scope["path"].startswith(_PREFIXES)
            and not self.app.dependency_overrides
            and "fastapi.telemetry" not in scope
        ):
            found = self.memo.leaf(scope)
            if found is not None:
                leaf, child_scope = found
                entry = getattr(leaf.context, _HANDLER, None)
                if entry is not None and entry[1]():
                    scope[_SERVED] = (entry[0], leaf.route, child_scope)
                    await self.errors(scope, receive, send)
                    return
        await self.stack(scope, receive, send)

    async def _shell(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.shell.serve(scope, receive, send, self._route)

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        """What ``ExceptionMiddleware``, the router's full match of a remembered route (``routing._handle_leaf``)
        and ``request_response`` do for the route, without the exit stacks (the handler opens none)."""
        handler, route, child_scope = scope.pop(_SERVED)
        scope["starlette.exception_handlers"] = self.handlers
        if "router" not in scope:
            scope["router"] = self.app.router
        child_scope["route"] = route
        scope.update(child_scope)
        request = Request(scope, receive, send)

        async def answer(scope: Scope, receive: Receive, send: Send) -> None:
            response = await handler(request)
            await response(scope, receive, send)

        await wrap_app_handling_exceptions(answer, request)(scope, receive, send)


def _layers(stack: ASGIApp, app: FastAPI) -> tuple[ShellMiddleware, ExceptionMiddleware] | None:
    """The shell middleware and the exception middleware of ``stack`` when it is exactly FastAPI's layers around our
    one middleware and the routed router; None otherwise."""
    layer: Any = stack
    if not isinstance(layer, ServerErrorMiddleware):
        return None
    layer = layer.app
    if not isinstance(layer, ExceptionTelemetryMiddleware):
        return None
    layer = layer.app
    if not isinstance(layer, AppBodyLimitMiddleware) or app.max_body_size is not None:
        return None
    layer = layer.app
    if not isinstance(layer, ShellMiddleware):
        return None
    shell = layer
    exceptions = shell.app
    if not isinstance(exceptions, ExceptionMiddleware):
        return None
    exit_stack = exceptions.app
    if not isinstance(exit_stack, AsyncExitStackMiddleware) or exit_stack.app is not app.router:
        return None
    if not isinstance(app.router.middleware_stack, RouteMemo):
        return None
    return shell, exceptions


def install(app: FastAPI) -> None:
    """Put :class:`FastPath` at the top of ``app``'s stack when it is built (on the first request)."""
    if not AVAILABLE:  # pragma: no cover
        return
    build = app.build_middleware_stack

    def build_with_fast_path() -> ASGIApp:
        stack = build()
        found = _layers(stack, app)
        if found is None:
            return stack
        return FastPath(app, stack, *found)

    app.build_middleware_stack = build_with_fast_path  # type: ignore[method-assign]
