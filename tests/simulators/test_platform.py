"""The platform simulator (simulators/platform.py) against the fake program side: listing, the HTML checkout
(inquiry -> purchase -> SMS code -> voucher), every refusal of marketplace-api.md section 1 shown in words, the JSON
routes the demo uses, cancellation, and the shop's own account id sent as ``platform_account_id``."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from prakerja.simulators import platform
from prakerja.simulators.partner_client import SimClock
from tests.simulators import fake_program
from tests.simulators.conftest import CARD

SECTION_1_CODES = (
    "card_not_found",
    "card_revoked",
    "card_not_active",
    "insufficient_balance",
    "first_training_unfinished",
    "course_not_listed",
    "platform_account_bound",
    "otp_invalid",
    "otp_expired",
    "otp_attempts_exceeded",
    "purchase_state",
    "listing_price_above_curated",
    "course_not_approved",
)
"""Every refusal code of the contract's section 1 (copied from its text)."""


def list_course(shop_http: TestClient, course_id: str = "crs_webinar", price: int = 950_000) -> dict:
    response = shop_http.post(
        "/_admin/listings", json={"course_id": course_id, "price": price, "title": "Pemasaran Digital"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def checkout(shop_http: TestClient, card: str = CARD, account: str = "siti@contoh.id") -> dict:
    response = shop_http.post(
        "/api/checkout", json={"course_id": "crs_webinar", "card_number": card, "account": account}
    )
    return {**response.json(), "http_status": response.status_code}


def test_every_section_1_refusal_has_words() -> None:
    for code in SECTION_1_CODES:
        assert code in platform.MESSAGES, code
        assert platform.message_for(code) != platform.message_for("something_else")


def test_listing_then_catalogue(shop_http: TestClient, fake: fake_program.Fake) -> None:
    answer = list_course(shop_http)
    assert answer == {
        "course_id": "crs_webinar",
        "status": "listed",
        "url": "https://toko-belajar.example/kursus/crs_webinar",
    }
    assert fake.listings == {("plt_shop", "crs_webinar"): 950_000}
    page = shop_http.get("/")
    assert "Pemasaran Digital" in page.text and "Rp950.000" in page.text and 'lang="id"' in page.text


@pytest.mark.parametrize(
    ("course_id", "price", "status", "code"),
    [
        ("crs_pending", 500_000, 422, "course_not_approved"),
        ("crs_webinar", 1_500_000, 422, "listing_price_above_curated"),
    ],
)
def test_listing_refusals(
    shop_http: TestClient, fake: fake_program.Fake, course_id: str, price: int, status: int, code: str
) -> None:
    response = shop_http.post("/_admin/listings", json={"course_id": course_id, "price": price})
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert response.json()["message"] == platform.MESSAGES[code]
    assert fake.listings == {}
    assert shop_http.post("/_admin/listings", json={"course_id": "x"}).status_code == 400


def test_html_checkout_with_the_sms_code(shop_http: TestClient, fake: fake_program.Fake) -> None:
    list_course(shop_http)
    product = shop_http.get("/kursus/crs_webinar")
    assert "Kartu Prakerja" in product.text and "16 digit" in product.text
    checked = shop_http.post(
        "/kursus/crs_webinar/kartu", data={"akun": "siti@contoh.id", "nomor_kartu": "1234 5678 9012 3456"}
    )
    assert checked.status_code == 200 and "**** **** **** 3456" in checked.text and "S**i R*******i" in checked.text
    order_url = str(checked.url.path)
    paid = shop_http.post(f"{order_url}/bayar")
    assert "Kode OTP" in paid.text
    (purchase,) = fake.purchases.values()
    wrong = shop_http.post(f"{order_url}/otp", data={"otp": "000000" if purchase.otp != "000000" else "111111"})
    assert wrong.status_code == 422 and platform.MESSAGES["otp_invalid"] in wrong.text
    done = shop_http.post(f"{order_url}/otp", data={"otp": purchase.otp})
    assert done.status_code == 200 and purchase.voucher_code and purchase.voucher_code in done.text
    assert "Rp2.550.000" in done.text
    assert CARD not in json.dumps(shop_http.get("/api/orders").json())


@pytest.mark.parametrize(
    ("arrange", "code"),
    [
        (lambda f: None, "card_not_found"),
        (lambda f: setattr(f.cards[CARD], "status", "revoked"), "card_revoked"),
        (lambda f: setattr(f.cards[CARD], "status", "inactive"), "card_not_active"),
        (lambda f: setattr(f.cards[CARD], "balance", 10), "insufficient_balance"),
        (lambda f: setattr(f.cards[CARD], "first_unfinished", True), "first_training_unfinished"),
        (lambda f: f.listings.clear(), "course_not_listed"),
    ],
)
def test_purchase_refusals_shown_in_words(shop_http: TestClient, fake: fake_program.Fake, arrange, code: str) -> None:
    list_course(shop_http)
    arrange(fake)
    card = "9999999999999999" if code == "card_not_found" else CARD
    answer = checkout(shop_http, card)
    assert answer["code"] == code and answer["message"] == platform.MESSAGES[code]
    assert fake.purchases == {} and shop_http.get("/api/orders").json() == {"orders": []}
    page = shop_http.post("/kursus/crs_webinar/kartu", data={"akun": "a@b.id", "nomor_kartu": card})
    if code in {"card_not_found"}:
        assert platform.MESSAGES[code] in page.text and page.status_code == 404
    else:
        paid = shop_http.post(f"{page.url.path}/bayar")
        assert platform.MESSAGES[code] in paid.text and paid.status_code == 422


def test_bad_card_number_refused_before_calling_the_program(shop_http: TestClient, fake: fake_program.Fake) -> None:
    list_course(shop_http)
    calls = len(fake.calls)
    answer = checkout(shop_http, "12345")
    assert (answer["http_status"], answer["code"]) == (422, "invalid_card_number")
    page = shop_http.post("/kursus/crs_webinar/kartu", data={"akun": "", "nomor_kartu": CARD})
    assert page.status_code == 422 and platform.MESSAGES["invalid_account"] in page.text
    assert len(fake.calls) == calls


def test_the_shops_account_is_bound_to_one_card(shop_http: TestClient, fake: fake_program.Fake) -> None:
    list_course(shop_http)
    fake.cards["6543210987654321"] = fake_program.Card(name="Budi Santoso", balance=3_500_000)
    first = checkout(shop_http, CARD, "Siti@Contoh.id")
    again = checkout(shop_http, CARD, "siti@contoh.id")
    assert first["account_id"] == again["account_id"] == "AKN-000001"
    assert fake.calls[-1]["body"] and json.loads(fake.calls[-1]["body"])["platform_account_id"] == "AKN-000001"
    other_card = checkout(shop_http, "6543210987654321", "siti@contoh.id")
    assert other_card["code"] == "platform_account_bound"
    other_account = checkout(shop_http, "6543210987654321", "budi@contoh.id")
    assert other_account["http_status"] == 201 and other_account["account_id"] == "AKN-000002"


def test_otp_expired_attempts_exceeded_and_purchase_state(
    shop_http: TestClient, fake: fake_program.Fake, clock: SimClock
) -> None:
    list_course(shop_http)
    order = checkout(shop_http)
    assert order["http_status"] == 201 and order["status"] == "otp_sent" and order["otp_expires_at"]
    for _ in range(4):
        assert shop_http.post(f"/api/orders/{order['order_id']}/otp", json={"otp": "x"}).json()["code"] == "otp_invalid"
    fifth = shop_http.post(f"/api/orders/{order['order_id']}/otp", json={"otp": "x"})
    assert (fifth.status_code, fifth.json()["code"]) == (429, "otp_attempts_exceeded")
    assert shop_http.get(f"/api/orders/{order['order_id']}").json()["status"] == "cancelled"
    assert (
        platform.MESSAGES["purchase_state"]
        in shop_http.post(f"/pesanan/{order['order_id']}/otp", data={"otp": "1"}).text
    )

    late = checkout(shop_http)
    clock.set(now=clock.now() + timedelta(minutes=6))
    expired = shop_http.post(
        f"/api/orders/{late['order_id']}/otp", json={"otp": fake.purchases[late["purchase_id"]].otp}
    )
    assert expired.json()["code"] == "otp_expired" and expired.json()["message"] == platform.MESSAGES["otp_expired"]


def test_json_purchase_confirm_refresh_and_cancel(shop_http: TestClient, fake: fake_program.Fake) -> None:
    list_course(shop_http)
    order = checkout(shop_http)
    otp = fake.purchases[order["purchase_id"]].otp
    confirmed = shop_http.post(f"/api/orders/{order['order_id']}/otp", json={"otp": otp}).json()
    assert confirmed["status"] == "confirmed" and re.fullmatch(r"VCR[0-9A-F]{10}", confirmed["voucher_code"])
    again = shop_http.post(f"/api/orders/{order['order_id']}/otp", json={"otp": otp})
    assert (again.status_code, again.json()["code"]) == (409, "purchase_state")
    assert shop_http.get(f"/api/orders/{order['order_id']}?refresh=1").json()["status"] == "confirmed"
    cancelled = shop_http.post(f"/api/orders/{order['order_id']}/cancel").json()
    assert cancelled["status"] == "cancelled" and cancelled["balance_after"] == 3_500_000
    assert "dibatalkan" in shop_http.get(f"/pesanan/{order['order_id']}").text


def test_program_unreachable_is_a_message_not_a_crash(clock: SimClock) -> None:
    import httpx

    from prakerja.simulators.partner_client import PartnerClient
    from prakerja.simulators.webhook_receiver import Inbox
    from tests.simulators.conftest import PLATFORM

    down = httpx.Client(base_url="http://127.0.0.1:9", timeout=1)
    shop = platform.Shop(client=PartnerClient(credentials=PLATFORM, http=down, clock=clock))
    with TestClient(platform.create_app(shop, Inbox(None, clock))) as http:
        answer = http.post("/_admin/listings", json={"course_id": "c", "price": 1})
    assert (answer.status_code, answer.json()["code"]) == (503, "program_unreachable")
