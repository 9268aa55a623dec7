"""The page shell in a real browser (Debian's chromium via Playwright), in both languages."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def test_home_in_indonesian_then_english(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/")
    assert page.get_attribute("html", "lang") == "id"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Pelatihan keterampilan")
    page.get_by_test_id("lang-switch").click()
    page.wait_for_load_state()
    assert page.get_attribute("html", "lang") == "en"
    assert page.get_by_role("heading", level=1).inner_text().startswith("Skills training")
    page.get_by_test_id("lang-switch").click()
    assert page.get_attribute("html", "lang") == "id"


def test_sign_in_form_errors_next_to_field(page, live_server: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(live_server + "/masuk")
    page.get_by_label("E-mail").fill("tidak.ada@example.org")
    page.get_by_label("Kata sandi").fill("salah-salah-salah")
    page.get_by_role("button", name="Masuk").click()
    assert page.get_by_role("alert").inner_text() == "E-mail atau kata sandi salah."
