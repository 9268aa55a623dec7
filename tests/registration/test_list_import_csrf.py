"""``POST /api/v1/exclusion-lists/imports`` is a multipart form a cross-site page could submit with the officer's
cookie: it needs the CSRF token (``X-CSRF-Token`` header or ``csrf_token`` field) like every cookie-authenticated
write."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.auth.models import Role
from prakerja.registration.models import ListEntry, ListImport
from tests.web.test_shell import create_account, login

URL = "/api/v1/exclusion-lists/imports"
DATA = {"list_type": "polri", "source": "Polri", "as_of": "2026-02-01", "mode": "replace"}
CSV = b"nik\n3201011505900001\n3201011505900002\n"


def nothing_written(session: Session) -> bool:
    session.rollback()
    return not session.scalar(select(func.count()).select_from(ListImport)) and not session.scalar(
        select(func.count()).select_from(ListEntry)
    )


def test_cookie_import_without_the_csrf_token_is_refused(client: TestClient, session: Session) -> None:
    create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin")
    login(client, "admin@example.org")
    files = {"file": ("p.csv", CSV, "text/csv")}
    for extra_headers, extra_data in (({}, {}), ({"x-csrf-token": "forged"}, {}), ({}, {"csrf_token": "forged"})):
        response = client.post(URL, data=DATA | extra_data, files=files, headers=extra_headers)
        assert response.status_code == 403 and response.json()["code"] == "csrf_failed", response.text
    assert nothing_written(session)
    token = client.cookies.get("prakerja_csrf") or ""
    by_header = client.post(URL, data=DATA, files=files, headers={"x-csrf-token": token})
    assert by_header.status_code == 200, by_header.text
    by_field = client.post(URL, data=DATA | {"csrf_token": token}, files=files)
    assert by_field.status_code == 200, by_field.text
