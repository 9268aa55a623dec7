"""Schemathesis over ``/api/v1`` and ``/partner/v1`` (in-process, ASGI), as a signed-in officer (session cookie and
CSRF header) and anonymously: no 5xx, and every status the API answers with is documented for the operation.

A bounded, derandomised run (a few valid and invalid examples per operation) so it stays well under a minute; run
``schemathesis`` from the command line against a live server for a longer one."""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import status_code_conformance
from sqlalchemy.orm import Session

from prakerja.auth.models import Role
from tests.web.test_shell import create_account, login

pytestmark = pytest.mark.slow

EXAMPLES = 5
PREFIXES = ("/api/v1/", "/partner/v1/")


def _operations(app: Any) -> list[Any]:
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    found = []
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path.startswith(PREFIXES):
            found.append(operation)
    assert found, "no operation under /api/v1 or /partner/v1"
    return found


def _run(operations: list[Any], headers: dict[str, str]) -> list[str]:
    """Every operation with a few positive and negative cases; returns the failures (operation: problem)."""
    failures: list[str] = []
    for operation in operations:
        strategy = st.one_of(
            operation.as_strategy(generation_mode=schemathesis.GenerationMode.POSITIVE),
            operation.as_strategy(generation_mode=schemathesis.GenerationMode.NEGATIVE),
        )

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
            phases=[p for p in settings.default.phases if p.name != "shrink"],
        )
        @given(case=strategy)
        def check(case: Any) -> None:
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error, status_code_conformance])

        try:
            check()
        except (Exception, BaseExceptionGroup) as error:  # schemathesis raises a group of failures
            summary = " | ".join(line.strip() for line in str(error).splitlines()[:12] if line.strip())
            failures.append(f"{operation.method.upper()} {operation.path}: {summary}")
    return failures


def test_anonymous_and_officer_get_no_5xx_and_only_documented_statuses(
    app: Any, client: TestClient, session: Session
) -> None:
    operations = _operations(app)
    create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin")
    login(client, "admin@example.org")
    cookies = {name: client.cookies.get(name) for name in ("prakerja_session", "prakerja_csrf")}
    assert all(cookies.values())
    officer = {
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        "X-CSRF-Token": cookies["prakerja_csrf"] or "",
    }
    failures = _run(operations, {}) + _run(operations, officer)
    assert not failures, "\n".join(sorted(set(failures)))
