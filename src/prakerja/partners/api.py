"""``/partner/v1``: the signed partner API (contract ``partner-api.md``). Every route depends on
:func:`require_partner` (or :func:`require_partner_on_loop`); POST, PUT, PATCH and DELETE also need an
``Idempotency-Key``.

Two frames for a signed call, answering the same (ADR 0021):

- the **Session frame**: a sync route with ``Depends(require_partner(...))`` and a ``DbSession``; admission on
  the ``Session`` (plus an autocommit connection for the bookkeeping) in a worker thread, then :func:`idempotent`
  around the route's work on the same ``Session``;
- the **loop frame**: an ``async def`` route with ``Depends(require_partner_on_loop(...))``, then
  ``await loop_call(request, caller, body, handler, status_code=...)``. One loop connection (``db.lease_on_loop``,
  ADR 0014 and 0033) is checked out by the admission and serves the work too: the admission's statement commits on
  its own, then ``handler(conn)`` runs in one transaction with the idempotency claim and the stored response, so
  they commit or roll back together; the connection goes back when ``loop_call`` ends (or when the request does,
  for a route that never calls it). No worker thread, no ``Session``.

Either way, a refusal is logged on a loop connection once the request's own work was rolled back."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import inspect
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine, MutableMapping
from dataclasses import asdict
from typing import Annotated, Any

import asyncpg
from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile, params
from fastapi.dependencies.utils import request_params_to_args
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.routing import APIRoute
from pydantic import BaseModel
from sqlalchemy.orm import Session
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException as StarletteHTTPException

from prakerja.config import get_settings
from prakerja.db import LoopLease, get_engine, lease_on_loop, on_loop
from prakerja.idempotency import service as idempotency
from prakerja.idempotency.errors import IdempotencyKeyRequired
from prakerja.kit import idempotency as idempotency_rules
from prakerja.kit.clock import utcnow
from prakerja.kit.errors import DomainError
from prakerja.partners import rules, service
from prakerja.partners.errors import BodyTooLarge, MalformedBody, RoleForbidden
from prakerja.partners.schemas import (
    PartnerListImportOut,
    Ping,
    WebhookDeliveryAttempt,
    WebhookDeliveryPage,
    error_responses,
)
from prakerja.partners.service import PartnerCaller, PartnerRole
from prakerja.registration.service import lists
from prakerja.web import fastpath
from prakerja.web.deps import DbSession
from prakerja.web.direct import content_type, effective_route, plain_dependency

log = logging.getLogger(__name__)

MAX_BODY_BYTES = lists.MAX_LIST_BYTES + 1024 * 1024
"""The largest list file and its multipart framing."""


def _media_type(request: Request) -> str:
    """``type/subtype`` of the request's Content-Type, lower case ("" when absent); a partner sends the same one or
    two values on every call: each parsed once (``web.direct.content_type``)."""
    value = _header(request, "content-type")
    return content_type(value) if value else ""


_HEADERS = "prakerja.partners.headers"
"""The key, in a signed request's ASGI scope, of the headers the signed call reads (:func:`_signed_headers`)."""

_SIGNED_HEADERS = frozenset(
    name.encode("latin-1")
    for name in ("client_code", "timestamp", "signature", "content-length", "content-type", "idempotency-key")
)


def _signed_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """The headers a signed call reads, from one pass over the raw list (ADR 0041), as Starlette's ``Headers.get``
    reads each (the first one of a name, the name compared as sent with the lower-case name asked for, the value
    decoded as Latin-1); Starlette scans the list again for every look-up, ~10 a call."""
    found: dict[str, str] = {}
    for key, value in raw:
        if key in _SIGNED_HEADERS:
            name = key.decode("latin-1")
            if name not in found:
                found[name] = value.decode("latin-1")
    return found


def _header(request: Request, name: str) -> str | None:
    """``request.headers.get(name)`` (``name`` in lower case), from :func:`_signed_headers` when :class:`SignedRoute`
    read them."""
    found = request.scope.get(_HEADERS)
    if found is None or name.encode("latin-1") not in _SIGNED_HEADERS:
        return request.headers.get(name)
    return found.get(name)


def router_prefix(path: str) -> str:
    """``/partner/v1/`` of ``/partner/v1/purchases``: what every request to a signed route starts with."""
    return "/".join(path.split("/")[:3]) + "/"


USE_DIRECT_PATH = True
"""False sends every signed route down FastAPI's path (``benchmarks/partner_asgi.py --ab`` compares the two)."""

DIRECT_ROUTES: set[tuple[str, str]] = set()
"""(method, path) of every signed route served without FastAPI's dependency solving (ADR 0030)."""


class SignedRoute(APIRoute):
    """Reads the whole body (up to :data:`MAX_BODY_BYTES`) before FastAPI parses it, so the signature is checked
    over the exact bytes sent and the form is parsed from the same bytes. Requests without the signing headers or
    with a stale timestamp are refused before any of the body is read.

    A body that cannot be read (a JSON route's body not JSON or sent with another content type, a form route's
    body not a form) is noted here and refused with 400 ``malformed_body`` once the caller is authenticated, so an
    unsigned caller learns nothing more than 401 (contract section 3). Every refusal of every route, signed or
    not, is written to the log of refused partner calls for officers to review, on a transaction of its own
    after the request's own work was rolled back."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        original = super().get_route_handler()
        effective = effective_route(self)
        direct = _direct(self, effective) if effective is not None else None
        form_body = self.body_field is not None and isinstance(self.body_field.field_info, params.Form)
        extra = (self.openapi_extra or {}).get("requestBody", {})
        json_body = not form_body and (self.body_field is not None or "application/json" in extra.get("content", {}))
        endpoint = self.path

        def signed(inner: Callable[[Request], Awaitable[Response]]) -> fastpath.Handler:
            async def handler(request: Request) -> Response:
                scope = request.scope
                scope[_LEASE] = None  # the loop frame's admission may check out the request's connection (ADR 0033)
                scope[_HEADERS] = _signed_headers(scope["headers"])
                try:
                    response = await self._handle(request, inner, form_body=form_body, json_body=json_body)
                    await _settle(request)  # a route that never reached loop_call: its admission alone (ADR 0043)
                    return response
                except (DomainError, RequestValidationError, StarletteHTTPException) as error:
                    try:  # refused before its work: the admission first, whose own refusals come first (ADR 0043)
                        await _settle(request)
                    except DomainError as first:
                        await _record_refusal(request, endpoint, first)
                        raise first from None
                    await _record_refusal(request, endpoint, error)
                    raise
                except BaseException:
                    with contextlib.suppress(Exception):  # a failure before the work: the call counted all the same
                        await _settle(request)
                    raise
                finally:
                    scope.pop(_PENDING, None)
                    _release(scope)

            return handler

        if direct is not None:
            overrides = effective.dependency_overrides_provider
            # the same handler, served outside FastAPI's layers by web.fastpath (ADR 0042) while the direct path is
            # the one FastAPI's would take
            fastpath.register(
                effective,
                signed(direct),
                lambda: USE_DIRECT_PATH and not getattr(overrides, "dependency_overrides", None),
                router_prefix(effective.path),
            )
            original = _direct_or(original, direct, overrides)
            DIRECT_ROUTES.update((method, effective.path) for method in self.methods or ())
        return signed(original)

    @staticmethod
    async def _handle(
        request: Request,
        original: Callable[[Request], Awaitable[Response]],
        *,
        form_body: bool,
        json_body: bool,
    ) -> Response:
        # refuse what needs no body and no database first, so unsigned callers cannot make us buffer
        service.precheck(
            client_code=_header(request, "client_code"),
            timestamp=_header(request, "timestamp"),
            signature=_header(request, "signature"),
        )
        declared = _header(request, "content-length") or ""
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            raise BodyTooLarge(details={"max_bytes": MAX_BODY_BYTES})
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY_BYTES:
                raise BodyTooLarge(details={"max_bytes": MAX_BODY_BYTES})
            chunks.append(chunk)
        request._body = b"".join(chunks)  # Request.body() and .form() read this from now on
        if request.method.upper() in rules.BODY_METHODS:
            request.state.malformed_body = await _malformed(request, form_body=form_body, json_body=json_body)
        return await original(request)


def _direct(route: APIRoute, effective: Any) -> Callable[[Request], Awaitable[Response]] | None:
    """The route's handler without FastAPI's dependency solving (ADR 0030), or None when the route is not one it
    can serve: an ``async def`` endpoint returning a :class:`Response`, taking only the request, path parameters
    and dependencies that are :func:`require_partner_on_loop`'s admission (exactly one) or take only the request
    (``refuse_nul``, the raw body). It does what FastAPI does for such a route, in the same order: each dependency
    in turn (the admission's refusals, then the role and the malformed body), then the path parameters validated
    by FastAPI's own function (422 as before), then the endpoint. The route's declaration is unchanged, so its
    OpenAPI description is too."""
    dependant = effective.dependant
    endpoint = dependant.call if dependant is not None else None
    if (
        endpoint is None
        or not inspect.iscoroutinefunction(endpoint)
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or dependant.websocket_param_name
        or dependant.http_connection_param_name
        or dependant.response_param_name
        or dependant.background_tasks_param_name
        or dependant.security_scopes_param_name
    ):
        return None
    steps: list[tuple[str | None, Callable[..., Any], str, frozenset[PartnerRole] | None]] = []
    for sub in dependant.dependencies:
        call = sub.call
        allowed = _LOOP_PERMITS.get(call) if call is not None else None
        if allowed is not None and sub.name is not None:
            steps.append((sub.name, _admit_on_loop, "", allowed))
        elif call is not None and plain_dependency(sub):
            steps.append((sub.name, call, sub.request_param_name or "request", None))
        else:
            return None
    if sum(1 for step in steps if step[3] is not None) != 1:
        return None
    path_fields = list(dependant.path_params)
    request_name = dependant.request_param_name

    async def direct(request: Request) -> Response:
        values: dict[str, Any] = {}
        for name, call, request_param, allowed in steps:
            if allowed is None:
                solved = await call(**{request_param: request})
            else:
                caller = await _admit_on_loop(
                    request,
                    request._body,
                    _header(request, "client_code"),
                    _header(request, "timestamp"),
                    _header(request, "signature"),
                    _header(request, "idempotency-key"),
                )
                solved = _permit(request, caller, allowed)
            if name is not None:
                values[name] = solved
        if path_fields:
            path_values, errors = request_params_to_args(path_fields, request.path_params)
            if errors:
                raise RequestValidationError(errors, body=None)
            values.update(path_values)
        if request_name is not None:
            values[request_name] = request
        response = await endpoint(**values)
        if not isinstance(response, Response):  # a route on the direct path renders its own answer
            raise TypeError(f"{route.path}: a signed route on the loop frame returns a Response")
        return response

    return direct


def _direct_or(
    original: Callable[[Request], Coroutine[Any, Any, Response]],
    direct: Callable[[Request], Awaitable[Response]],
    overrides: Any,
) -> Callable[[Request], Coroutine[Any, Any, Response]]:
    """The direct path, except while dependencies are overridden (``app.dependency_overrides``, in tests): then
    FastAPI's, which applies them."""

    async def handler(request: Request) -> Response:
        if not USE_DIRECT_PATH or (overrides is not None and getattr(overrides, "dependency_overrides", None)):
            return await original(request)
        return await direct(request)

    return handler


async def _malformed(request: Request, *, form_body: bool, json_body: bool) -> str | None:
    """Why the body cannot be read (``content_type``, ``json_invalid``, ``form_invalid``), or None. A malformed
    body is replaced by an empty one so FastAPI's own parsing does not answer before the signature is checked."""
    media = _media_type(request)
    if json_body:
        if media != "application/json" and not (media.startswith("application/") and media.endswith("+json")):
            return "content_type"
        try:
            json.loads(request._body)
        except (ValueError, RecursionError):  # not JSON, not UTF-8, or nested past what a parser can hold
            request._json = None  # what FastAPI reads instead: a missing body, refused after authentication
            return "json_invalid"
        return None
    if form_body:
        if media not in ("multipart/form-data", "application/x-www-form-urlencoded"):
            request._form = FormData()
            return "content_type"
        try:
            await request.form()
        except Exception:  # the multipart parser's errors are several types; any of them is a malformed body
            request._form = FormData()
            return "form_invalid"
    return None


_LEASE = "prakerja.partners.lease"
"""The key, in a request's ASGI scope, of the loop connection its admission checked out (a :class:`LoopLease`),
None before and after: present only while :class:`SignedRoute` serves the request, which releases it at the end."""


async def _lease(request: Request) -> LoopLease | None:
    """The request's loop connection for the admission and the work (ADR 0033), checked out now, or None outside
    :class:`SignedRoute` (then the admission takes a connection of its own, as before)."""
    scope = request.scope
    if _LEASE not in scope:
        return None
    held = scope[_LEASE]
    if held is not None:  # admitted twice (FastAPI's path solving a second dependency): one connection all the same
        return held
    lease = scope[_LEASE] = await lease_on_loop()
    return lease


def _taken(request: Request) -> LoopLease | None:
    """The request's leased connection, handed over to whoever releases it next (:func:`loop_call`), if it is
    usable: not released, outside any transaction block."""
    scope = request.scope
    lease = scope.get(_LEASE)
    if lease is None:
        return None
    scope[_LEASE] = None
    if lease.released or lease.conn.is_closed() or lease.conn.is_in_transaction():
        lease.release()
        return None
    return lease


def _release(scope: MutableMapping[str, Any]) -> None:
    lease = scope.pop(_LEASE, None)
    if lease is not None:
        lease.release()


async def _record_refusal(request: Request, endpoint: str, error: Exception) -> None:
    """One row in the log of refused calls, on the request's leased loop connection if it still holds one (a
    refusal before the work), else on a loop connection of its own (one statement, committed at once)."""
    if isinstance(error, DomainError):
        code, status = error.code, error.status_code
    elif isinstance(error, RequestValidationError):
        code, status = "invalid_request", 422
    else:
        code, status = "http_error", getattr(error, "status_code", 400)
    caller = getattr(request.state, "partner", None)
    values: dict[str, Any] = {
        "caller": caller if isinstance(caller, PartnerCaller) else None,
        "client_code": request.headers.get("client_code"),
        "method": request.method,
        "endpoint": endpoint,
        "code": code,
        "status": status,
        "remote": request.client.host if request.client else None,
    }
    try:
        lease = _taken(request)
        if lease is not None:
            try:
                await service.record_refusal_on_loop(lease.conn, **values)
            finally:
                lease.release()
            return
        async with on_loop() as conn:
            await service.record_refusal_on_loop(conn, **values)
    except Exception:  # the refusal itself is answered even when the log cannot be written
        log.exception("refused partner call not logged", extra={"code": code})


router = APIRouter(prefix="/partner/v1", tags=["partner"], route_class=SignedRoute)


async def _raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(_raw_body)]


def signed_path(request: Request) -> bytes:
    """The path with its query string exactly as sent (percent-escapes untouched)."""
    path = request.scope.get("raw_path") or request.url.path.encode()
    query = request.scope.get("query_string") or b""
    return bytes(path) + (b"?" + bytes(query) if query else b"")


ClientCode = Annotated[
    str | None, Header(alias="client_code", convert_underscores=False, description="The credential's public code.")
]
Timestamp = Annotated[
    str | None, Header(alias="timestamp", description="Unix time in whole seconds, as decimal digits.")
]
Signature = Annotated[
    str | None,
    Header(
        alias="signature",
        description="Lowercase hex HMAC-SHA256(key, client_code + timestamp + METHOD + path + raw_body).",
    ),
]
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        description="Required on POST, PUT, PATCH and DELETE: 1-255 visible ASCII characters (0x21-0x7E, no "
        "space); 400 `idempotency_key_required` without it.",
    ),
]


def _caller(
    request: Request,
    session: DbSession,
    body: RawBody,
    client_code: ClientCode = None,
    timestamp: Timestamp = None,
    signature: Signature = None,
    idempotency_key: IdempotencyKey = None,
) -> PartnerCaller:
    with get_engine().connect() as own:
        # the signature record and the rate count: one statement, committed at once on a connection of its own
        # (autocommit), so every web process sees it and it counts even when the request is refused later
        own.execution_options(isolation_level="AUTOCOMMIT")
        caller = service.admit(
            session,
            own,
            client_code=client_code,
            timestamp=timestamp,
            signature=signature,
            method=request.method,
            path=signed_path(request),
            body=body,
            limit_per_minute=get_settings().partner_rate_limit_per_minute,
            verified=lambda caller: setattr(request.state, "partner", caller),  # refusals from here on: the partner's
        )
    _require_key(request, idempotency_key)
    return caller


async def _caller_on_loop(
    request: Request,
    body: RawBody,
    client_code: ClientCode = None,
    timestamp: Timestamp = None,
    signature: Signature = None,
    idempotency_key: IdempotencyKey = None,
) -> PartnerCaller:
    """:func:`_caller` on a loop connection (ADR 0021): the same checks, refusals and rows (the credential read
    when not cached, then the signature record and the rate count in one statement committed at once), no
    ``Session`` and no worker thread."""
    return await _admit_on_loop(request, body, client_code, timestamp, signature, idempotency_key)


async def _admit_on_loop(
    request: Request,
    body: bytes,
    client_code: str | None,
    timestamp: str | None,
    signature: str | None,
    idempotency_key: str | None,
) -> PartnerCaller:
    """The work of :func:`_caller_on_loop`, shared with the direct path of :class:`SignedRoute` (ADR 0030), which
    reads the four headers itself. On the request's leased connection (ADR 0033), which :func:`loop_call` then
    uses for the work; outside :class:`SignedRoute`, on a connection of its own."""
    values: dict[str, Any] = {
        "client_code": client_code,
        "timestamp": timestamp,
        "signature": signature,
        "method": request.method,
        "path": signed_path(request),
        "body": body,
        "limit_per_minute": get_settings().partner_rate_limit_per_minute,
        "verified": lambda caller: setattr(request.state, "partner", caller),
    }
    lease = await _lease(request)
    if lease is not None and FOLD_ADMISSION and request.method.upper() in rules.MUTATING_METHODS:
        # checked now against the cached credential, its statement folded into the call's first read (ADR 0043)
        pending = service.defer_admission(**values)
        if pending is not None:
            request.scope[_PENDING] = pending
            _require_key(request, idempotency_key)
            return pending.caller
    if lease is not None:
        caller = await service.admit_on_loop(lease.conn, **values)
    else:
        async with on_loop() as conn:
            caller = await service.admit_on_loop(conn, **values)
    _require_key(request, idempotency_key)
    return caller


FOLD_ADMISSION = True
"""Whether a signed POST, PUT, PATCH or DELETE admitted from a cached credential leaves its admission's statement
to be folded into the call's first read (ADR 0043); False: committed on its own first, as before."""

_PENDING = "prakerja.partners.pending_admission"
"""The key, in a signed request's ASGI scope, of its admission still to run (``service.PendingAdmission``): taken
by :func:`loop_call` (folded, or run alone first) or, when the request ends before it, run alone then."""


async def _settle(request: Request, conn: asyncpg.Connection | None = None) -> None:
    """The request's pending admission, if any, run alone now (committed at once, as before ADR 0043): its
    refusals (replay, rate limit) come before any other, as when it ran first."""
    pending = request.scope.pop(_PENDING, None)
    if pending is None:
        return
    if conn is not None:
        await service.run_admission(conn, pending)
        return
    lease = request.scope.get(_LEASE)
    if lease is not None and not lease.released and not lease.conn.is_in_transaction():
        await service.run_admission(lease.conn, pending)
        return
    async with on_loop() as own:
        await service.run_admission(own, pending)


def _require_key(request: Request, idempotency_key: str | None) -> None:
    if request.method.upper() in rules.MUTATING_METHODS and not idempotency_rules.valid_key(idempotency_key):
        raise IdempotencyKeyRequired()


def _permit(request: Request, caller: PartnerCaller, allowed: frozenset[PartnerRole]) -> PartnerCaller:
    if caller.role not in allowed:
        raise RoleForbidden(details={"allowed_roles": sorted(r.value for r in allowed)})
    malformed = getattr(request.state, "malformed_body", None)
    if malformed:  # noted by SignedRoute; refused only now, after the signature and the role
        raise MalformedBody(details={"reason": malformed})
    return caller


def require_partner(*roles: PartnerRole) -> Callable[..., PartnerCaller]:
    """``Depends(require_partner(PartnerRole.ministry))``: 401 unless correctly signed, 403 for another role, 400
    ``malformed_body`` for a body that cannot be read."""
    allowed = frozenset(roles)

    def check(request: Request, caller: Annotated[PartnerCaller, Depends(_caller)]) -> PartnerCaller:
        return _permit(request, caller, allowed)

    return check


_LOOP_PERMITS: dict[Callable[..., Any], frozenset[PartnerRole]] = {}
"""Each dependency made by :func:`require_partner_on_loop` and the roles it lets in: how :class:`SignedRoute`
recognises the loop frame's admission in a route's dependencies and runs it without FastAPI (ADR 0030)."""


def require_partner_on_loop(*roles: PartnerRole) -> Callable[..., Awaitable[PartnerCaller]]:
    """:func:`require_partner` for the loop frame (``async def`` routes calling :func:`loop_call`): the same
    refusals in the same order, admitted on a loop connection."""
    allowed = frozenset(roles)

    async def check(request: Request, caller: Annotated[PartnerCaller, Depends(_caller_on_loop)]) -> PartnerCaller:
        return _permit(request, caller, allowed)

    _LOOP_PERMITS[check] = allowed
    return check


AnyPartner = Annotated[PartnerCaller, Depends(require_partner(*PartnerRole))]
Ministry = Annotated[PartnerCaller, Depends(require_partner(PartnerRole.ministry))]


def idempotent(
    session: Session,
    request: Request,
    caller: PartnerCaller,
    body: bytes,
    handler: Callable[[], Any],
    status_code: int = 200,
) -> Response:
    """Contract section 2: the first response again, byte for byte, for the same key and request; nothing done
    twice."""
    outcome = idempotency.run(
        session,
        scope=caller.idempotency_scope,
        key=request.headers.get(idempotency_rules.HEADER),
        method=request.method,
        path=signed_path(request).decode("utf-8", "replace"),
        body=body,
        handler=lambda: (status_code, bytes(JSONResponse(jsonable_encoder(handler())).body)),
    )
    headers = {idempotency_rules.REPLAYED_HEADER: "true"} if outcome.replayed else None
    return Response(outcome.body, status_code=outcome.status_code, headers=headers, media_type="application/json")


def render_json(answer: BaseModel | dict[str, Any]) -> bytes:
    """The bytes FastAPI's ``JSONResponse(jsonable_encoder(answer))`` sends, encoded once: a model dumped as
    ``jsonable_encoder`` dumps it (JSON mode, by alias), which leaves nothing for it to convert, then
    ``JSONResponse.render``'s own ``json.dumps``."""
    if isinstance(answer, BaseModel):
        content = answer.model_dump(mode="json", by_alias=True)  # JSON types only: jsonable_encoder would copy it
    else:
        content = jsonable_encoder(answer)
    return json.dumps(
        content,
        ensure_ascii=False,
        allow_nan=False,
        indent=None,
        separators=(",", ":"),
    ).encode("utf-8")


LoopHandler = Callable[[asyncpg.Connection], Awaitable[BaseModel | dict[str, Any]]]
"""The work of a signed call on the loop frame: ``async def handler(conn) -> Model``, run inside the request's
transaction on ``conn``; a DomainError it raises rolls everything back and is the refusal."""


FOLD_FRAME = True
"""Whether a folding handler's call folds the idempotency claim into its first read and the stored answer into its
write (ADR 0043); False: each its own statement, as before (``benchmarks/partner_asgi.py --ab`` compares the two)."""


async def loop_call(
    request: Request,
    caller: PartnerCaller,
    body: bytes,
    handler: LoopHandler,
    *,
    status_code: int = 200,
    folds: bool = False,
) -> Response:
    """The loop frame's :func:`idempotent` (ADR 0021, 0033). On the loop connection the admission checked out for
    the request (one check-out per call; a connection of its own outside :class:`SignedRoute`), given back when it
    ends, one transaction (``async with conn.transaction():``); for POST, PUT, PATCH and DELETE claims the
    ``Idempotency-Key`` in it (contract section 2: the first response again, byte for byte,
    ``Idempotent-Replayed: true``; nothing done twice), runs ``await handler(conn)``, renders its answer as
    :func:`idempotent` does and stores it in the same transaction. Everything commits together when the handler
    returns; an exception rolls everything back and propagates (a DomainError is refused and logged by
    :class:`SignedRoute`, as on the Session frame).

    ``folds``: the handler reads and writes through the call's ``idempotency.service.Frame`` (ADR 0043; the
    marketplace's purchase calls): the claim is folded into its first read and the stored answer into its write,
    so a call is ``BEGIN``, its read, its write, ``COMMIT``."""
    if not folds:  # the admission alone first, on the request's connection (a refusal is logged on it)
        await _settle(request)
    lease = _taken(request)
    pending = request.scope.pop(_PENDING, None)
    if lease is None:
        async with on_loop() as conn:
            outcome = await _work(conn, request, caller, body, handler, status_code, folds, pending)
    else:
        try:
            outcome = await _work(lease.conn, request, caller, body, handler, status_code, folds, pending)
        finally:
            lease.release()
    headers = {idempotency_rules.REPLAYED_HEADER: "true"} if outcome.replayed else None
    return Response(outcome.body, status_code=outcome.status_code, headers=headers, media_type="application/json")


async def _work(
    conn: asyncpg.Connection,
    request: Request,
    caller: PartnerCaller,
    body: bytes,
    handler: LoopHandler,
    status_code: int,
    folds: bool = False,
    pending: service.PendingAdmission | None = None,
) -> idempotency.Outcome:
    async def rendered() -> tuple[int, bytes]:
        return status_code, render_json(await handler(conn))

    mutating = request.method.upper() in rules.MUTATING_METHODS
    if folds and mutating:
        return await _folded_work(conn, request, caller, body, handler, status_code, pending)
    if pending is not None:  # a handler that does not read through the frame: the admission alone, first
        await service.run_admission(conn, pending)
    async with conn.transaction():
        if mutating:
            return await idempotency.run_on_loop(
                conn,
                scope=caller.idempotency_scope,
                key=_header(request, "idempotency-key"),
                method=request.method,
                path=signed_path(request).decode("utf-8", "replace"),
                body=body,
                handler=rendered,
            )
        return idempotency.Outcome(*await rendered(), replayed=False)


async def _folded_work(
    conn: asyncpg.Connection,
    request: Request,
    caller: PartnerCaller,
    body: bytes,
    handler: LoopHandler,
    status_code: int,
    pending: service.PendingAdmission | None,
) -> idempotency.Outcome:
    """:func:`_work` for a handler reading and writing through the call's frame (ADR 0043): the admission (when
    pending) and the claim come with its first read, their refusals before its own; a stored answer is replayed from
    there; the answer its write stored (or, for a handler that writes nothing, one ``INSERT`` here) commits with its
    work, and with the admission: one commit per call.

    A refusal raised before the handler asked for its answer's part (so before its write: the admission's, the
    claim's and the handler's checks) commits what the transaction holds, the admission's rows alone, so the call
    is counted and its signature is spent; any other exception rolls back, and the admission is then written alone
    (as before ADR 0043, on its own commit)."""
    frame = idempotency.Frame(
        scope=caller.idempotency_scope,
        key=_header(request, "idempotency-key") or "",
        method=request.method,
        path=signed_path(request).decode("utf-8", "replace"),
        body=body,
        status_code=status_code,
        render=render_json,
        fold=FOLD_FRAME,
        before=service.admission_part(pending) if pending is not None and FOLD_FRAME else None,
    )
    if pending is not None and frame.before is None:
        await service.run_admission(conn, pending)
        pending = None
    token = idempotency.set_frame(frame)
    try:
        while True:
            try:
                return await _in_frame(conn, frame, handler, status_code)
            except service.AdmitAgain:  # the credential changed: nothing was written; admitted from scratch
                assert pending is not None
                await service.admit_on_loop(conn, **pending.inputs)
                pending = None
                frame = dataclasses.replace(frame, before=None, claimed=False, answered=None, rolled_back=False)
                idempotency.reset_frame(token)
                token = idempotency.set_frame(frame)
            except BaseException:
                if pending is not None and frame.rolled_back:  # rolled back with the work: written alone now
                    # (a refusal of it now, say the signature brought meanwhile by a replay, changes nothing: this
                    # call is answered by its own error)
                    with contextlib.suppress(DomainError):
                        await service.run_admission(conn, pending)
                raise
    finally:
        idempotency.reset_frame(token)


async def _in_frame(
    conn: asyncpg.Connection, frame: idempotency.Frame, handler: LoopHandler, status_code: int
) -> idempotency.Outcome:
    """One transaction of :func:`_folded_work`: committed when the handler answered, when the answer was stored
    already, or when a refusal came before the handler's write; rolled back otherwise."""
    transaction = conn.transaction()
    await transaction.start()
    try:
        answer = await handler(conn)
        if not frame.claimed:
            raise RuntimeError("a folding handler reads through its frame first (idempotency.current_frame)")
        payload = frame.answered
        if payload is None:
            payload = render_json(answer)
            await frame.store(conn, payload)
    except idempotency.Replayed as replayed:
        await transaction.commit()  # the admission's rows (nothing else was written)
        return replayed.outcome
    except DomainError:
        if frame.answered is None and frame.claimed:  # refused before the handler's write: the admission's rows
            await transaction.commit()
        else:
            frame.rolled_back = True
            await transaction.rollback()
        raise
    except BaseException:
        frame.rolled_back = True
        await transaction.rollback()
        raise
    await transaction.commit()
    return idempotency.Outcome(status_code, payload, replayed=False)


@router.get("/ping", response_model=Ping, responses=error_responses())
async def ping(caller: Annotated[PartnerCaller, Depends(require_partner_on_loop(*PartnerRole))]) -> Response:
    """Check your signing: answers who you are and our clock. Changes nothing."""
    answer = Ping(
        client_code=caller.client_code,
        partner=caller.partner_name,
        role=caller.role.value,
        server_time=int(utcnow().timestamp()),
    )
    return JSONResponse(answer.model_dump(mode="json"))


@router.post(
    "/exclusion-lists/imports",
    response_model=PartnerListImportOut,
    responses=error_responses(
        {
            403: ("list_type_not_allowed", "list_source_not_allowed"),
            422: (
                "list_type_unknown",
                "list_mode_invalid",
                "list_source_invalid",
                "list_file_invalid",
                "list_file_empty",
            ),
        }
    ),
)
def import_exclusion_list(
    request: Request,
    session: DbSession,
    body: RawBody,
    caller: Ministry,
    file: Annotated[UploadFile, File(description="CSV with a 'nik' header, or Parquet with a 'nik' column.")],
    list_type: Annotated[str, Form(max_length=32, description="e.g. asn, tni, polri, student, laid_off")],
    as_of: Annotated[datetime.date, Form(description="Date of the data, YYYY-MM-DD.")],
    mode: Annotated[str, Form(max_length=8, description="merge (add) or replace (the whole list from source).")] = (
        "merge"
    ),
    source: Annotated[
        str | None,
        Form(
            max_length=200,
            description="Optional: the source registered for your credential (e.g. BKN); any other is refused.",
        ),
    ] = None,
) -> Response:
    """Ministries only (role ``ministry``). Replace or merge one exclusion list or whitelist. A credential imports
    only the list types it was issued for, under its registered source (403 ``list_type_not_allowed``,
    ``list_source_not_allowed``), so ``replace`` touches only that source's entries. NIKs are kept only as keyed
    blind indexes; provenance (source, type, as-of date, the credential, file SHA-256, row counts) is stored and
    audited with the credential as actor. A malformed file is refused with 422 and nothing is written.
    """

    def handler() -> PartnerListImportOut:
        lists.kind_of(list_type)  # an unknown type is 422 list_type_unknown before the credential's scope
        own_source = service.allowed_list_source(caller, list_type, source)
        result = lists.import_list(
            session,
            data=lists.read_upload(file.file),
            filename=file.filename or "",
            list_type=list_type,
            source=own_source,
            as_of=as_of,
            mode=mode,
            actor=caller.actor,
            via="partner_api",
        )
        return PartnerListImportOut(**asdict(result), as_of=as_of, source=own_source)

    return idempotent(session, request, caller, body, handler)


@router.get(
    "/webhook-deliveries",
    response_model=WebhookDeliveryPage,
    responses=error_responses({422: ("webhook_query_invalid",)}),
)
def webhook_deliveries(
    session: DbSession,
    caller: AnyPartner,
    type: Annotated[str | None, Query(max_length=64, description="Only this event type, e.g. purchase.confirmed.")] = (
        None
    ),
    status: Annotated[
        str | None, Query(max_length=32, description="Only attempts that ended so: succeeded, retrying, failed, ...")
    ] = None,
    since: Annotated[
        datetime.datetime | None, Query(description="Only attempts made at or after this RFC 3339 time.")
    ] = None,
    after: Annotated[str | None, Query(max_length=64, description="The next_cursor of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=200, description="Attempts per page.")] = 50,
) -> WebhookDeliveryPage:
    """Any role. Every attempt to deliver a webhook to your organisation's endpoints (contract section 4), oldest
    first: the event's ``webhook-id`` and type, the attempt number and time, your endpoint's status code or the
    error, and when the next attempt comes. Only your own organisation's attempts. Changes nothing."""
    page = service.webhook_deliveries(
        session, partner_id=caller.partner_id, type=type, status=status, since=since, after=after, limit=limit
    )
    return WebhookDeliveryPage(
        items=[
            WebhookDeliveryAttempt(
                event_id=a.event_id,
                type=a.type,
                endpoint_id=str(a.endpoint_id),
                attempt=a.attempt,
                attempted_at=a.attempted_at,
                status=a.status,
                status_code=a.status_code,
                error=a.error,
                next_attempt_at=a.next_attempt_at,
            )
            for a in page.items
        ],
        next_cursor=page.next_cursor,
    )
