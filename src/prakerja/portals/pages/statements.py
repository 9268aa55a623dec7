"""A partner's settlement statement for one month (``/portal/lembaga/penyelesaian/2026-03``, the same under
``/portal/platform``): a page, and the CSV with ``?format=csv``. The statement the program office reads, for the
signed-in account's own organisation only, with the payment that settles it (the statement is its remittance
advice)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from prakerja.partners.service import Membership
from prakerja.portals import service
from prakerja.training import service as training
from prakerja.web.templating import render


def statement_response(
    request: Request, session: Session, organisation: Membership, month: str, *, back: str, csv: bool
) -> Response:
    found = service.statement(session, organisation, month)
    if csv:
        return Response(
            training.settlement.to_csv(found),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="penyelesaian-{found.start.strftime("%Y-%m")}.csv"'},
        )
    payment = service.statement_payment(session, organisation, found.start.strftime("%Y-%m"))
    return render(request, "portals/statement.html", {"statement": found, "back": back, "payment": payment})
