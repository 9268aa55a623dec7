"""Holes of the signed partner API: list scopes per credential, the rate limit, byte-exact idempotent replays and
the contract's key alphabet, and the OpenAPI document's error responses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from prakerja.config import get_settings
from prakerja.kit.clock import clock
from prakerja.registration.models import ListEntry, ListImport
from tests.partners.conftest import Partner, SignedClient, create_partner
from tests.partners.test_exclusion_import_api import FORM, NIKS, PATH, assert_error, csv_file, post


def imports(session: Session) -> list[tuple[str, str]]:
    session.rollback()
    return [(i.list_type, i.source) for i in session.scalars(select(ListImport))]


class TestListScopes:
    def test_a_credential_imports_only_its_list_types(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        for number, list_type in enumerate(("polri", "laid_off", "migrant_returnee")):
            response = post(signed_client, ministry, key=f"other-{number}", data={**FORM, "list_type": list_type})
            assert_error(response, 403, "list_type_not_allowed")
            assert response.json()["details"]["allowed"] == ["asn"]
        assert imports(session) == []
        assert post(signed_client, ministry, key="own").status_code == 200
        assert imports(session) == [("asn", "BKN")]

    def test_the_source_is_the_credentials(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        bkn = post(signed_client, ministry, key="first")
        assert bkn.status_code == 200 and bkn.json()["source"] == "BKN"
        other = create_partner(session, name="Kementerian Lain", list_types=("asn",), source="Kemenlain")
        # another ministry may not replace BKN's list by naming BKN as its source
        forged = post(signed_client, other, key="forged", data={**FORM, "source": "BKN", "mode": "replace"})
        assert_error(forged, 403, "list_source_not_allowed")
        session.rollback()
        assert session.scalar(select(func.count()).select_from(ListEntry)) == len(NIKS)
        # without a source field the credential's own is used; its replace touches only its own entries
        own = post(
            signed_client,
            other,
            key="own",
            data={k: v for k, v in {**FORM, "mode": "replace"}.items() if k != "source"},
            files=csv_file(NIKS[:1]),
        )
        assert own.status_code == 200, own.text
        assert own.json()["source"] == "Kemenlain" and own.json()["rows_removed"] == 0
        session.rollback()
        assert session.scalar(select(func.count()).select_from(ListEntry)) == len(NIKS) + 1

    def test_a_credential_without_a_scope_imports_nothing(self, signed_client: SignedClient, session: Session) -> None:
        bare = create_partner(session, name="Kementerian Tanpa Daftar", list_types=(), source="")
        assert_error(post(signed_client, bare, key="k"), 403, "list_type_not_allowed")
        assert imports(session) == []


class TestRateLimit:
    def test_per_credential_with_retry_after(
        self, signed_client: SignedClient, ministry: Partner, session: Session, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "partner_rate_limit_per_minute", 3)
        for _ in range(3):
            ok, _ = signed_client.request("GET", f"/partner/v1/ping?n={_}", ministry)
            assert ok.status_code == 200
        refused, _ = signed_client.request("GET", "/partner/v1/ping?n=x", ministry)
        assert_error(refused, 429, "rate_limited")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert refused.json()["details"]["retry_after"] == int(refused.headers["retry-after"])
        other = create_partner(session, name="Kementerian Sosial", source="Kemensos")
        assert signed_client.request("GET", "/partner/v1/ping", other)[0].status_code == 200
        clock.advance(timedelta(seconds=61))
        assert signed_client.request("GET", "/partner/v1/ping?n=y", ministry)[0].status_code == 200


class TestIdempotencyContract:
    def test_replay_is_the_first_response_byte_for_byte(
        self, signed_client: SignedClient, ministry: Partner, session: Session
    ) -> None:
        first, sent = signed_client.request(
            "POST", PATH, ministry, idempotency_key="bytes", data=FORM, files=csv_file()
        )
        assert first.status_code == 200
        clock.advance(timedelta(seconds=2))
        again, _ = signed_client.request(
            "POST",
            PATH,
            ministry,
            idempotency_key="bytes",
            content=sent.content,
            headers={"content-type": sent.headers["content-type"]},
        )
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.status_code == first.status_code and again.content == first.content
        assert again.headers["content-type"] == first.headers["content-type"]

    @pytest.mark.parametrize("key", ["a b", "caf\u00e9", "x" * 256, ""])
    def test_keys_outside_visible_ascii_are_refused(
        self, signed_client: SignedClient, ministry: Partner, key: str, session: Session
    ) -> None:
        response = post(signed_client, ministry, key=key.encode("utf-8").decode("latin-1"))
        assert_error(response, 400, "idempotency_key_required")
        assert imports(session) == []

    def test_openapi_documents_413_429_and_the_required_key(self, signed_client: SignedClient) -> None:
        spec = signed_client.http.get("/openapi.json").json()
        operation = spec["paths"][PATH]["post"]
        assert "body_too_large" in operation["responses"]["413"]["x-error-codes"]
        assert "rate_limited" in operation["responses"]["429"]["x-error-codes"]
        assert "list_type_not_allowed" in operation["responses"]["403"]["x-error-codes"]
        key = next(p for p in operation["parameters"] if p["name"] == "Idempotency-Key")
        assert key["required"] is True
        assert key["schema"].get("pattern") == "^[\\x21-\\x7e]{1,255}$" or "0x21-0x7E" in key["description"]
