"""The roles without a console of their own yet (payment partner, auditor, researcher) sign in in chromium and land
on a page that says what they can do there, whose every link opens for them: in Indonesian, and once in English.
(Applicants, officers, institutions and platforms have their own journeys in this folder.)"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from prakerja.auth.models import Role
from tests.web.test_shell import PASSWORD, create_account

pytestmark = pytest.mark.browser

LANDING = {Role.payment_partner: "/portal/mitra", Role.auditor: "/portal/auditor", Role.researcher: "/portal/peneliti"}
WORDS = {"id": ("Masuk", "Kata sandi"), "en": ("Sign in", "Password")}
HREFS = "(links) => links.map((a) => a.getAttribute('href'))"


@pytest.fixture
def laptop(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="id-ID", viewport={"width": 1366, "height": 768})
    yield context.new_page()
    context.close()


@pytest.mark.parametrize(
    ("role", "lang"),
    [(Role.payment_partner, "id"), (Role.auditor, "id"), (Role.researcher, "id"), (Role.auditor, "en")],
)
def test_role_lands_on_a_page_with_something_real_to_do(  # type: ignore[no-untyped-def]
    laptop, live_server: str, session: Session, role: Role, lang: str
) -> None:
    page = laptop
    email = f"{role.value}@example.org"
    create_account(session, email=email, role=role, name=f"Demo {role.value}")
    if lang == "en":
        page.goto(live_server + "/bahasa/en?next=/masuk")
    page.goto(live_server + "/masuk")
    sign_in, password = WORDS[lang]
    page.get_by_label("E-mail").fill(email)
    page.get_by_label(password).fill(PASSWORD)
    page.get_by_role("button", name=sign_in).click()
    page.wait_for_url("**" + LANDING[role])
    assert page.locator("html").get_attribute("lang") == lang
    heading = page.locator("main h1").inner_text()
    assert heading.strip(), "the landing page has a title"
    links = [
        href
        for href in page.locator("main a[href^='/']").evaluate_all(
            "(links) => links.map((a) => a.getAttribute('href'))"
        )
        if not href.startswith("/bahasa/")
    ]
    assert links, f"{role.value} lands on a page with nothing to do"
    for href in links:  # every link there opens for this role, in the browser
        response = page.goto(live_server + href)
        assert response is not None and response.status == 200, (role.value, href)
