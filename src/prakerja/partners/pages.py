"""Program-office pages for partner organisations: create, issue and rotate keys (shown once), revoke, suspend;
add webhook endpoints, rotate their secrets (shown once), disable and enable them.
Program-office administrators only; every action is audited with the officer as actor. And, for every officer, the
log of refused partner calls (``/pmo/penolakan-mitra``) to review and mark reviewed (audited)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from prakerja.auth.models import PMO_ROLES, Role
from prakerja.auth.service import CurrentAccount
from prakerja.kit.errors import DomainError, words_for_code
from prakerja.partners import service as partners
from prakerja.web.deps import Csrf, DbSession, require_role
from prakerja.web.forms import form_error, pick
from prakerja.web.pmo import PmoLink, add_link
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)
Admin = Depends(require_role(Role.pmo_admin))
Text = Annotated[str, Form(max_length=500)]
PAGE = "/pmo/mitra"
TEMPLATE = "partners/partners.html"


def _context(session: Any) -> dict[str, Any]:
    webhooks: dict[uuid.UUID, list[partners.WebhookEndpointView]] = {}
    for endpoint in partners.webhook_endpoints(session):
        webhooks.setdefault(endpoint.partner_id, []).append(endpoint)
    return {
        "partners": partners.overview(session),
        "roles": list(partners.PartnerRole),
        "webhooks": webhooks,
        "errors": {},
        "values": {},
    }


@router.get(PAGE)
def partner_list(request: Request, session: DbSession, account: CurrentAccount = Admin) -> Response:
    return render(request, TEMPLATE, _context(session))


@router.post(PAGE, dependencies=[Csrf])
def partner_create(
    request: Request, session: DbSession, name: Text = "", role: Text = "", account: CurrentAccount = Admin
) -> Response:
    try:
        partners.create_partner(session, name=name, role=role, actor=account.actor)
    except DomainError as error:
        return form_error(
            request, session, TEMPLATE, error, lambda s: {**_context(s), "values": {"name": name, "role": role}}
        )
    return RedirectResponse(PAGE, status_code=303)


@router.post(PAGE + "/{partner_id}/kunci", dependencies=[Csrf])
def key_issue(
    request: Request,
    session: DbSession,
    partner_id: uuid.UUID,
    client_code: Text = "",
    label: Text = "",
    list_types: Text = "",
    list_source: Text = "",
    account: CurrentAccount = Admin,
) -> Response:
    """Shows the new key once; the page is not cached. A ministry's new credential names the lists it may import
    (comma-separated) and the source they are recorded under."""
    try:
        issued = partners.issue_key(
            session,
            partner_id=partner_id,
            actor=account.actor,
            client_code=client_code or None,
            label=label,
            list_types=list_types.split(","),
            list_source=list_source,
        )
    except DomainError as error:
        return form_error(request, session, TEMPLATE, error, _context)
    response = render(request, "partners/partner_key.html", {"issued": issued})
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post(PAGE + "/kunci/{key_id}/cabut", dependencies=[Csrf])
def key_revoke(
    request: Request, session: DbSession, key_id: uuid.UUID, reason: Text = "", account: CurrentAccount = Admin
) -> Response:
    try:
        partners.revoke_key(session, key_id=key_id, actor=account.actor, reason=reason)
    except DomainError as error:
        return form_error(request, session, TEMPLATE, error, _context)
    return RedirectResponse(PAGE, status_code=303)


@router.post(PAGE + "/kredensial/{client_code}/cabut", dependencies=[Csrf])
def credential_revoke(
    request: Request, session: DbSession, client_code: str, reason: Text = "", account: CurrentAccount = Admin
) -> Response:
    try:
        partners.revoke_credential(session, client_code=client_code, actor=account.actor, reason=reason)
    except DomainError as error:
        return form_error(request, session, TEMPLATE, error, _context)
    return RedirectResponse(PAGE, status_code=303)


@router.post(PAGE + "/{partner_id}/status", dependencies=[Csrf])
def partner_status(
    request: Request,
    session: DbSession,
    partner_id: uuid.UUID,
    status: Text = "",
    reason: Text = "",
    account: CurrentAccount = Admin,
) -> Response:
    try:
        partners.set_status(session, partner_id=partner_id, status=status, actor=account.actor, reason=reason)
    except DomainError as error:
        return form_error(request, session, TEMPLATE, error, _context)
    return RedirectResponse(PAGE, status_code=303)


def _show_webhook_secret(request: Request, issued: partners.IssuedWebhookSecret) -> Response:
    response = render(request, "partners/webhook_secret.html", {"issued": issued})
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post(PAGE + "/{partner_id}/webhook", dependencies=[Csrf])
def webhook_add(
    request: Request, session: DbSession, partner_id: uuid.UUID, url: Text = "", account: CurrentAccount = Admin
) -> Response:
    """A new webhook endpoint; its secret is shown once and the page is not cached."""
    try:
        issued = partners.add_webhook_endpoint(session, partner_id=partner_id, url=url, actor=account.actor)
    except DomainError as error:
        return form_error(request, session, TEMPLATE, error, _context)
    return _show_webhook_secret(request, issued)


@router.post(PAGE + "/webhook/{endpoint_id}/rotasi", dependencies=[Csrf])
def webhook_rotate(
    request: Request, session: DbSession, endpoint_id: uuid.UUID, account: CurrentAccount = Admin
) -> Response:
    try:
        issued = partners.rotate_webhook_secret(session, endpoint_id=endpoint_id, actor=account.actor)
    except DomainError as error:
        return form_error(request, session, TEMPLATE, error, _context)
    return _show_webhook_secret(request, issued)


@router.post(PAGE + "/webhook/{endpoint_id}/status", dependencies=[Csrf])
def webhook_status(
    request: Request,
    session: DbSession,
    endpoint_id: uuid.UUID,
    status: Text = "",
    reason: Text = "",
    account: CurrentAccount = Admin,
) -> Response:
    try:
        partners.set_webhook_endpoint_status(
            session, endpoint_id=endpoint_id, status=status, actor=account.actor, reason=reason
        )
    except DomainError as error:
        return form_error(request, session, TEMPLATE, error, _context)
    return RedirectResponse(PAGE, status_code=303)


add_link(PmoLink(PAGE, "Mitra & kredensial API", "Partners & API credentials", roles=frozenset({Role.pmo_admin})))


# -- refused partner calls (partner abuse kept for review) -----------------------------------------------------------

REFUSALS = "/pmo/penolakan-mitra"
Staff = Depends(require_role(*PMO_ROLES))


@router.get(REFUSALS)
def refusal_log(
    request: Request,
    session: DbSession,
    semua: Annotated[str, Query(max_length=1)] = "",
    account: CurrentAccount = Staff,
) -> Response:
    """Every refused call to the signed partner API, newest first: unreviewed ones unless ``?semua=1``."""
    found = partners.refusal_log(session, unreviewed_only=semua != "1")
    said = {row.code: words_for_code(row.code) for row in found.rows}
    words = {code: pick(*pair) for code, pair in said.items() if pair is not None}
    return render(request, "partners/refusals.html", {"log": found, "all": semua == "1", "words": words})


@router.post(REFUSALS + "/tinjau", dependencies=[Csrf])
def refusals_reviewed(
    session: DbSession,
    up_to: Annotated[uuid.UUID, Form()],
    down_to: Annotated[uuid.UUID, Form()],
    note: Text = "",
    account: CurrentAccount = Staff,
) -> Response:
    """The officer has looked at the refusals on their page (``down_to`` the oldest, ``up_to`` the newest):
    audited."""
    partners.mark_refusals_reviewed(session, down_to=down_to, up_to=up_to, note=note, actor=account.actor)
    return RedirectResponse(REFUSALS, status_code=303)


add_link(PmoLink(REFUSALS, "Panggilan mitra yang ditolak", "Refused partner calls"))
