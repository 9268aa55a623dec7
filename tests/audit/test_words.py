"""The audit page says every action, actor role and object type in words (Bahasa Indonesia and English): every
action the code can record has words of its own (found in the source, so a new action without words fails here),
and the page shows words, with the code only in a cell's title."""

from __future__ import annotations

import ast
import importlib
import re
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from prakerja import jobs
from prakerja.audit import service as audit
from prakerja.audit.rules import words
from prakerja.auth.models import Role
from prakerja.ledger.models import TransferCode
from prakerja.partners.models import PartnerRole
from prakerja.waves.models import WaveState
from tests.registration.factories import create_applicant
from tests.web.test_officer_pages import _sign_in

SRC = Path(__file__).resolve().parents[2] / "src" / "prakerja"
DOMAINS = "auth|partners|registration|waves|selection|ledger|catalog|training|certificate|payouts"
ACTION = re.compile(rf"^({DOMAINS})\.[a-z_]*[a-z]$")  # not an f-string's head, ``ledger.wallet_{code}``


def _task_names() -> set[str]:
    """The job queue's task names: codes of the same shape that are not audit actions."""
    for module in jobs.app.import_paths:
        importlib.import_module(module)
    return set(jobs.app.tasks)


def _action_literals() -> set[str]:
    """Every string in the source shaped like an audit action (``domain.what_happened``), task names apart."""
    found = set()
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and ACTION.match(node.value):
                found.add(node.value)
    return found - _task_names()


def _built_actions() -> set[str]:
    """The actions the code builds from a value (f-strings), from the values they are built from."""
    return {
        *(f"partners.{kind}_removed" for kind in ("contact", "document", "trainer")),  # profiles.remove_item
        *(f"partners.webhook_endpoint_{state}" for state in ("enabled", "disabled")),  # webhooks.set_status
        *(f"waves.{state.value}" for state in (WaveState.committed, WaveState.drawn, WaveState.announced)),
        *(f"ledger.wallet_{c.value}" for c in (TransferCode.forfeit_expiry, TransferCode.forfeit_revocation)),
        *(f"ledger.{c.value}" for c in (TransferCode.institution_clawback, TransferCode.platform_clawback)),
    }


def test_every_action_the_code_records_has_words() -> None:
    literals = _action_literals()
    assert "training.purchase_confirmed" in literals and "ledger.purchase_captured" in literals  # the scan works
    assert "training.expire_otps" not in literals  # a task's name is not an action
    missing = sorted((literals | _built_actions()) - set(words.ACTIONS))
    assert missing == []


def test_every_role_and_words_in_both_languages() -> None:
    roles = {r.value for r in Role} | {f"partner:{r.value}" for r in PartnerRole}
    roles |= {"system", "operator", "operator_cli", "demo"}
    assert sorted(roles - set(words.ROLES)) == []
    for table in (words.ACTIONS, words.ROLES, words.OBJECTS):
        for code, (indonesian, english) in table.items():
            assert indonesian.strip() and english.strip() and "_" not in indonesian + english, code


def test_an_unknown_code_is_still_words_with_its_code() -> None:
    assert words.action_words("registration.something_new", "id") == "something new (registration.something_new)"
    assert words.action_words("training.purchase_confirmed", "id") == "Pembelian dikonfirmasi"
    assert words.action_words("training.purchase_confirmed", "en") == "Purchase confirmed"
    assert words.role_words("partner:platform", "id") == "API mitra: platform digital"


def test_the_page_says_them_in_words(client: TestClient, session: Session) -> None:
    person = create_applicant(session)
    audit.record(
        session,
        audit.Actor(id=uuid.uuid4(), role="pmo_officer"),
        "registration.applicant_viewed",
        "applicant",
        person.applicant_id,
        reason="pemeriksaan",
    )
    session.commit()
    _sign_in(client, session, Role.auditor)
    html = client.get("/audit").text
    assert ">Data pendaftar dilihat</td>" in html and ">petugas PMO</span>" in html and ">pendaftar</span>" in html
    assert ">registration.applicant_viewed<" not in html and ">pmo_officer<" not in html  # codes only in titles
    english = client.get("/audit?lang=en").text
    assert ">Applicant record viewed</td>" in english and ">PMO officer</span>" in english
