"""The profile wizard: one question group per page, the phone confirmed by SMS code, the KTP photo."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from prakerja.auth import service as auth
from prakerja.auth.service import CurrentAccount
from prakerja.kit.errors import DomainError
from prakerja.notifications import service as notifications
from prakerja.registration.errors import OtpInvalid
from prakerja.registration.pages.common import Applicant, Text, applicant_status, not_found, signals
from prakerja.registration.rules import regions
from prakerja.registration.rules.uploads import MAX_BYTES
from prakerja.registration.service import identity, localtime
from prakerja.registration.service import phone as phone_service
from prakerja.web import dashboard
from prakerja.web.deps import Csrf, DbSession
from prakerja.web.forms import form_error, pick
from prakerja.web.limits import count_attempt, count_failure
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)

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
        "step_titles": {k: pick(*v) for k, v in STEP_TITLES.items()},
        "choice_titles": {k: pick(*v) for k, v in CHOICE_TITLES.items()},
    }


# --- how each step's form becomes a service call ----------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    """One step's form as sent: its text fields and, on the photo step, the file's bytes."""

    form: Mapping[str, str]
    photo: bytes | None = None


Reader = Callable[[Submitted], Any]


def text(name: str) -> Reader:
    return lambda sent: sent.form.get(name, "")


def ticked(name: str) -> Reader:
    """A checkbox ticked ("ya"); unticked is no."""
    return lambda sent: sent.form.get(name, "") == "ya"


def answered(name: str) -> Reader:
    """A yes/no question: True, False, or None when unanswered (the service refuses None)."""
    return lambda sent: {"ya": True, "tidak": False}.get(sent.form.get(name, ""))


def unless_no(name: str) -> Reader:
    """A yes/no question whose default is yes: only "tidak" says no."""
    return lambda sent: sent.form.get(name, "ya") != "tidak"


@dataclass(frozen=True)
class Step:
    """A wizard step: the service function that saves it and where each of its arguments comes from."""

    save: Callable[..., object]
    arguments: dict[str, Reader]
    with_signals: bool = False
    """Whether the IP and device the form came from are kept (integrity signals)."""


STEP_SAVES: dict[str, Step] = {
    "identitas": Step(
        identity.save_identity,
        {"nik": text("nik"), "kk": text("kk"), "birth_date": text("birth_date"), "sex": text("sex")},
        with_signals=True,
    ),
    "nama": Step(
        identity.save_names,
        {"full_name": text("full_name"), "mother_maiden_name": text("mother_maiden_name")},
        with_signals=True,
    ),
    "alamat": Step(
        identity.save_address,
        {
            "ktp_address": text("ktp_address"),
            "domicile_address": text("domicile_address"),
            "domicile_district": text("domicile_district"),
            "ktp_district": text("ktp_district"),
            "domicile_same_as_ktp": unless_no("domicile_same"),
        },
    ),
    "latar": Step(
        identity.save_background,
        {
            "education": text("education"),
            "job_status": text("job_status"),
            "has_disability": answered("has_disability"),
            "former_migrant_worker": answered("former_migrant_worker"),
            "is_citizen": answered("is_citizen"),
            "declared_student": answered("declared_student"),
        },
    ),
    "foto": Step(identity.save_photo, {"data": lambda sent: sent.photo or b""}),
    "pernyataan": Step(identity.declare, {"declaration": ticked("declaration"), "consent": ticked("consent")}),
}
"""Every step saved by ``POST /profil/{step}``; the phone step has its own routes (send a code, confirm it)."""


# --- pages ------------------------------------------------------------------------------------------------------


@router.get("/profil")
def profile(request: Request, session: DbSession, account: CurrentAccount = Applicant) -> Response:
    applicant = identity.find(session, account.id)
    status_text, fix_step = applicant_status(applicant)
    steps = [(s, identity.step_done(applicant, s)) for s in identity.STEPS]
    progress = identity.check_progress(session, applicant) if applicant is not None else None
    if progress is not None and progress.last_error and progress.next_try_at is not None:
        zone = localtime.zone_for_account(session, account.id)
        status_text = pick(
            "Data Dukcapil sedang tidak dapat dihubungi, jadi identitas Anda belum bisa dicocokkan. Kami mencoba "
            f"lagi otomatis (sudah {progress.attempts} kali); percobaan berikutnya paling lambat pukul "
            f"{localtime.local(progress.next_try_at, zone)}. Anda tidak perlu mengirim ulang apa pun.",
            "The civil registry cannot be reached right now, so your identity is not checked yet. We try again "
            f"automatically ({progress.attempts} tries so far); the next try is at the latest at "
            f"{localtime.local(progress.next_try_at, zone)}. You do not need to send anything again.",
        )
    found = auth.get_account(session, account.id)
    return render(
        request,
        "registration/profile.html",
        {
            "registry_waiting": progress is not None and progress.last_error is not None,
            "email_verified": found is not None and found.email_verified_at is not None,
            "email_masked": _masked_email(found.email) if found is not None else "",
            "dev_mailbox": notifications.dev_mailbox_enabled(),
            "steps": steps,
            "next_step": identity.next_step(applicant),
            "status": applicant.identity_status if applicant else "unsubmitted",
            "status_text": status_text,
            "fix_step": fix_step,
            "complete": applicant is not None and applicant.declared_at is not None,
            **_titles(),
        },
    )


def _masked_email(email: str) -> str:
    """``ag***@example.org``: enough for the person to recognise their address."""
    name, _, domain = email.partition("@")
    return f"{name[:2]}***@{domain}"


def _step_context(
    session: Session,
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


@router.get("/profil/{step}")
def step_form(request: Request, session: DbSession, step: str, account: CurrentAccount = Applicant) -> Response:
    if step not in identity.STEPS:
        raise not_found()
    if step == "telepon":
        return render(request, "registration/phone.html", _phone_context(session, account))
    return render(request, "registration/step.html", _step_context(session, account, step, request))


@router.post("/profil/{step}", dependencies=[Csrf])
async def step_save(request: Request, session: DbSession, step: str, account: CurrentAccount = Applicant) -> Response:
    """Async to read the multipart form (and the photo) without a worker thread; the saving runs in one."""
    if step not in STEP_SAVES:
        raise not_found()
    form = await request.form()
    photo: bytes | None = None
    if step == "foto":
        upload = form.get("ktp_photo")
        photo = await upload.read(MAX_BYTES + 1) if isinstance(upload, StarletteUpload) else b""
    values = {k: v[:2000] for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    return await run_in_threadpool(_save_step, request, session, step, account, Submitted(values, photo))


def _save_step(request: Request, session: Session, step: str, account: CurrentAccount, sent: Submitted) -> Response:
    """On the request's session: committed by the boundary when this returns, rolled back on a refusal."""
    saving = STEP_SAVES[step]
    arguments = {name: read(sent) for name, read in saving.arguments.items()}
    if saving.with_signals:
        arguments.update(signals(request))
    try:
        saving.save(session, account_id=account.id, **arguments)
    except DomainError as error:

        def context(session: Session) -> dict[str, Any]:
            found = _step_context(
                session,
                account,
                step,
                request,
                sent.form.get("ktp_district", "")[:6],
                sent.form.get("domicile_district", "")[:6],
            )
            # everything typed comes back, the NIK and KK too: 32 digits are not retyped for a wrong birth date
            found["values"].update(sent.form)
            return found

        return form_error(request, session, "registration/step.html", error, context)
    return RedirectResponse(_after(step), status_code=303)


# --- the phone step ---------------------------------------------------------------------------------------------


def _phone_context(session: Session, account: CurrentAccount, typed: str | None = None) -> dict[str, Any]:
    """The step as it stands: the number the live code went to (where, until when), or the lock and its end."""
    state = phone_service.phone_step(session, account_id=account.id)
    zone = localtime.zone_for_account(session, account.id)

    def when(moment: datetime | None) -> str:
        return localtime.local(moment, zone) if moment is not None else ""

    return {
        "values": {"phone": typed if typed is not None else state.phone},
        "errors": {},
        "sent": state.code_live,
        "sent_to": state.phone[-4:] if state.code_live else "",
        "expires": when(state.code_expires_at),
        "send_locked_until": when(state.send_locked_until),
        "check_locked_until": when(state.check_locked_until),
        "dev_mailbox": notifications.dev_mailbox_enabled(),
    }


@router.post("/profil/telepon/kirim", dependencies=[Csrf])
def phone_send(request: Request, session: DbSession, phone: Text = "", account: CurrentAccount = Applicant) -> Response:
    try:
        checked = phone_service.check_phone(session, account_id=account.id, phone=phone)
        count_attempt(phone_service.SEND_LIMIT, str(account.id))
        phone_service.send_phone_otp(session, account_id=account.id, phone=checked)
    except DomainError as error:
        return form_error(
            request, session, "registration/phone.html", error, lambda s: _phone_context(s, account, phone)
        )
    return RedirectResponse("/profil/telepon", status_code=303)


@router.post("/profil/telepon/kode", dependencies=[Csrf])
def phone_confirm(
    request: Request, session: DbSession, code: Text = "", account: CurrentAccount = Applicant
) -> Response:
    try:
        phone_service.confirm_phone_otp(session, account_id=account.id, code=code)
    except DomainError as error:
        if isinstance(error, OtpInvalid):
            count_failure(phone_service.CHECK_LIMIT, str(account.id))
            error.details = {"fields": [{"field": "code", "message": error.message, "message_en": error.message_en}]}
        return form_error(request, session, "registration/phone.html", error, lambda s: _phone_context(s, account))
    return RedirectResponse(_after("telepon"), status_code=303)


# --- the applicant's dashboard ----------------------------------------------------------------------------------


def _dashboard_profile(session: Session, account: CurrentAccount, section: dashboard.Section) -> None:
    applicant = identity.find(session, account.id)
    status_text, _ = applicant_status(applicant)
    next_step = identity.next_step(applicant)
    section.lines = [status_text]
    if next_step is not None:
        title = pick(*STEP_TITLES[next_step])
        section.lines.append(
            pick(f"Profil belum lengkap: langkah berikutnya {title}.", f"Your profile is not complete: next, {title}.")
        )
    else:
        section.lines.append(pick("Profil lengkap.", "Profile complete."))
    section.link = "/profil"


dashboard.register("profile", _dashboard_profile)
