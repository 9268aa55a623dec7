"""Sign-up, sign-in and sign-out, e-mail verification and password reset by link. Thin: every decision is in the
service. Rate limits are counted at this boundary (``web.limits``), on a transaction of their own."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from prakerja.auth import service
from prakerja.auth.errors import AccountDisabled, AccountLocked, InvalidCredentials, TokenInvalid, WeakPassword
from prakerja.auth.models import PMO_ROLES, Role
from prakerja.kit.errors import DomainError
from prakerja.notifications import service as notifications
from prakerja.web import portals
from prakerja.web.deps import (
    SESSION_COOKIE,
    Csrf,
    DbSession,
    clear_session_cookie,
    client_ip,
    device_id,
    set_session_cookie,
)
from prakerja.web.forms import form_error, pick
from prakerja.web.limits import count_attempt, count_failure
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)
Text = Annotated[str, Form(max_length=2000)]
Password = Annotated[str, Form(max_length=1024)]

LANDING = {Role.applicant: "/dasbor", **portals.LANDINGS}


def _safe_next(target: str | None, role: Role) -> str:
    if target and target.startswith("/") and not target.startswith("//") and target != "/masuk":
        return target
    if role in PMO_ROLES:
        return "/pmo"
    return LANDING.get(role, "/")


def _ip(request: Request) -> str:
    return client_ip(request) or "unknown"


def _message(
    request: Request, title: tuple[str, str], text: tuple[str, str], link: str, *, dev_mailbox: bool = False
) -> Response:
    context = {"title": pick(*title), "text": pick(*text), "link": link, "dev_mailbox": dev_mailbox}
    return render(request, "auth/message.html", context)


# --- sign in, sign out ------------------------------------------------------------------------------------------


async def login_rate_limit(request: Request) -> None:
    """Counts sign-in attempts per e-mail and IP in PostgreSQL (shared by every process); 429 with when to retry.
    It runs before the password is checked, so once locked out even the right password waits. (Wrong passwords
    per account from any address are counted in the route, see ``login``.)"""
    form = await request.form()
    email = service.account_key(str(form.get("email", "")))
    await run_in_threadpool(count_attempt, "login", f"{email}|{_ip(request)}")


@router.get("/masuk")
def login_form(request: Request, next: str | None = None) -> Response:
    return render(request, "auth/login.html", {"next": next or "", "email": ""})


@router.post("/masuk", dependencies=[Depends(login_rate_limit), Csrf])
def login(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=254)] = "",
    password: Password = "",
    next: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    context = {"next": next, "email": email}
    try:
        service.check_account_not_locked(session, email)
        account = service.authenticate(session, email=email, password=password)
    except InvalidCredentials as error:
        count_failure("login_account", service.account_key(email))  # from any address: 10 lock the account a while
        return form_error(request, session, "auth/login.html", error, context)
    except (AccountDisabled, AccountLocked) as error:
        return form_error(request, session, "auth/login.html", error, context)
    response = RedirectResponse(_safe_next(next, account.role), status_code=303)
    set_session_cookie(response, service.start_session(session, account))
    return response


@router.post("/keluar", dependencies=[Csrf])
def logout(request: Request, session: DbSession) -> Response:
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        service.end_session(session, token)
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(response)
    return response


# --- sign up, e-mail verification -------------------------------------------------------------------------------


@router.get("/daftar")
def signup_form(request: Request) -> Response:
    return render(request, "auth/signup.html", {"values": {}, "errors": {}})


def _count_sign_up(request: Request, email: str) -> None:
    """Sign-up attempts, refused ones included: a generous limit per network address (many people share one behind
    a mobile carrier or an internet cafe), tighter ones per browser and per e-mail address."""
    count_attempt("signup_network", _ip(request))
    device = device_id(request)
    if device:
        count_attempt("signup_device", device)
    if email.strip():
        count_attempt("signup_email", service.account_key(email))


@router.post("/daftar", dependencies=[Csrf])
def signup(
    request: Request, session: DbSession, email: Text = "", name: Text = "", password: Password = ""
) -> Response:
    """The same answer whether the e-mail is new or already has an account (see ``service.sign_up``): nobody is
    signed in here; the person opens the link in the e-mail, then signs in."""
    context: dict[str, Any] = {"values": {"email": email, "name": name}}
    try:
        _count_sign_up(request, email)
        service.sign_up(
            session, email=email, password=password, name=name, ip=client_ip(request), device=device_id(request)
        )
    except DomainError as error:
        return form_error(request, session, "auth/signup.html", error, context)
    return RedirectResponse("/daftar/terkirim", status_code=303)


@router.get("/daftar/terkirim")
def signup_sent(request: Request) -> Response:
    return _message(
        request,
        ("Periksa e-mail Anda", "Check your e-mail"),
        (
            "Kami mengirim e-mail ke alamat itu. Buka tautan di dalamnya untuk memverifikasi alamat Anda, lalu "
            "masuk dengan e-mail dan kata sandi Anda. Tidak menerima e-mail? Periksa folder spam, atau daftar lagi "
            "nanti.",
            "We have sent an e-mail to that address. Open the link in it to verify your address, then sign in with "
            "your e-mail and password. No e-mail? Check the spam folder, or sign up again later.",
        ),
        "/masuk",
        dev_mailbox=notifications.dev_mailbox_enabled(),
    )


@router.get("/verifikasi-email/{token}")
def verify_email(request: Request, session: DbSession, token: str) -> Response:
    service.verify_email(session, token[:200])
    return _message(
        request,
        ("E-mail terverifikasi", "E-mail verified"),
        ("Terima kasih. Alamat e-mail Anda sudah terverifikasi.", "Thank you. Your e-mail address is verified."),
        "/profil",
    )


# --- password reset ---------------------------------------------------------------------------------------------


@router.get("/lupa-sandi")
def forgot_form(request: Request) -> Response:
    return render(request, "auth/forgot.html", {"values": {}, "errors": {}})


@router.post("/lupa-sandi", dependencies=[Csrf])
def forgot(request: Request, session: DbSession, email: Text = "") -> Response:
    try:
        count_attempt("reset", f"{email.strip().lower()}|{_ip(request)}")
    except DomainError as error:
        return form_error(request, session, "auth/forgot.html", error, {"values": {"email": email}})
    service.request_password_reset(session, email=email)
    return _message(
        request,
        ("Periksa e-mail Anda", "Check your e-mail"),
        (
            "Jika e-mail itu terdaftar, kami telah mengirim tautan untuk mengatur ulang kata sandi.",
            "If that e-mail is registered, we have sent a link to reset the password.",
        ),
        "/masuk",
    )


@router.get("/atur-ulang-sandi/{token}")
def reset_form(request: Request, session: DbSession, token: str) -> Response:
    if not service.token_valid(session, token[:200], "reset_password"):
        raise TokenInvalid()
    return render(request, "auth/reset.html", {"token": token, "errors": {}})


@router.post("/atur-ulang-sandi/{token}", dependencies=[Csrf])
def reset(request: Request, session: DbSession, token: str, password: Password = "") -> Response:
    try:
        service.reset_password(session, token=token[:200], password=password)
    except WeakPassword as error:
        return form_error(request, session, "auth/reset.html", error, {"token": token})
    response = _message(
        request,
        ("Kata sandi diganti", "Password changed"),
        (
            "Kata sandi Anda sudah diganti. Demi keamanan, akun Anda dikeluarkan dari semua perangkat dan tautan "
            "atur ulang lain yang belum dipakai tidak berlaku lagi. Silakan masuk dengan kata sandi baru.",
            "Your password has been changed. For your safety, your account has been signed out on every device and "
            "any other unused reset links no longer work. Please sign in with the new password.",
        ),
        "/masuk",
    )
    clear_session_cookie(response)
    return response
