"""Partner credentials (auth): keys shown once and stored only encrypted, rotation, revocation, suspension;
the program-office pages and the command line; every change audited."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from prakerja.audit.models import AuditEntry
from prakerja.audit.service import Actor
from prakerja.auth.models import Role
from prakerja.kit.errors import DomainError
from prakerja.partners import service as credentials
from prakerja.partners.models import PartnerKey, PartnerOrganisation, PartnerStatus
from tests.partners.conftest import create_partner
from tests.web.test_shell import create_account, csrf, login


def actions(session: Session) -> list[str]:
    session.rollback()
    return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


class TestService:
    def test_key_is_32_random_bytes_stored_only_encrypted(self, session: Session) -> None:
        partner = create_partner(session)
        assert len(partner.secret) == 43  # URL-safe base64 of 32 bytes, no padding
        raw = session.execute(text("SELECT secret FROM auth_partner_keys")).scalar_one()
        assert partner.secret.encode() not in bytes(raw)
        assert session.scalars(select(PartnerKey)).one().secret == partner.secret  # decrypts: HMACs can be checked
        other = create_partner(session, name="Kementerian Sosial")
        assert other.secret != partner.secret and other.client_code != partner.client_code

    def test_signing_credential_lists_every_key_with_its_state(self, session: Session) -> None:
        partner = create_partner(session)
        rotated = credentials.issue_key(
            session, partner_id=partner.partner_id, actor=Actor.system(), client_code=partner.client_code
        )
        credentials.revoke_key(session, key_id=partner.key_id, actor=Actor.system(), reason="rotation done")
        found = credentials.signing_credential(session, partner.client_code)
        assert found is not None and found.usable and found.role == credentials.PartnerRole.ministry
        assert {(k.id, k.secret, k.revoked) for k in found.keys} == {
            (partner.key_id, partner.secret.encode(), True),
            (rotated.key_id, rotated.secret.encode(), False),
        }
        assert credentials.signing_credential(session, "min_unknown") is None

    def test_every_change_is_audited(self, session: Session) -> None:
        partner = create_partner(session)
        credentials.issue_key(
            session, partner_id=partner.partner_id, actor=Actor.system(), client_code=partner.client_code
        )
        credentials.revoke_key(session, key_id=partner.key_id, actor=Actor.system())
        credentials.set_status(session, partner_id=partner.partner_id, status="suspended", actor=Actor.system())
        credentials.set_status(session, partner_id=partner.partner_id, status="active", actor=Actor.system())
        credentials.revoke_credential(session, client_code=partner.client_code, actor=Actor.system())
        session.commit()
        assert actions(session) == [
            "auth.partner_created",
            "auth.partner_credential_issued",
            "auth.partner_key_rotated",
            "auth.partner_key_revoked",
            "auth.partner_suspended",
            "auth.partner_reactivated",
            "auth.partner_credential_revoked",
        ]
        raw = session.execute(text("SELECT data::text FROM audit_entries")).scalars().all()
        assert all(partner.secret not in row for row in raw)

    @pytest.mark.parametrize(
        ("name", "role", "code"),
        [
            ("", "ministry", "partner_invalid"),
            ("BKN", "bank", "partner_invalid"),
            ("<b>X</b>", "ministry", "partner_invalid"),
        ],
    )
    def test_bad_partner_refused(self, session: Session, name: str, role: str, code: str) -> None:
        with pytest.raises(DomainError) as raised:
            credentials.create_partner(session, name=name, role=role, actor=Actor.system())
        assert raised.value.code == code and raised.value.status_code == 422

    def test_refusals(self, session: Session) -> None:
        partner = create_partner(session)
        with pytest.raises(DomainError) as taken:
            credentials.create_partner(session, name="Badan  Kepegawaian Negara", role="ministry", actor=Actor.system())
        assert taken.value.code == "partner_name_taken"
        session.rollback()
        other = create_partner(session, name="Kementerian Sosial")
        with pytest.raises(DomainError) as foreign:
            credentials.issue_key(
                session, partner_id=other.partner_id, actor=Actor.system(), client_code=partner.client_code
            )
        assert foreign.value.code == "credential_not_found"
        credentials.revoke_key(session, key_id=partner.key_id, actor=Actor.system())
        with pytest.raises(DomainError) as twice:
            credentials.revoke_key(session, key_id=partner.key_id, actor=Actor.system())
        assert twice.value.code == "credential_already_revoked" and twice.value.status_code == 409


class TestPages:
    def test_officer_creates_issues_rotates_revokes_and_suspends(self, client: TestClient, session: Session) -> None:
        create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin")
        login(client, "admin@example.org")
        token = csrf(client, "/pmo/mitra")
        created = client.post(
            "/pmo/mitra",
            data={"name": "Badan Kepegawaian Negara", "role": "ministry", "csrf_token": token},
            follow_redirects=False,
        )
        assert created.status_code == 303
        partner = session.scalars(select(PartnerOrganisation)).one()
        issued = client.post(f"/pmo/mitra/{partner.id}/kunci", data={"label": "produksi", "csrf_token": token})
        assert issued.status_code == 200 and issued.headers["Cache-Control"] == "no-store"
        secret = re.search(r'data-testid="secret">([^<]+)<', issued.text)
        client_code = re.search(r'data-testid="client-code">([^<]+)<', issued.text)
        assert secret and client_code
        session.rollback()
        assert session.scalars(select(PartnerKey)).one().secret == secret.group(1)
        listing = client.get("/pmo/mitra").text
        assert client_code.group(1) in listing and secret.group(1) not in listing  # shown once
        # the role and the status in words, never their codes
        assert "Peran: Kementerian atau lembaga pemerintah" in listing and "<strong>Ditetapkan</strong>" in listing
        assert "Kode klien" in listing and "client_code</th>" not in listing and ">ministry<" not in listing
        rotated = client.post(
            f"/pmo/mitra/{partner.id}/kunci", data={"client_code": client_code.group(1), "csrf_token": token}
        )
        assert rotated.status_code == 200
        session.rollback()
        first_key = session.scalars(select(PartnerKey).order_by(PartnerKey.created_at)).first()
        assert first_key is not None
        revoked = client.post(
            f"/pmo/mitra/kunci/{first_key.id}/cabut",
            data={"reason": "rotasi", "csrf_token": token},
            follow_redirects=False,
        )
        assert revoked.status_code == 303
        suspended = client.post(
            f"/pmo/mitra/{partner.id}/status",
            data={"status": "suspended", "csrf_token": token},
            follow_redirects=False,
        )
        assert suspended.status_code == 303
        session.rollback()
        assert session.get(PartnerOrganisation, partner.id).status == PartnerStatus.suspended  # type: ignore[union-attr]
        entries = session.execute(
            select(AuditEntry.action, AuditEntry.actor_role).where(AuditEntry.action.like("auth.partner%"))
        ).all()
        assert {role for _, role in entries} == {"pmo_admin"}
        assert [a for a, _ in entries] == [
            "auth.partner_created",
            "auth.partner_credential_issued",
            "auth.partner_key_rotated",
            "auth.partner_key_revoked",
            "auth.partner_suspended",
        ]

    def test_bad_input_shown_next_to_the_field_nothing_written(self, client: TestClient, session: Session) -> None:
        create_account(session, email="admin@example.org", role=Role.pmo_admin, name="Admin")
        login(client, "admin@example.org")
        response = client.post(
            "/pmo/mitra", data={"name": "", "role": "ministry", "csrf_token": csrf(client, "/pmo/mitra")}
        )
        assert response.status_code == 422 and 'id="name-error"' in response.text
        assert session.scalar(select(func.count()).select_from(PartnerOrganisation)) == 0

    def test_only_admins(self, client: TestClient, session: Session) -> None:
        create_account(session, email="officer@example.org", role=Role.pmo_officer, name="Petugas")
        login(client, "officer@example.org")
        assert client.get("/pmo/mitra").status_code == 403


class TestCli:
    def test_create_issue_list_revoke(self, session: Session) -> None:
        from prakerja.cli import app

        runner = CliRunner()
        created = runner.invoke(app, ["partner", "create", "Kementerian Sosial", "--role", "ministry"])
        assert created.exit_code == 0, created.output
        issued = runner.invoke(app, ["partner", "key-issue", "Kementerian Sosial", "--label", "produksi"])
        assert issued.exit_code == 0, issued.output
        secret = re.search(r"^key\s+(\S+)$", issued.output, re.M)
        key_id = re.search(r"^key_id\s+(\S+)$", issued.output, re.M)
        assert secret and key_id
        listed = runner.invoke(app, ["partner", "list"])
        assert listed.exit_code == 0 and "Kementerian Sosial" in listed.output
        assert secret.group(1) not in listed.output
        revoked = runner.invoke(app, ["partner", "key-revoke", key_id.group(1), "--reason", "bocor"])
        assert revoked.exit_code == 0, revoked.output
        again = runner.invoke(app, ["partner", "key-revoke", key_id.group(1)])
        assert again.exit_code == 2 and "credential_already_revoked" in again.output
        bad_role = runner.invoke(app, ["partner", "create", "Bank X", "--role", "bank"])
        assert bad_role.exit_code == 2 and "partner_invalid" in bad_role.output
        assert actions(session) == [
            "auth.partner_created",
            "auth.partner_credential_issued",
            "auth.partner_key_revoked",
        ]

    def test_list_scope_on_issue_and_later(self, session: Session) -> None:
        from prakerja.cli import app

        runner = CliRunner()
        assert (
            runner.invoke(app, ["partner", "create", "Badan Kepegawaian Negara", "--role", "ministry"]).exit_code == 0
        )
        issued = runner.invoke(
            app,
            ["partner", "key-issue", "Badan Kepegawaian Negara", "--list-type", "asn", "--list-source", "BKN"],
        )
        assert issued.exit_code == 0, issued.output
        code = re.search(r"^client_code\s+(\S+)$", issued.output, re.M)
        assert code
        found = credentials.signing_credential(session, code.group(1))
        assert found is not None and (found.list_types, found.list_source) == (("asn",), "BKN")
        changed = runner.invoke(
            app,
            [
                "partner",
                "list-scope",
                code.group(1),
                "--list-type",
                "asn",
                "--list-type",
                "tni",
                "--list-source",
                "BKN",
            ],
        )
        assert changed.exit_code == 0, changed.output
        session.rollback()
        found = credentials.signing_credential(session, code.group(1))
        assert found is not None and found.list_types == ("asn", "tni")
        unknown = runner.invoke(app, ["partner", "list-scope", code.group(1), "--list-type", "pns_palsu"])
        assert unknown.exit_code == 2 and "partner_invalid" in unknown.output
        no_source = runner.invoke(app, ["partner", "list-scope", code.group(1), "--list-type", "asn"])
        assert no_source.exit_code == 2 and "partner_invalid" in no_source.output
        assert actions(session)[-1] == "auth.partner_list_scope_set"
