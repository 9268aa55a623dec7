"""Registration pages: sign-up, e-mail verification, password reset, the profile wizard with phone OTP and KTP
photo, the ability test, and the PMO's applicant pages. Thin: every decision is in the service."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from prakerja.auth import service as auth
from prakerja.auth.models import PMO_ROLES, Role
from prakerja.auth.service import CurrentAccount
from prakerja.config import get_settings
from prakerja.db import session_factory, unit_of_work
from prakerja.eligibility import service as eligibility
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import parse_id
from prakerja.registration import itembank, regions
from prakerja.registration.errors import InvalidInput, TokenInvalid
from prakerja.registration.models import EXCLUSION_TYPES, WHITELIST_TYPES, IdentityStatus
from prakerja.registration.service import ability, accounts, identity, integrity, lists, officers
from prakerja.registration.uploads import MAX_BYTES
from prakerja.web import dashboard
from prakerja.web.deps import SESSION_COOKIE, Csrf, DbSession, client_ip, device_id, require_role
from prakerja.web.i18n import current_language
from prakerja.web.pmo import PmoLink, add_link
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)
Applicant = Depends(require_role(Role.applicant))
Officer = Depends(require_role(*PMO_ROLES))
Admin = Depends(require_role(Role.pmo_admin))
Text = Annotated[str, Form(max_length=2000)]

STATUS_TEXT = {
    IdentityStatus.unsubmitted: ("Identitas belum dikirim.", "Identity not submitted yet.", ""),
    IdentityStatus.pending: (
        "Sedang dicocokkan dengan data Dukcapil. Biasanya selesai dalam beberapa menit.",
        "Being checked against the civil registry. This usually takes a few minutes.",
        "",
    ),
    IdentityStatus.matched: ("Identitas cocok dengan data Dukcapil.", "Identity matches the civil registry.", ""),
    IdentityStatus.name_mismatch: (
        "Nama lengkap tidak sama dengan data Dukcapil.",
        "Your full name does not match the civil registry.",
        "nama",
    ),
    IdentityStatus.mother_name_mismatch: (
        "Nama ibu kandung tidak sama dengan data Dukcapil.",
        "Your mother's maiden name does not match the civil registry.",
        "nama",
    ),
    IdentityStatus.nik_kk_mismatch: (
        "NIK tidak terdaftar pada nomor KK yang Anda isi.",
        "The NIK is not registered on the family card number you entered.",
        "identitas",
    ),
    IdentityStatus.birth_date_mismatch: (
        "Tanggal lahir tidak sama dengan data Dukcapil.",
        "Your birth date does not match the civil registry.",
        "identitas",
    ),
    IdentityStatus.not_found: (
        "NIK tidak ditemukan di Dukcapil. Periksa NIK Anda atau hubungi Dinas Dukcapil setempat.",
        "The NIK was not found at the civil registry. Check it or contact your local civil registry office.",
        "identitas",
    ),
    IdentityStatus.deceased: (
        "Data Dukcapil mencatat NIK ini atas nama orang yang telah meninggal. Hubungi Dinas Dukcapil setempat.",
        "The civil registry records this NIK as belonging to a deceased person. Contact your local office.",
        "",
    ),
}


STEP_TITLES = {
    "identitas": ("Nomor identitas", "Identity numbers"),
    "nama": ("Nama", "Names"),
    "alamat": ("Alamat", "Address"),
    "latar": ("Pendidikan dan pekerjaan", "Education and work"),
    "telepon": ("Nomor ponsel", "Mobile number"),
    "foto": ("Foto KTP", "KTP photo"),
    "pernyataan": ("Pernyataan dan persetujuan", "Declaration and consent"),
}
CHOICE_TITLES = {
    "sd": ("SD/sederajat", "Primary school"),
    "smp": ("SMP/sederajat", "Junior high school"),
    "sma": ("SMA/SMK/sederajat", "Senior high school"),
    "d1_d3": ("Diploma (D1-D3)", "Diploma (D1-D3)"),
    "s1": ("Sarjana (S1/D4)", "Bachelor (S1/D4)"),
    "s2_s3": ("Pascasarjana (S2/S3)", "Postgraduate (S2/S3)"),
    "job_seeker": ("Pencari kerja", "Job seeker"),
    "laid_off": ("Korban PHK", "Laid off"),
    "sent_home": ("Dirumahkan", "Sent home"),
    "worker_reskilling": ("Pekerja yang butuh keterampilan baru", "Worker needing new skills"),
    "micro_business": ("Pelaku usaha mikro atau kecil", "Micro or small business owner"),
}


def _titles() -> dict[str, dict[str, str]]:
    return {
        "step_titles": {k: _pick(*v) for k, v in STEP_TITLES.items()},
        "choice_titles": {k: _pick(*v) for k, v in CHOICE_TITLES.items()},
    }


def _not_found() -> DomainError:
    return DomainError("Halaman tidak ditemukan.", "Page not found.", code="not_found", status_code=404)


def _pick(message_id: str, message_en: str) -> str:
    return message_id if current_language.get() == "id" else message_en


def _field_errors(error: DomainError) -> dict[str, str]:
    fields = error.details.get("fields") or []
    found: dict[str, str] = {}
    for item in fields:
        if isinstance(item, dict) and "field" in item and item["field"] not in found:
            found[item["field"]] = _pick(item.get("message", error.message), item.get("message_en", error.message_en))
    if not found and "field" in error.details:
        found[error.details["field"]] = _pick(error.message, error.message_en)
    return found


def _form_error(request: Request, template: str, error: DomainError, context: dict[str, Any]) -> Response:
    return render(
        request,
        template,
        {**context, "errors": _field_errors(error), "error": _pick(error.message, error.message_en)},
        status_code=error.status_code,
    )


def _signals(request: Request) -> dict[str, str | None]:
    """The IP and the device cookie a form was sent from (integrity signals, stored as blind indexes only)."""
    return {"ip": client_ip(request), "device": device_id(request)}


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


# --- login rate limit (mounted on the auth router in app.py) ----------------------------------------------------


async def login_rate_limit(request: Request) -> None:
    """Counts sign-in attempts per e-mail and IP in PostgreSQL (shared by every process); 429 with when to retry."""
    if request.method != "POST" or request.url.path != "/masuk":
        return
    form = await request.form()
    email = str(form.get("email", ""))[:254].strip().lower()
    await run_in_threadpool(accounts.hit, "login", f"{email}|{client_ip(request) or 'unknown'}")


# --- sign-up, e-mail verification, password reset ---------------------------------------------------------------


@router.get("/daftar")
def signup_form(request: Request) -> Response:
    return render(request, "registration/signup.html", {"values": {}, "errors": {}})


@router.post("/daftar", dependencies=[Csrf])
def signup(
    request: Request,
    session: DbSession,
    email: Text = "",
    name: Text = "",
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    values = {"email": email, "name": name}
    try:
        accounts.hit("signup_ip", client_ip(request) or "unknown")
        account = accounts.sign_up(
            session, email=email, password=password, name=name, base_url=base_url(request), **_signals(request)
        )
    except DomainError as error:
        session.rollback()
        return _form_error(request, "registration/signup.html", error, {"values": values})
    token = auth.start_session(session, account)
    settings = get_settings()
    response = RedirectResponse("/profil", status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        token,
        httponly=True,
        secure=settings.cookie_secure or settings.env == "production",
        samesite="lax",
        max_age=int(auth.SESSION_LIFETIME.total_seconds()),
    )
    return response


@router.get("/verifikasi-email/{token}")
def verify_email(request: Request, session: DbSession, token: str) -> Response:
    accounts.verify_email(session, token[:200])
    return render(
        request,
        "registration/message.html",
        {
            "title": _pick("E-mail terverifikasi", "E-mail verified"),
            "text": _pick(
                "Terima kasih. Alamat e-mail Anda sudah terverifikasi.", "Thank you. Your e-mail address is verified."
            ),
            "link": "/profil",
        },
    )


@router.get("/lupa-sandi")
def forgot_form(request: Request) -> Response:
    return render(request, "registration/forgot.html", {"values": {}, "errors": {}})


@router.post("/lupa-sandi", dependencies=[Csrf])
def forgot(request: Request, session: DbSession, email: Text = "") -> Response:
    try:
        accounts.hit("reset", f"{email.strip().lower()}|{client_ip(request) or 'unknown'}")
    except DomainError as error:
        return _form_error(request, "registration/forgot.html", error, {"values": {"email": email}})
    accounts.request_password_reset(session, email=email, base_url=base_url(request))
    return render(
        request,
        "registration/message.html",
        {
            "title": _pick("Periksa e-mail Anda", "Check your e-mail"),
            "text": _pick(
                "Jika e-mail itu terdaftar, kami telah mengirim tautan untuk mengatur ulang kata sandi.",
                "If that e-mail is registered, we have sent a link to reset the password.",
            ),
            "link": "/masuk",
        },
    )


@router.get("/atur-ulang-sandi/{token}")
def reset_form(request: Request, session: DbSession, token: str) -> Response:
    if not accounts.token_valid(session, token[:200], "reset_password"):
        raise TokenInvalid()
    return render(request, "registration/reset.html", {"token": token, "errors": {}})


@router.post("/atur-ulang-sandi/{token}", dependencies=[Csrf])
def reset(
    request: Request, session: DbSession, token: str, password: Annotated[str, Form(max_length=1024)] = ""
) -> Response:
    try:
        accounts.reset_password(session, token=token[:200], password=password)
    except InvalidInput as error:
        return _form_error(request, "registration/reset.html", error, {"token": token})
    return render(
        request,
        "registration/message.html",
        {
            "title": _pick("Kata sandi diganti", "Password changed"),
            "text": _pick(
                "Kata sandi Anda sudah diganti. Silakan masuk.", "Your password has been changed. Please sign in."
            ),
            "link": "/masuk",
        },
    )


# --- the profile wizard -----------------------------------------------------------------------------------------


def _status(applicant: Any) -> tuple[str, str]:
    status = IdentityStatus(applicant.identity_status if applicant else "unsubmitted")
    message_id, message_en, fix = STATUS_TEXT[status]
    return _pick(message_id, message_en), fix


@router.get("/profil")
def profile(request: Request, session: DbSession, account: CurrentAccount = Applicant) -> Response:
    applicant = identity.find(session, account.id)
    status_text, fix_step = _status(applicant)
    steps = [(s, identity.step_done(applicant, s)) for s in identity.STEPS]
    return render(
        request,
        "registration/profile.html",
        {
            "steps": steps,
            "next_step": identity.next_step(applicant),
            "status": applicant.identity_status if applicant else "unsubmitted",
            "status_text": status_text,
            "fix_step": fix_step,
            "complete": applicant is not None and applicant.declared_at is not None,
            **_titles(),
        },
    )


def _step_context(
    session: Any,
    account: CurrentAccount,
    step: str,
    request: Request,
    district_hint: str = "",
    domicile_hint: str = "",
) -> dict[str, Any]:
    applicant = identity.find(session, account.id)
    values: dict[str, Any] = {}
    if applicant is not None:
        # a profile saved before the KTP district was asked: the domicile is the KTP's when the addresses agree
        same = (applicant.domicile_address or applicant.ktp_address) == applicant.ktp_address and (
            applicant.ktp_district is None or applicant.domicile_district == applicant.ktp_district
        )
        values = {
            "birth_date": applicant.birth_date or "",
            "sex": applicant.sex or "",
            "full_name": applicant.full_name or "",
            "mother_maiden_name": applicant.mother_maiden_name or "",
            "ktp_address": applicant.ktp_address or "",
            "ktp_district": applicant.ktp_district or "",
            "domicile_same": "ya" if same else "tidak",
            "domicile_address": "" if same else applicant.domicile_address or "",
            "domicile_district": "" if same else applicant.domicile_district or "",
            "education": applicant.education or "",
            "job_status": applicant.job_status or "",
            "has_disability": applicant.has_disability,
            "former_migrant_worker": applicant.former_migrant_worker,
            "is_citizen": applicant.is_citizen,
            "declared_student": applicant.declared_student,
            "nik_saved": applicant.nik is not None,
        }
    query = request.query_params
    # the KTP address's region is picked first; the domicile's defaults to it (the common case)
    known = district_hint or values.get("ktp_district") or ""
    if not known and applicant is not None and values.get("domicile_same") == "ya":
        known = applicant.domicile_district or ""
    province = query.get("provinsi") or known[:2]
    regency = query.get("kabupaten") or known[:4]
    if regency[:2] != province:
        regency = ""
    known_domicile = domicile_hint or values.get("domicile_district") or ""
    domicile_province = query.get("dom_provinsi") or known_domicile[:2] or province
    domicile_regency = query.get("dom_kabupaten") or known_domicile[:4] or regency
    if domicile_regency[:2] != domicile_province:
        domicile_regency = ""
    if query.get("dom_kabupaten"):
        values["domicile_same"] = "tidak"  # the applicant just chose another region to live in
    return {
        "step": step,
        "steps": identity.STEPS,
        "values": values,
        "errors": {},
        "provinces": regions.all_provinces(),
        "province": province,
        "regencies": regions.regencies_in(province) if province else [],
        "regency": regency,
        "districts": regions.districts_in(regency) if regency else [],
        "pick_domicile": query.get("domisili") == "pilih" and not (query.get("dom_kabupaten") and domicile_regency),
        "domicile_province": domicile_province,
        "domicile_regencies": regions.regencies_in(domicile_province) if domicile_province else [],
        "domicile_regency": domicile_regency,
        "domicile_districts": regions.districts_in(domicile_regency) if domicile_regency else [],
        "educations": identity.EDUCATION,
        "job_statuses": identity.JOB_STATUSES,
        "declaration_version": identity.DECLARATION_VERSION,
        "max_photo_mb": MAX_BYTES // (1024 * 1024),
        **_titles(),
    }


def _after(step: str) -> str:
    position = identity.STEPS.index(step)
    return f"/profil/{identity.STEPS[position + 1]}" if position + 1 < len(identity.STEPS) else "/profil"


def _yes(value: str) -> bool:
    return value == "ya"


@router.get("/profil/{step}")
def step_form(request: Request, session: DbSession, step: str, account: CurrentAccount = Applicant) -> Response:
    if step not in identity.STEPS:
        raise _not_found()
    if step == "telepon":
        return render(request, "registration/phone.html", {"values": {}, "errors": {}, "sent": False})
    return render(request, "registration/step.html", _step_context(session, account, step, request))


@router.post("/profil/{step}", dependencies=[Csrf])
async def step_save(request: Request, step: str, account: CurrentAccount = Applicant) -> Response:
    if step not in identity.STEPS or step == "telepon":
        raise _not_found()
    form = await request.form()
    photo: bytes | None = None
    if step == "foto":
        upload = form.get("ktp_photo")
        photo = await upload.read(MAX_BYTES + 1) if isinstance(upload, StarletteUpload) else b""
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    if any(len(v) > 2000 for v in values.values()):
        values = {k: v[:2000] for k, v in values.items()}
    return await run_in_threadpool(_save_step, request, step, account, values, photo)


def _save_step(
    request: Request, step: str, account: CurrentAccount, form: dict[str, str], photo: bytes | None
) -> Response:
    session = session_factory()()
    try:
        try:
            if step == "identitas":
                identity.save_identity(
                    session,
                    account_id=account.id,
                    nik=form.get("nik", ""),
                    kk=form.get("kk", ""),
                    birth_date=form.get("birth_date", ""),
                    sex=form.get("sex", ""),
                    **_signals(request),
                )
            elif step == "nama":
                identity.save_names(
                    session,
                    account_id=account.id,
                    full_name=form.get("full_name", ""),
                    mother_maiden_name=form.get("mother_maiden_name", ""),
                    **_signals(request),
                )
            elif step == "alamat":
                identity.save_address(
                    session,
                    account_id=account.id,
                    ktp_address=form.get("ktp_address", ""),
                    domicile_address=form.get("domicile_address", ""),
                    domicile_district=form.get("domicile_district", ""),
                    ktp_district=form.get("ktp_district", ""),
                    domicile_same_as_ktp=form.get("domicile_same", "ya") != "tidak",
                )
            elif step == "latar":
                identity.save_background(
                    session,
                    account_id=account.id,
                    education=form.get("education", ""),
                    job_status=form.get("job_status", ""),
                    has_disability=_yes(form.get("has_disability", "")),
                    former_migrant_worker=_yes(form.get("former_migrant_worker", "")),
                    is_citizen=form.get("is_citizen", "ya") != "tidak",
                    declared_student=_yes(form.get("declared_student", "")),
                )
            elif step == "foto":
                identity.save_photo(session, account_id=account.id, data=photo or b"")
            elif step == "pernyataan":
                identity.declare(
                    session,
                    account_id=account.id,
                    declaration=form.get("declaration") == "ya",
                    consent=form.get("consent") == "ya",
                )
            session.commit()
        except DomainError as error:
            session.rollback()
            context = _step_context(
                session,
                account,
                step,
                request,
                form.get("ktp_district", "")[:6],
                form.get("domicile_district", "")[:6],
            )
            context["values"].update({k: v for k, v in form.items() if k not in ("nik", "kk")})
            return _form_error(request, "registration/step.html", error, context)
        return RedirectResponse(_after(step), status_code=303)
    finally:
        session.close()


@router.post("/profil/telepon/kirim", dependencies=[Csrf])
def phone_send(request: Request, session: DbSession, phone: Text = "", account: CurrentAccount = Applicant) -> Response:
    try:
        accounts.send_phone_otp(session, account_id=account.id, phone=phone)
    except DomainError as error:
        session.rollback()
        return _form_error(request, "registration/phone.html", error, {"values": {"phone": phone}, "sent": False})
    return render(request, "registration/phone.html", {"values": {"phone": phone}, "errors": {}, "sent": True})


@router.post("/profil/telepon/kode", dependencies=[Csrf])
def phone_confirm(
    request: Request, session: DbSession, code: Text = "", account: CurrentAccount = Applicant
) -> Response:
    try:
        accounts.confirm_phone_otp(session, account_id=account.id, code=code)
    except DomainError as error:
        session.rollback()
        context = {"values": {}, "sent": True}
        if error.code == "otp_invalid":
            error.details = {"fields": [{"field": "code", "message": error.message, "message_en": error.message_en}]}
        return _form_error(request, "registration/phone.html", error, context)
    return RedirectResponse(_after("telepon"), status_code=303)


# --- ability test -----------------------------------------------------------------------------------------------


@router.get("/tes/{wave_ref}")
def ability_test(request: Request, session: DbSession, wave_ref: str, account: CurrentAccount = Applicant) -> Response:
    attempt = ability.current_attempt(session, account_id=account.id, wave_ref=wave_ref[:64])
    return render(request, "registration/ability.html", _ability_context(attempt, wave_ref[:64]))


def _ability_context(attempt: Any, wave_ref: str) -> dict[str, Any]:
    items = [itembank.BY_ID[i] for i in attempt.item_ids] if attempt is not None else []
    return {"attempt": attempt, "items": items, "wave_ref": wave_ref, "minutes": int(itembank.TIME_LIMIT.seconds / 60)}


@router.post("/tes/{wave_ref}/mulai", dependencies=[Csrf])
def ability_start(request: Request, session: DbSession, wave_ref: str, account: CurrentAccount = Applicant) -> Response:
    ability.start(session, account_id=account.id, wave_ref=wave_ref[:64])
    return RedirectResponse(f"/tes/{wave_ref[:64]}", status_code=303)


@router.post("/tes/{wave_ref}/kirim", dependencies=[Csrf])
async def ability_submit(request: Request, wave_ref: str, account: CurrentAccount = Applicant) -> Response:
    form = await request.form()
    answers = {k[2:]: int(v) for k, v in form.items() if k.startswith("q_") and isinstance(v, str) and v.isdigit()}

    def save() -> None:
        with unit_of_work() as session:  # async route (form parsing): the boundary is opened here
            ability.submit(session, account_id=account.id, wave_ref=wave_ref[:64], answers=answers)

    await run_in_threadpool(save)
    return RedirectResponse(f"/tes/{wave_ref[:64]}", status_code=303)


# --- PMO --------------------------------------------------------------------------------------------------------


@router.get("/pmo/pendaftar")
def pmo_search_form(request: Request, account: CurrentAccount = Officer) -> Response:
    return render(request, "registration/pmo_search.html", {"errors": {}})


@router.post("/pmo/pendaftar", dependencies=[Csrf])
def pmo_search(request: Request, session: DbSession, nik: Text = "", account: CurrentAccount = Officer) -> Response:
    """The NIK travels in the form body, never in a URL."""
    try:
        applicant_id = officers.find_by_nik(session, nik=nik, actor=account.actor)
    except DomainError as error:
        return _form_error(request, "registration/pmo_search.html", error, {})
    return RedirectResponse(f"/pmo/pendaftar/{applicant_id}", status_code=303)


@router.get("/pmo/pendaftar/{applicant_id}")
def pmo_applicant(
    request: Request, session: DbSession, applicant_id: str, account: CurrentAccount = Officer
) -> Response:
    parsed = parse_id(applicant_id)
    if parsed is None:
        raise _not_found()
    view = officers.view(session, applicant_id=parsed, actor=account.actor)
    decisions = eligibility.decisions_for(session, parsed)
    status_text, _ = _status_for(view.identity_status)
    return render(
        request,
        "registration/pmo_applicant.html",
        {"view": view, "decisions": decisions, "status_text": status_text},
    )


def _status_for(status: str) -> tuple[str, str]:
    message_id, message_en, fix = STATUS_TEXT[IdentityStatus(status)]
    return _pick(message_id, message_en), fix


@router.post("/pmo/pendaftar/{applicant_id}/periksa-ulang", dependencies=[Csrf])
def pmo_recheck(
    request: Request, session: DbSession, applicant_id: uuid.UUID, reason: Text = "", account: CurrentAccount = Officer
) -> Response:
    officers.request_recheck(session, applicant_id=applicant_id, actor=account.actor, reason=reason)
    return RedirectResponse(f"/pmo/pendaftar/{applicant_id}", status_code=303)


@router.get("/pmo/tanda")
def pmo_flags(request: Request, session: DbSession, account: CurrentAccount = Officer) -> Response:
    return render(request, "registration/pmo_flags.html", {"flags": integrity.open_flags(session)})


@router.post("/pmo/tanda/{flag_id}/tinjau", dependencies=[Csrf])
def pmo_review_flag(
    request: Request, session: DbSession, flag_id: uuid.UUID, note: Text = "", account: CurrentAccount = Officer
) -> Response:
    integrity.review_flag(session, flag_id=flag_id, actor=account.actor, note=note)
    return RedirectResponse("/pmo/tanda", status_code=303)


@router.get("/pmo/daftar-pengecualian")
def pmo_lists(request: Request, session: DbSession, account: CurrentAccount = Admin) -> Response:
    return render(request, "registration/pmo_lists.html", _lists_context(session))


def _lists_context(session: Any) -> dict[str, Any]:
    return {
        "imports": lists.recent_imports(session),
        "types": [*EXCLUSION_TYPES, *WHITELIST_TYPES],
        "errors": {},
        "result": None,
    }


@router.post("/pmo/daftar-pengecualian", dependencies=[Csrf])
def pmo_lists_import(
    request: Request,
    session: DbSession,
    file: Annotated[UploadFile, File()],
    list_type: Text = "",
    source: Text = "",
    as_of: Text = "",
    mode: Text = "merge",
    account: CurrentAccount = Admin,
) -> Response:
    import datetime

    try:
        try:
            day = datetime.date.fromisoformat(as_of)
        except ValueError:
            raise DomainError(
                "Tanggal data tidak valid.",
                "The as-of date is not valid.",
                code="as_of_invalid",
                status_code=422,
                details={"field": "as_of"},
            ) from None
        result = lists.import_list(
            session,
            data=lists.read_upload(file.file),
            filename=file.filename or "",
            list_type=list_type,
            source=source,
            as_of=day,
            mode=mode,
            actor=account.actor,
            via="web",
        )
    except DomainError as error:
        session.rollback()
        return _form_error(request, "registration/pmo_lists.html", error, _lists_context(session))
    return render(request, "registration/pmo_lists.html", {**_lists_context(session), "result": result})


# --- registrations with the shell -------------------------------------------------------------------------------


def _dashboard_profile(account: CurrentAccount, section: dashboard.Section) -> None:
    with session_factory()() as session:
        applicant = identity.find(session, account.id)
        status_text, _ = _status(applicant)
        next_step = identity.next_step(applicant)
    section.lines = [status_text]
    if next_step is not None:
        section.lines.append(_pick("Profil belum lengkap.", "Your profile is not complete yet."))
    section.link = "/profil"


dashboard.register("profile", _dashboard_profile)
add_link(PmoLink("/pmo/pendaftar", "Cari pendaftar (NIK)", "Find an applicant (NIK)"))
add_link(PmoLink("/pmo/tanda", "Tanda integritas", "Integrity flags"))
add_link(PmoLink("/pmo/daftar-pengecualian", "Daftar pengecualian & prioritas", "Exclusion lists & whitelists"))
