"""``create_app()``: mounts each domain's routers, the middleware and the one error handler."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import APIRouter, Depends, FastAPI
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request

from prakerja import __version__
from prakerja.audit import pages as audit_pages
from prakerja.auth import pages as auth_pages
from prakerja.auth.models import PMO_ROLES
from prakerja.auth.service import CurrentAccount
from prakerja.catalog import api as catalog_api
from prakerja.catalog import pages as catalog_pages
from prakerja.certificates import pages as certificates_pages
from prakerja.config import get_settings
from prakerja.ledger import api as ledger_api
from prakerja.ledger import pages as ledger_pages
from prakerja.notifications import pages as notifications_pages
from prakerja.notifications.providers import dev_mailbox_enabled
from prakerja.partners import api as partners_api
from prakerja.partners import pages as partners_pages
from prakerja.payouts import api as payouts_api
from prakerja.payouts import pages as payouts_pages
from prakerja.portals import pages as portals_pages
from prakerja.registration import api as registration_api
from prakerja.registration import pages as registration_pages
from prakerja.selection import api as selection_api
from prakerja.selection import pages as selection_pages
from prakerja.training import api as training_api
from prakerja.training import pages as training_pages
from prakerja.waves import api as waves_api
from prakerja.waves import pages as waves_pages
from prakerja.web import errors, fastpath, heap, middleware, openapi, portals, routing
from prakerja.web import pages as shell_pages
from prakerja.web.deps import require_role
from prakerja.web.inputs import refuse_nul
from prakerja.web.pmo import links
from prakerja.web.templating import render
from prakerja.worker import InProcessWorker


def create_app(*, in_process_worker: bool = False) -> FastAPI:
    """The web application; with ``in_process_worker`` it also runs jobs, in ``app.state.worker`` (an
    :class:`~prakerja.worker.InProcessWorker` the server stops when it stops)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        heap.freeze_startup_objects()  # the app is built: its objects leave the collector's walks (ADR 0034)
        worker = None
        if in_process_worker:
            worker = InProcessWorker(concurrency=2, shutdown_timeout=get_settings().shutdown_timeout)
            app.state.worker = worker
            worker.start()
        try:
            yield
        finally:
            if worker is not None:
                await worker.stop()

    app = FastAPI(
        title="prakerja",
        version=__version__,
        description="Kartu Prakerja-style program platform: internal (`/api/v1`) and partner (`/partner/v1`) APIs.",
        lifespan=lifespan,
        # served by web.openapi: documented error responses, and officers only in production
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        dependencies=[Depends(refuse_nul)],
        # no OpenTelemetry here (metrics are Prometheus', web.middleware): FastAPI would otherwise look up three
        # global providers on every request to find out that none is configured
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    # the development mailbox's claim is a hook of the one shell middleware, not a middleware layer of its own
    middleware.install(app, answer_hooks=[notifications_pages.dev_mailbox_claim()] if dev_mailbox_enabled() else [])
    errors.install(app)
    openapi.install(app)
    # Routers in the order of their traffic: FastAPI finds a request's route by trying the routes in order (the
    # matched router's twice), ~5 us a route, so the machine-called JSON APIs come first and the pages after them.
    # No two routes answer the same method and path (tests/web/test_routing.py), so the order changes no answer.
    app.include_router(shell_pages.router)  # health checks and metrics
    app.include_router(registration_api.router)
    app.include_router(
        catalog_api.mount(
            APIRouter(prefix="/partner/v1", tags=["partner"], route_class=partners_api.SignedRoute),
            require_partner=partners_api.require_partner,
            idempotent=partners_api.idempotent,
        )
    )
    app.include_router(
        training_api.mount(
            APIRouter(prefix="/partner/v1", tags=["partner"], route_class=partners_api.SignedRoute),
            require_partner=partners_api.require_partner,
            idempotent=partners_api.idempotent,
            require_partner_on_loop=partners_api.require_partner_on_loop,
            loop_call=partners_api.loop_call,
        )
    )
    app.include_router(payouts_api.router)
    app.include_router(partners_api.router)
    app.include_router(ledger_api.router)
    app.include_router(waves_api.router)
    app.include_router(selection_api.router)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).parent / "web" / "static")), name="static")
    app.include_router(auth_pages.router)
    app.include_router(notifications_pages.router)
    if dev_mailbox_enabled():
        app.include_router(notifications_pages.dev_router)
    app.include_router(registration_pages.router)
    app.include_router(ledger_pages.router)
    app.include_router(waves_pages.router)
    app.include_router(selection_pages.router)
    app.include_router(partners_pages.router)
    app.include_router(certificates_pages.router)
    app.include_router(catalog_pages.router)
    app.include_router(training_pages.router)
    app.include_router(payouts_pages.router)
    app.include_router(audit_pages.router)
    app.include_router(portals_pages.router)
    app.include_router(portals.router)

    @app.get("/pmo", include_in_schema=False)
    def pmo_home(request: Request, account: CurrentAccount = Depends(require_role(*PMO_ROLES))) -> Response:
        return render(request, "pmo.html", {"links": links(account.role)})

    routing.install(app)  # the first route to match a method and path, remembered (ADR 0034)
    fastpath.install(app)  # the hot signed calls served outside FastAPI's layers (ADR 0042)
    return app
