"""JSON routes served without FastAPI's generic dependency solving (ADR 0037; the signed partner calls' own version
is ADR 0030's, in ``partners.api``).

For each request FastAPI's handler reads the body, then asks its generic solver for every dependency and parameter
(cache keys, signature inspection, a ``Response`` for sub-dependencies, telemetry hooks), validates the body, runs the
endpoint and validates and serialises its answer. For a route whose dependencies are all coroutines that take only
the request (the app-wide ``refuse_nul``) and whose only parameters are one JSON body model and the request,
:func:`json_route_handler` builds a handler that does the same, in the same order, with FastAPI's own functions for
every answer a client sees: the body read and parsed as FastAPI reads it (its ``json_invalid`` 422 and its 400 for
a body that cannot be read), each dependency in turn, the body validated by ``request_body_to_args`` (every 422 the
same), the endpoint, the answer validated and serialised by ``serialize_response``. The route's declaration is
unchanged, so its OpenAPI description is too.

While ``app.dependency_overrides`` holds anything (tests), while FastAPI's telemetry is on for the request, or with
:data:`USE_DIRECT_PATH` off, the route uses FastAPI's handler. A route that does not qualify keeps FastAPI's handler
(slower, never wrong). The helpers read FastAPI 0.165's per-inclusion route context
(``fastapi.routing._effective_route_context_var``); without it no route takes the direct path, and
``tests/web/test_direct_json.py`` fails on :data:`DIRECT_ROUTES`."""

from __future__ import annotations

import email.message
import functools
import inspect
import json
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from fastapi import params
from fastapi import routing as fastapi_routing
from fastapi.datastructures import DefaultPlaceholder
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import request_body_to_args
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute, serialize_response
from fastapi.utils import is_body_allowed_for_status_code
from pydantic_core import PydanticUndefined as Undefined
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

try:  # what FastAPI's handler calls around the body; without them (another FastAPI), no direct path
    from fastapi._body_limit import get_body_limit_error
    from fastapi.routing import _extract_endpoint_context
    from fastapi.telemetry._api import _validation_failed, get_telemetry_data
    from starlette.middleware.body_limit import MAX_BODY_SIZE_SCOPE_KEY

    AVAILABLE = True
except ImportError:  # pragma: no cover
    AVAILABLE = False

USE_DIRECT_PATH = True
"""False sends every direct JSON route down FastAPI's path (``benchmarks/submission_asgi.py --ab`` compares the
two in the same seconds; the tests run both)."""

DIRECT_ROUTES: set[tuple[str, str]] = set()
"""(method, path) of every JSON route served without FastAPI's dependency solving (ADR 0037)."""

Handler = Callable[[Request], Coroutine[Any, Any, Response]]


def effective_route(route: APIRoute) -> Any:
    """The route as included in the app (FastAPI builds a route's handler once per inclusion, with the app's and
    the routers' dependencies added, and says which inclusion in a context variable), or None (the route as
    declared on its router, without the app's dependencies, or a FastAPI that no longer says)."""
    context_var = getattr(fastapi_routing, "_effective_route_context_var", None)
    context = context_var.get() if context_var is not None else None
    return context if context is not None and getattr(context, "original_route", None) is route else None


def plain_dependency(dependant: Dependant) -> bool:
    """A dependency that takes only the request and is a coroutine function (``refuse_nul``, the raw body)."""
    return (
        dependant.request_param_name is not None
        and not dependant.dependencies
        and not (
            dependant.path_params
            or dependant.query_params
            or dependant.header_params
            or dependant.cookie_params
            or dependant.body_params
        )
        and not (
            dependant.websocket_param_name
            or dependant.http_connection_param_name
            or dependant.response_param_name
            or dependant.background_tasks_param_name
            or dependant.security_scopes_param_name
        )
        and dependant.concurrency is None
        and inspect.iscoroutinefunction(dependant.call)
    )


@functools.lru_cache(maxsize=64)
def content_type(value: str) -> str:
    """A Content-Type header's ``type/subtype`` as the e-mail parser reads it (what FastAPI and Starlette do on
    every request), parsed once per distinct value (a client sends the same one or two values every time)."""
    message = email.message.Message()
    message["content-type"] = value
    return message.get_content_type()


def json_route_handler(route: APIRoute, original: Handler) -> Handler:
    """``original`` (FastAPI's handler for ``route``) with the direct path in front of it when the route qualifies
    (module docstring); call it from a route class's ``get_route_handler``."""
    effective: Any = effective_route(route) if AVAILABLE else None
    direct = _direct(effective) if effective is not None else None
    if direct is None or effective is None:
        return original
    DIRECT_ROUTES.update((method, effective.path) for method in effective.methods or ())
    overrides = effective.dependency_overrides_provider

    async def handler(request: Request) -> Response:
        if (
            not USE_DIRECT_PATH
            or (overrides is not None and getattr(overrides, "dependency_overrides", None))
            or get_telemetry_data() is not None
        ):
            return await original(request)
        return await direct(request)

    return handler


def _direct(effective: Any) -> Callable[[Request], Awaitable[Response]] | None:
    """The direct handler of an included route, or None when it does not qualify: an ``async def`` endpoint (not a
    generator) with one JSON body model (not embedded, not a form), optionally the request, and dependencies that
    all take only the request; FastAPI's default response class, no streaming."""
    dependant: Dependant | None = effective.dependant
    endpoint = dependant.call if dependant is not None else None
    body_field = effective.body_field
    if (
        dependant is None
        or endpoint is None
        or not inspect.iscoroutinefunction(endpoint)
        or inspect.isasyncgenfunction(endpoint)
        or body_field is None
        or len(dependant.body_params) != 1
        or isinstance(body_field.field_info, params.Form)
        or effective._embed_body_fields
        or dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
        or not isinstance(effective.response_class, DefaultPlaceholder)
        or effective.stream_item_field is not None
        or effective.is_sse_stream
        or effective.is_json_stream
        or not all(sub.call is not None and plain_dependency(sub) for sub in dependant.dependencies)
        or len({sub.call for sub in dependant.dependencies}) != len(dependant.dependencies)  # FastAPI's cache
    ):
        return None
    steps: list[tuple[str | None, Callable[..., Awaitable[Any]], str]] = [
        (sub.name, sub.call, sub.request_param_name or "request")
        for sub in dependant.dependencies
        if sub.call is not None
    ]
    body_params = list(dependant.body_params)
    request_name = dependant.request_param_name
    strict = effective.strict_content_type
    strict_content_type = strict.value if isinstance(strict, DefaultPlaceholder) else strict
    endpoint_ctx = _extract_endpoint_context(endpoint)
    response_field = effective.response_field
    response_class = effective.response_class.value
    status_code = effective.status_code
    answer_args = {} if status_code is None else {"status_code": status_code}
    serialise = {
        "include": effective.response_model_include,
        "exclude": effective.response_model_exclude,
        "by_alias": effective.response_model_by_alias,
        "exclude_unset": effective.response_model_exclude_unset,
        "exclude_defaults": effective.response_model_exclude_defaults,
        "exclude_none": effective.response_model_exclude_none,
    }

    async def direct(request: Request) -> Response:
        ctx = endpoint_ctx
        if dependant.path:
            mount_path = request.scope.get("root_path", "").rstrip("/")
            ctx = {**endpoint_ctx, "path": f"{request.method} {mount_path}{dependant.path}"}
        body = await _json_body(request, strict_content_type, ctx)
        values: dict[str, Any] = {}
        for name, call, request_param in steps:
            solved = await call(**{request_param: request})
            if name is not None:
                values[name] = solved
        body_values, errors = await request_body_to_args(
            body_fields=body_params, received_body=body, embed_body_fields=False
        )
        if errors:
            refused = RequestValidationError(errors, body=None if body is Undefined else body, endpoint_ctx=ctx)
            _validation_failed(refused)
            raise refused
        values.update(body_values)
        if request_name is not None:
            values[request_name] = request
        raw = await endpoint(**values)
        if isinstance(raw, Response):
            return raw
        content = await serialize_response(
            field=response_field,
            response_content=raw,
            is_coroutine=True,
            endpoint_ctx=ctx,
            dump_json=response_field is not None,
            **serialise,
        )
        if response_field is not None:
            response = Response(content=content, media_type="application/json", **answer_args)
        else:
            response = response_class(content, **answer_args)
        if not is_body_allowed_for_status_code(response.status_code):
            response.body = b""
        return response

    return direct


async def _json_body(request: Request, strict_content_type: bool, endpoint_ctx: Any) -> Any:
    """The request's body as FastAPI's handler reads it for a JSON body parameter: the parsed JSON for a JSON
    media type (or none, unless ``strict_content_type``), else the bytes, or ``Undefined`` for an empty body; the
    same 422 ``json_invalid``, body-size refusal and 400 as FastAPI's."""
    try:
        body: Any = Undefined
        body_bytes = await request.body()
        if body_bytes:
            json_body: Any = Undefined
            content_type_value = request.headers.get("content-type")
            if not content_type_value:
                if not strict_content_type:
                    json_body = await request.json()
            else:
                maintype, _, subtype = content_type(content_type_value).partition("/")
                if maintype == "application" and (subtype == "json" or subtype.endswith("+json")):
                    json_body = await request.json()
            body = json_body if json_body is not Undefined else body_bytes
    except json.JSONDecodeError as e:
        refused = RequestValidationError(
            [
                {
                    "type": "json_invalid",
                    "loc": ("body", e.pos),
                    "msg": "JSON decode error",
                    "input": {},
                    "ctx": {"error": e.msg},
                }
            ],
            body=e.doc,
            endpoint_ctx=endpoint_ctx,
        )
        _validation_failed(refused)
        raise refused from e
    except HTTPException:
        raise
    except Exception as e:
        if MAX_BODY_SIZE_SCOPE_KEY in request.scope and (error := get_body_limit_error(e)):
            raise error from e
        raise HTTPException(status_code=400, detail="There was an error parsing the body") from e
    return body
