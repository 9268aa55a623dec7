"""A stand-in for a digital platform (a course shop) integrating the "Kartu Prakerja" payment method, written
from ``shared/contracts/marketplace-api.md`` and ``partner-api.md`` alone: a separate ASGI app that imports nothing
of the program and talks to it only over the signed partner API.

Run it with ``prakerja sim platform``. Pages (Bahasa Indonesia): ``/`` the shop's catalogue (the courses it listed
on the program), ``/kursus/{course_id}`` a course with the checkout (payment method "Kartu Prakerja", the buyer's
shop account and the 16-digit card number -> ``POST /cards/inquiry``), ``/pesanan/{order_id}`` an order: pay
(``POST /purchases``), enter the SMS code (``POST /purchases/{id}/confirm``), see the voucher, cancel
(``POST /purchases/{id}/cancel``). Every refusal of the contract's section 1 is shown with a message.

JSON for tests and demos: ``POST /_admin/listings`` ``{"course_id", "price", "title"}`` lists a course
(``PUT /listings/{course_id}``), ``POST /api/checkout`` ``{"course_id", "card_number", "account"}`` makes the
inquiry and the purchase, ``POST /api/orders/{order_id}/otp`` ``{"otp"}`` confirms, ``POST
/api/orders/{order_id}/cancel``, ``GET /api/orders``; ``POST /webhooks/prakerja`` receives the program's
webhooks (verified, ``GET /_events`` lists them); ``/_clock`` follows a program whose clock is frozen.

``platform_account_id`` is the shop's own id of the buyer's account (``AKN-000001``...): the program refuses a
second card on the same account (``platform_account_bound``). Card numbers are kept only until the purchase is
made, then only masked."""

from __future__ import annotations

import html
import re
import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from starlette.concurrency import run_in_threadpool

from prakerja.simulators.partner_client import Credentials, PartnerClient, PartnerError, SimClock
from prakerja.simulators.webhook_receiver import Inbox, mount, mount_clock

CARD = re.compile(r"^[0-9]{16}$")

MESSAGES: dict[str, str] = {
    "card_not_found": "Nomor Kartu Prakerja tidak ditemukan. Periksa kembali 16 digit nomor kartu Anda.",
    "card_revoked": "Kartu Prakerja ini sudah dicabut dan tidak dapat dipakai.",
    "card_not_active": "Kartu Prakerja ini belum atau tidak lagi aktif.",
    "insufficient_balance": "Saldo pelatihan Kartu Prakerja Anda tidak cukup untuk pelatihan ini.",
    "first_training_unfinished": "Selesaikan pelatihan pertama Anda dulu sebelum membeli pelatihan berikutnya.",
    "course_not_listed": "Pelatihan ini tidak dapat dibeli dengan Kartu Prakerja di toko ini saat ini.",
    "platform_account_bound": "Akun toko ini sudah pernah membayar dengan Kartu Prakerja lain.",
    "otp_invalid": "Kode OTP salah. Periksa SMS Anda dan coba lagi.",
    "otp_expired": "Kode OTP sudah kedaluwarsa. Ulangi pembelian untuk mendapat kode baru.",
    "otp_attempts_exceeded": "Terlalu banyak kode OTP yang salah. Pembelian dibatalkan; silakan ulangi.",
    "purchase_state": "Pesanan ini tidak sedang menunggu langkah ini.",
    "listing_price_above_curated": "Harga jual di atas harga hasil kurasi program.",
    "course_not_approved": "Pelatihan ini belum disetujui program.",
    "partner_role_forbidden": "Toko ini tidak berwenang memanggil layanan tersebut.",
    "invalid_card_number": "Nomor Kartu Prakerja harus 16 digit angka.",
    "invalid_account": "Isi akun toko Anda (alamat e-mail).",
    "unknown_course": "Pelatihan ini tidak ada di katalog toko.",
    "unknown_order": "Pesanan tidak ditemukan.",
    "program_unreachable": "Layanan Kartu Prakerja sedang tidak dapat dihubungi. Coba beberapa saat lagi.",
}
"""Words for the buyer, for every refusal code of the contract's section 1 (and the shop's own checks)."""


def message_for(code: str, program_message: str = "") -> str:
    return MESSAGES.get(code) or program_message or f"Permintaan ditolak ({code})."


class ShopError(Exception):
    def __init__(self, status: int, code: str, message: str = "") -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message or message_for(code)


@dataclass
class Listing:
    course_id: str
    price: int
    title: str
    url: str


@dataclass
class Order:
    order_id: str
    course_id: str
    account_id: str
    amount: int
    card_number: str | None
    card_masked: str = ""
    name_masked: str = ""
    balance: int | None = None
    purchase_id: str | None = None
    status: str = "new"
    """``new`` (card checked), ``otp_sent``, ``confirmed``, ``cancelled`` (the program's words after that)."""
    voucher_code: str | None = None
    balance_after: int | None = None
    otp_expires_at: str | None = None
    error: str | None = None

    def public(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "course_id": self.course_id,
            "account_id": self.account_id,
            "amount": self.amount,
            "card_number_masked": self.card_masked,
            "name_masked": self.name_masked,
            "purchase_id": self.purchase_id,
            "status": self.status,
            "voucher_code": self.voucher_code,
            "balance_after": self.balance_after,
            "otp_expires_at": self.otp_expires_at,
        }


@dataclass
class Shop:
    """The shop's state and its calls to the program; the pages and the JSON routes both use it."""

    client: PartnerClient
    public_url: str = "https://toko-belajar.example"
    name: str = "Toko Belajar (simulator)"
    listings: dict[str, Listing] = field(default_factory=dict)
    orders: dict[str, Order] = field(default_factory=dict)
    accounts: dict[str, str] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PartnerError as error:
            raise ShopError(error.status, error.code, message_for(error.code, error.message)) from None
        except httpx.HTTPError:
            raise ShopError(503, "program_unreachable") from None

    def list_course(self, course_id: str, price: int, title: str = "") -> Listing:
        url = f"{self.public_url.rstrip('/')}/kursus/{course_id}"
        self._call(self.client.put_listing, course_id, url=url, price=price)
        known = self.listings.get(course_id)
        title = title or (known.title if known else f"Pelatihan {course_id[:8]}")
        listing = Listing(course_id=course_id, price=price, title=title, url=url)
        self.listings[course_id] = listing
        return listing

    def account_id(self, account: str) -> str:
        account = account.strip().lower()
        if not account or len(account) > 200:
            raise ShopError(422, "invalid_account")
        with self._lock:
            if account not in self.accounts:
                self.accounts[account] = f"AKN-{len(self.accounts) + 1:06d}"
            return self.accounts[account]

    def start(self, course_id: str, card_number: str, account: str) -> Order:
        """Check the card (``POST /cards/inquiry``) and open an order."""
        listing = self.listings.get(course_id)
        if listing is None:
            raise ShopError(404, "unknown_course")
        card_number = re.sub(r"[\s-]", "", card_number)
        if not CARD.match(card_number):
            raise ShopError(422, "invalid_card_number")
        account_id = self.account_id(account)
        card = self._call(self.client.card_inquiry, card_number)
        order = Order(
            order_id=f"ORD-{secrets.token_hex(6).upper()}",
            course_id=course_id,
            account_id=account_id,
            amount=listing.price,
            card_number=card_number,
            card_masked=str(card.get("card_number_masked", "")),
            name_masked=str(card.get("name_masked", "")),
            balance=card.get("balance"),
        )
        self.orders[order.order_id] = order
        return order

    def order(self, order_id: str) -> Order:
        found = self.orders.get(order_id)
        if found is None:
            raise ShopError(404, "unknown_order")
        return found

    def pay(self, order_id: str) -> Order:
        """``POST /purchases``: the program texts a one-time code to the participant."""
        order = self.order(order_id)
        if order.purchase_id is not None:
            return order
        if order.card_number is None:
            raise ShopError(409, "purchase_state")
        created = self._call(
            self.client.create_purchase,
            card_number=order.card_number,
            course_id=order.course_id,
            platform_order_id=order.order_id,
            platform_account_id=order.account_id,
            idempotency_key=f"purchase-{order.order_id}",
        )
        order.card_number = None
        order.purchase_id = str(created["purchase_id"])
        order.status = str(created.get("status", "otp_sent"))
        order.amount = int(created.get("amount", order.amount))
        order.otp_expires_at = created.get("otp_expires_at")
        return order

    def confirm(self, order_id: str, otp: str) -> Order:
        order = self.order(order_id)
        if order.purchase_id is None:
            raise ShopError(409, "purchase_state")
        try:
            confirmed = self._call(self.client.confirm_purchase, order.purchase_id, otp.strip())
        except ShopError as error:
            if error.code == "otp_attempts_exceeded":
                order.status = "cancelled"
            order.error = error.code
            raise
        order.status = str(confirmed.get("status", "confirmed"))
        order.voucher_code = confirmed.get("voucher_code")
        order.balance_after = confirmed.get("balance_after")
        order.error = None
        return order

    def cancel(self, order_id: str, reason: str = "Dibatalkan pembeli") -> Order:
        order = self.order(order_id)
        if order.purchase_id is None:
            order.status, order.card_number = "cancelled", None
            return order
        cancelled = self._call(self.client.cancel_purchase, order.purchase_id, reason)
        order.status = str(cancelled.get("status", "cancelled"))
        order.balance_after = cancelled.get("balance_after")
        return order

    def refresh(self, order_id: str) -> Order:
        order = self.order(order_id)
        if order.purchase_id is not None:
            found = self._call(self.client.get_purchase, order.purchase_id)
            order.status = str(found.get("status", order.status))
            order.voucher_code = found.get("voucher_code") or order.voucher_code
        return order


# --- pages --------------------------------------------------------------------------------------------------------

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;line-height:1.5}"
    "label{display:block;margin:.6rem 0 .2rem}input{font-size:1rem;padding:.3rem}button{font-size:1rem;"
    "margin-top:.8rem;padding:.4rem 1rem}.galat{background:#fde8e8;border-left:4px solid #c00;padding:.5rem}"
    ".voucher{font-size:1.4rem;font-family:monospace;background:#eef;padding:.5rem}"
)


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def rupiah(amount: int | None) -> str:
    return "-" if amount is None else "Rp" + f"{int(amount):,}".replace(",", ".")


def _page(shop: Shop, title: str, body: str, status: int = 200) -> HTMLResponse:
    text = (
        f'<!doctype html><html lang="id"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width,initial-scale=1"><title>{_e(title)} · {_e(shop.name)}</title>'
        f"<style>{_STYLE}</style></head><body><header><a href='/'>{_e(shop.name)}</a></header>"
        f"<main><h1>{_e(title)}</h1>{body}</main></body></html>"
    )
    return HTMLResponse(text, status_code=status)


def _error(message: str | None) -> str:
    return f'<p class="galat" role="alert">{_e(message)}</p>' if message else ""


def create_app(shop: Shop, inbox: Inbox) -> FastAPI:
    app = FastAPI(title="Digital platform simulator", docs_url=None, redoc_url=None)
    app.state.shop, app.state.inbox = shop, inbox
    mount(app, inbox)
    mount_clock(app, shop.client.clock)

    def checkout_form(listing: Listing, error: str | None = None, account: str = "", status: int = 200) -> Any:
        body = (
            f"<p>Harga: <strong>{rupiah(listing.price)}</strong></p>{_error(error)}"
            f'<form method="post" action="/kursus/{_e(listing.course_id)}/kartu">'
            '<fieldset><legend>Metode pembayaran</legend><label><input type="radio" name="metode" '
            'value="prakerja" checked> Kartu Prakerja</label></fieldset>'
            f'<label for="akun">Akun toko (e-mail)</label><input id="akun" name="akun" value="{_e(account)}" required>'
            '<label for="kartu">Nomor Kartu Prakerja (16 digit)</label>'
            '<input id="kartu" name="nomor_kartu" inputmode="numeric" autocomplete="off" required>'
            "<button>Periksa kartu</button></form>"
        )
        return _page(shop, listing.title, body, status)

    def order_page(order: Order, error: str | None = None, status: int = 200) -> Any:
        listing = shop.listings.get(order.course_id)
        title = listing.title if listing else order.course_id
        facts = (
            f"<p>Pesanan <strong>{_e(order.order_id)}</strong> · {_e(title)} · {rupiah(order.amount)}</p>"
            f"<p>Kartu {_e(order.card_masked)} atas nama {_e(order.name_masked)}</p>"
        )
        base = f"/pesanan/{_e(order.order_id)}"
        if order.status == "new":
            action = (
                f"<p>Saldo pelatihan: {rupiah(order.balance)}</p>"
                f'<form method="post" action="{base}/bayar"><button>Bayar dengan Kartu Prakerja</button></form>'
            )
        elif order.status == "otp_sent":
            action = (
                "<p>Kode OTP sudah dikirim lewat SMS ke nomor ponsel yang terdaftar di Kartu Prakerja.</p>"
                f'<form method="post" action="{base}/otp"><label for="otp">Kode OTP</label>'
                '<input id="otp" name="otp" inputmode="numeric" autocomplete="one-time-code" required>'
                "<button>Konfirmasi</button></form>"
            )
        elif order.voucher_code and order.status in {"confirmed", "redeemed", "completed"}:
            action = (
                f'<p>Pembayaran berhasil. Kode voucher Anda:</p><p class="voucher">{_e(order.voucher_code)}</p>'
                f"<p>Sisa saldo: {rupiah(order.balance_after)}</p><p>Tukarkan kode voucher ini di lembaga pelatihan."
                "</p>"
            )
            if order.status == "confirmed":
                action += f'<form method="post" action="{base}/batal"><button>Batalkan pembelian</button></form>'
        elif order.status == "cancelled":
            action = f"<p>Pesanan dibatalkan. Sisa saldo: {rupiah(order.balance_after)}</p>"
        else:
            action = f"<p>Status: {_e(order.status)}</p>"
        return _page(shop, "Pesanan", facts + _error(error) + action, status)

    @app.get("/", response_class=HTMLResponse)
    def catalogue() -> Any:
        items = "".join(
            f'<li><a href="/kursus/{_e(item.course_id)}">{_e(item.title)}</a> · {rupiah(item.price)}</li>'
            for item in shop.listings.values()
        )
        body = f"<p>Bisa dibayar dengan Kartu Prakerja.</p><ul>{items}</ul>" if items else "<p>Belum ada pelatihan.</p>"
        return _page(shop, "Katalog pelatihan", body)

    @app.get("/kursus/{course_id}", response_class=HTMLResponse)
    def course(course_id: str) -> Any:
        listing = shop.listings.get(course_id)
        if listing is None:
            return _page(shop, "Tidak ditemukan", _error(message_for("unknown_course")), 404)
        return checkout_form(listing)

    @app.post("/kursus/{course_id}/kartu", response_class=HTMLResponse)
    def check_card(course_id: str, akun: str = Form(""), nomor_kartu: str = Form("")) -> Any:
        listing = shop.listings.get(course_id)
        if listing is None:
            return _page(shop, "Tidak ditemukan", _error(message_for("unknown_course")), 404)
        try:
            order = shop.start(course_id, nomor_kartu, akun)
        except ShopError as error:
            return checkout_form(listing, error.message, akun, error.status)
        return RedirectResponse(f"/pesanan/{order.order_id}", status_code=303)

    @app.get("/pesanan/{order_id}", response_class=HTMLResponse)
    def show_order(order_id: str) -> Any:
        try:
            return order_page(shop.order(order_id))
        except ShopError as error:
            return _page(shop, "Tidak ditemukan", _error(error.message), error.status)

    def order_step(order_id: str, step: Any) -> Any:
        try:
            order = shop.order(order_id)
        except ShopError as error:
            return _page(shop, "Tidak ditemukan", _error(error.message), error.status)
        try:
            step(order)
        except ShopError as error:
            return order_page(order, error.message, error.status)
        return RedirectResponse(f"/pesanan/{order.order_id}", status_code=303)

    @app.post("/pesanan/{order_id}/bayar", response_class=HTMLResponse)
    def pay(order_id: str) -> Any:
        return order_step(order_id, lambda o: shop.pay(o.order_id))

    @app.post("/pesanan/{order_id}/otp", response_class=HTMLResponse)
    def otp(order_id: str, otp: str = Form("")) -> Any:
        return order_step(order_id, lambda o: shop.confirm(o.order_id, otp))

    @app.post("/pesanan/{order_id}/batal", response_class=HTMLResponse)
    def cancel(order_id: str) -> Any:
        return order_step(order_id, lambda o: shop.cancel(o.order_id))

    # --- JSON -------------------------------------------------------------------------------------------------

    def refused(error: ShopError) -> JSONResponse:
        return JSONResponse({"code": error.code, "message": error.message}, status_code=error.status)

    async def json_body(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ShopError(400, "invalid_request", "Badan permintaan harus objek JSON.")
        return body

    @app.post("/_admin/listings")
    async def admin_list(request: Request) -> JSONResponse:
        try:
            body = await json_body(request)
            course_id, price = str(body.get("course_id", "")), body.get("price")
            if not course_id or not isinstance(price, int) or isinstance(price, bool):
                raise ShopError(400, "invalid_request", "course_id dan price (bilangan bulat rupiah) wajib diisi.")
            listing = await run_in_threadpool(shop.list_course, course_id, price, str(body.get("title", "")))
        except ShopError as error:
            return refused(error)
        return JSONResponse({"course_id": listing.course_id, "status": "listed", "url": listing.url})

    @app.get("/api/listings")
    def api_listings() -> JSONResponse:
        return JSONResponse({"listings": [vars(item) for item in shop.listings.values()]})

    @app.post("/api/checkout")
    async def api_checkout(request: Request) -> JSONResponse:
        try:
            body = await json_body(request)

            def work() -> Order:
                order = shop.start(
                    str(body.get("course_id", "")), str(body.get("card_number", "")), str(body.get("account", ""))
                )
                try:
                    return shop.pay(order.order_id)
                except ShopError:
                    shop.orders.pop(order.order_id, None)
                    raise

            order = await run_in_threadpool(work)
        except ShopError as error:
            return refused(error)
        return JSONResponse(order.public(), status_code=201)

    @app.post("/api/orders/{order_id}/otp")
    async def api_otp(order_id: str, request: Request) -> JSONResponse:
        try:
            body = await json_body(request)
            order = await run_in_threadpool(shop.confirm, order_id, str(body.get("otp", "")))
        except ShopError as error:
            return refused(error)
        return JSONResponse(order.public())

    @app.post("/api/orders/{order_id}/cancel")
    def api_cancel(order_id: str) -> JSONResponse:
        try:
            return JSONResponse(shop.cancel(order_id).public())
        except ShopError as error:
            return refused(error)

    @app.get("/api/orders/{order_id}")
    def api_order(order_id: str, refresh: bool = False) -> JSONResponse:
        try:
            return JSONResponse((shop.refresh(order_id) if refresh else shop.order(order_id)).public())
        except ShopError as error:
            return refused(error)

    @app.get("/api/orders")
    def api_orders() -> JSONResponse:
        return JSONResponse({"orders": [order.public() for order in shop.orders.values()]})

    return app


def serve(
    *,
    host: str,
    port: int,
    api_url: str,
    client_code: str,
    key: str,
    webhook_secret: str | None,
    listings: list[tuple[str, int, str]],
    public_url: str,
    clock_offset: float = 0.0,
) -> None:
    import uvicorn

    clock = SimClock()
    clock.set(offset_seconds=clock_offset)
    client = PartnerClient.connect(api_url, Credentials(client_code, key), clock)
    shop = Shop(client=client, public_url=public_url)
    for course_id, price, title in listings:
        try:
            shop.list_course(course_id, price, title)
        except ShopError as error:
            raise SystemExit(f"error: cannot list {course_id}: {error.code} ({error.message})") from None
    uvicorn.run(create_app(shop, Inbox(webhook_secret, clock)), host=host, port=port, log_level="warning")
