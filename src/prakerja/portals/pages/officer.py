"""The program office's page of one partner organisation (``/pmo/mitra/{id}``): its profile (legal entity, NIB,
address, provinces reached, owner type), contacts, documents, trainers, people (accounts linked to it), its
designation with the status actions (designate, suspend, delist: always with a reason; delisted is final), its
courses or listings and the conflicts of interest. Program-office staff read it; administrators change it. Every
change is audited by the partner domain."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from prakerja.auth.models import PMO_ROLES, Role
from prakerja.auth.service import CurrentAccount
from prakerja.catalog.service import search as catalog_search
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import parse_id
from prakerja.partners import service as partners
from prakerja.partners.errors import PartnerNotFound, ProfileItemNotFound
from prakerja.portals import service
from prakerja.portals.pages.forms import FormData, Provinces
from prakerja.web.deps import Csrf, DbSession, require_role
from prakerja.web.forms import form_error
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)
Staff = Annotated[CurrentAccount, Depends(require_role(*PMO_ROLES))]
Admin = Annotated[CurrentAccount, Depends(require_role(Role.pmo_admin))]
PAGE = "/pmo/mitra/{partner_id}"
TEMPLATE = "portals/partner.html"


def _id(value: str, error: type[DomainError] = PartnerNotFound) -> uuid.UUID:
    parsed = parse_id(value)
    if parsed is None:
        raise error()
    return parsed


def _context(session: Session, partner_id: uuid.UUID, values: dict[str, Any] | None = None) -> dict[str, Any]:
    page = service.officer_partner_page(session, partner_id)
    return {
        "page": page,
        "profile": page.profile,
        "provinces": sorted(catalog_search.all_provinces().items()),
        "owner_types": [o.value for o in partners.OwnerType],
        "document_kinds": partners.DOCUMENT_KINDS,
        "member_roles": [r.value for r in partners.MemberRole],
        "values": values or {},
        "errors": {},
        "error": None,
    }


@router.get(PAGE)
def partner_page(request: Request, session: DbSession, account: Staff, partner_id: str) -> Response:
    return render(request, TEMPLATE, _context(session, _id(partner_id)))


def _act(
    request: Request, session: Session, partner_id: uuid.UUID, form: dict[str, Any], action: Callable[[], object]
) -> Response:
    """Run one change; on a refusal show the page again with the message next to the field and the input kept."""
    try:
        action()
    except DomainError as error:
        return form_error(request, session, TEMPLATE, error, lambda s: _context(s, partner_id, form))
    return RedirectResponse(f"/pmo/mitra/{partner_id}", status_code=303)


@router.post(PAGE + "/profil", dependencies=[Csrf])
def update_profile(
    request: Request, session: DbSession, account: Admin, partner_id: str, form: FormData, provinces: Provinces
) -> Response:
    parsed = _id(partner_id)
    values = {k: form.get(k, "") for k in ("legal_name", "registration_number", "address", "owner_type")}
    return _act(
        request,
        session,
        parsed,
        {**values, "provinces": provinces},
        lambda: partners.update_profile(session, partner_id=parsed, provinces=provinces, actor=account.actor, **values),
    )


# The profile's lists each take one form: (path, the partner service's function, its keyword -> the form field).
_ADDITIONS: tuple[tuple[str, Callable[..., object], dict[str, str]], ...] = (
    (
        "kontak",
        partners.add_contact,
        {"name": "contact_name", "email": "contact_email", "phone": "contact_phone", "position": "contact_position"},
    ),
    ("dokumen", partners.add_document, {"kind": "document_kind", "reference": "document_reference"}),
    ("pelatih", partners.add_trainer, {"name": "trainer_name", "qualification": "trainer_qualification"}),
    ("anggota", partners.add_member, {"email": "member_email", "role": "member_role"}),
)


def _addition(add: Callable[..., object], fields: dict[str, str]) -> Callable[..., Response]:
    def handler(request: Request, session: DbSession, account: Admin, partner_id: str, form: FormData) -> Response:
        parsed = _id(partner_id)
        values = {keyword: form.get(field, "") for keyword, field in fields.items()}
        return _act(
            request,
            session,
            parsed,
            form,
            lambda: add(session, partner_id=parsed, actor=account.actor, **values),
        )

    return handler


for _path, _add, _fields in _ADDITIONS:
    router.post(PAGE + "/" + _path, dependencies=[Csrf], name=f"add_{_path}")(_addition(_add, _fields))


@router.post(PAGE + "/hapus/{kind}/{item_id}", dependencies=[Csrf])
def remove_item(
    request: Request, session: DbSession, account: Admin, partner_id: str, kind: str, item_id: str
) -> Response:
    parsed = _id(partner_id)
    item = _id(item_id, ProfileItemNotFound)
    return _act(
        request,
        session,
        parsed,
        {},
        lambda: partners.remove_item(session, kind=kind, item_id=item, actor=account.actor),
    )


@router.post(PAGE + "/anggota/{member_id}/hapus", dependencies=[Csrf])
def remove_member(request: Request, session: DbSession, account: Admin, partner_id: str, member_id: str) -> Response:
    parsed = _id(partner_id)
    member = _id(member_id, ProfileItemNotFound)
    return _act(
        request, session, parsed, {}, lambda: partners.remove_member(session, member_id=member, actor=account.actor)
    )


@router.post(PAGE + "/penetapan", dependencies=[Csrf])
def change_designation(
    request: Request, session: DbSession, account: Admin, partner_id: str, form: FormData
) -> Response:
    parsed = _id(partner_id)
    return _act(
        request,
        session,
        parsed,
        form,
        lambda: partners.change_designation(
            session,
            partner_id=parsed,
            status=form.get("status", ""),
            reason=form.get("reason", ""),
            actor=account.actor,
        ),
    )
