"""Wave pages: the PMO's wave list and wave page (quotas, open, close), and the applicant's join page."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile as StarletteUpload

from prakerja.auth import service as auth
from prakerja.auth.models import PMO_ROLES, Role
from prakerja.auth.service import CurrentAccount
from prakerja.kit.clock import JAKARTA
from prakerja.kit.digits import is_ascii_number
from prakerja.kit.errors import DomainError, InvalidInput, Problem, one_field
from prakerja.registration import service as registration
from prakerja.schemes.rules import available
from prakerja.waves import rules, service
from prakerja.waves.errors import EmailNotVerified, NotEligible, WaveNotFound
from prakerja.waves.models import StratumLevel, Wave, WaveState
from prakerja.web.deps import Csrf, DbSession, require_role
from prakerja.web.forms import form_error, pick
from prakerja.web.i18n import current_language
from prakerja.web.pmo import PmoLink, add_link
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)

add_link(PmoLink("/pmo/gelombang", "Gelombang, kuota & undian", "Waves, quotas & lottery"))
add_link(PmoLink("/pmo/daftar-wilayah", "Daftar wilayah prioritas", "Priority region lists"))
add_link(PmoLink("/undian", "Hasil undian (publik)", "Lottery results (public)"))

PmoAdmin = Annotated[CurrentAccount, Depends(require_role(Role.pmo_admin))]
PmoStaff = Annotated[CurrentAccount, Depends(require_role(*PMO_ROLES))]
Applicant = Annotated[CurrentAccount, Depends(require_role(Role.applicant))]


def _message(error: DomainError) -> str:
    return error.message if current_language.get() == "id" else error.message_en


def _parse_id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise WaveNotFound() from None


def _list_context(session: Session, account: CurrentAccount, values: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "waves": service.list_waves(session),
        "schemes": available(),
        "levels": list(StratumLevel),
        "can_edit": account.role is Role.pmo_admin,
        "values": values or {},
        "errors": {},
        "error": None,
    }


@router.get("/pmo/gelombang")
def wave_list(request: Request, session: DbSession, account: PmoStaff) -> Response:
    return render(request, "waves/pmo_list.html", _list_context(session, account))


def _local_time(field_name: str, value: str) -> datetime:
    """A ``datetime-local`` value, read as Jakarta time."""
    try:
        return datetime.fromisoformat(value).replace(tzinfo=JAKARTA)
    except ValueError:
        raise one_field(
            field_name,
            "time_invalid",
            "Isi tanggal dan jam (WIB).",
            "Enter a date and time (WIB).",
        ) from None


@router.post("/pmo/gelombang", dependencies=[Csrf])
def wave_create(
    request: Request,
    session: DbSession,
    account: PmoAdmin,
    title: Annotated[str, Form(max_length=200)] = "",
    scheme: Annotated[str, Form(max_length=64)] = "",
    opens_at: Annotated[str, Form(max_length=32)] = "",
    closes_at: Annotated[str, Form(max_length=32)] = "",
    total_quota: Annotated[str, Form(max_length=16)] = "",
    stratum_level: Annotated[str, Form(max_length=16)] = "regency",
) -> Response:
    """A refused form comes back with everything typed and a message next to each wrong field."""
    values = {
        "title": title,
        "scheme": scheme,
        "opens_at": opens_at,
        "closes_at": closes_at,
        "total_quota": total_quota,
        "stratum_level": stratum_level,
    }
    try:
        problems = []
        if not title.strip():
            problems.append(Problem("title", "title_missing", "Beri gelombang judul.", "Give the wave a title."))
        if not total_quota.strip().isdigit():
            problems.append(
                Problem(
                    "total_quota",
                    "total_quota_invalid",
                    "Kuota total harus bilangan bulat, 0 atau lebih.",
                    "The total quota must be a whole number, 0 or more.",
                )
            )
        for name, value in (("opens_at", opens_at), ("closes_at", closes_at)):
            try:
                _local_time(name, value)
            except DomainError as error:
                problems.append(Problem(name, error.code, error.message, error.message_en))
        if problems:
            raise InvalidInput(problems, code="wave_invalid")
        wave = service.create_wave(
            session,
            title=title,
            scheme=scheme,
            opens_at=_local_time("opens_at", opens_at),
            closes_at=_local_time("closes_at", closes_at),
            total_quota=int(total_quota),
            stratum_level=StratumLevel.province if stratum_level == "province" else StratumLevel.regency,
            actor=account.actor,
        )
    except DomainError as error:
        return form_error(request, session, "waves/pmo_list.html", error, lambda s: _list_context(s, account, values))
    return RedirectResponse(f"/pmo/gelombang/{wave.id}", status_code=303)


def _wave_context(session: Session, account: CurrentAccount, wave_id: uuid.UUID) -> dict[str, Any]:
    wave = service.get_wave(session, wave_id)
    return {
        "wave": wave,
        "quotas": service.quotas(session, wave.id),
        "can_edit": account.role is Role.pmo_admin,
        "problems": [],
        "errors": {},
        "error": None,
    }


def _wave_refused(
    request: Request, session: DbSession, account: CurrentAccount, wave_id: uuid.UUID, error: DomainError
) -> Response:
    def context(s: Session) -> dict[str, Any]:
        return {**_wave_context(s, account, wave_id), "problems": error.details.get("problems", [])}

    return form_error(request, session, "waves/pmo_wave.html", error, context)


@router.get("/pmo/gelombang/{wave_id}")
def wave_page(request: Request, session: DbSession, account: PmoStaff, wave_id: str) -> Response:
    return render(request, "waves/pmo_wave.html", _wave_context(session, account, _parse_id(wave_id)))


@router.post("/pmo/gelombang/{wave_id}/kuota", dependencies=[Csrf])
async def wave_quotas(
    request: Request,
    session: DbSession,
    account: PmoAdmin,
    wave_id: str,
    method: Annotated[str, Form(max_length=16)] = "csv",
    upload: Annotated[UploadFile | None, File()] = None,
) -> Response:
    parsed = _parse_id(wave_id)
    content = (await upload.read()).decode("utf-8", errors="replace") if upload is not None else ""
    try:
        if method == "applicants":
            service.set_quotas_by_applicants(session, parsed, actor=account.actor)
        elif method == "labour_force":
            service.set_quotas_by_labour_force(session, parsed, content, actor=account.actor)
        else:
            service.set_quotas_from_csv(session, parsed, content, actor=account.actor)
    except DomainError as error:
        return _wave_refused(request, session, account, parsed, error)
    return RedirectResponse(f"/pmo/gelombang/{parsed}", status_code=303)


CONFIRMATIONS = {"buka": WaveState.draft, "tutup": WaveState.open}
"""The wave actions that ask first (GET shows what will happen, the page's button POSTs), by the stage they need."""


@router.get("/pmo/gelombang/{wave_id}/buka")
@router.get("/pmo/gelombang/{wave_id}/tutup")
def wave_confirm(request: Request, session: DbSession, account: PmoAdmin, wave_id: str) -> Response:
    action = request.url.path.rsplit("/", 1)[1]
    context = _wave_context(session, account, _parse_id(wave_id))
    return render(request, "waves/pmo_confirm.html", {**context, "action": action, "needed": CONFIRMATIONS[action]})


# ---------------------------------------------------------------------------------------------- applicants


REASONS = {
    "age_below_min": ("Usia Anda di bawah batas minimum skema ini.", "You are below the scheme's minimum age."),
    "age_above_max": ("Usia Anda di atas batas maksimum skema ini.", "You are above the scheme's maximum age."),
    "not_citizen": ("Program ini hanya untuk warga negara Indonesia (WNI).", "The program is for Indonesian citizens."),
    "student": (
        "Anda tercatat sedang menempuh pendidikan formal (sekolah atau kuliah).",
        "You are recorded as in formal education (school or university).",
    ),
    "banned": (
        "NIK Anda ada di daftar pejabat negara, ASN, TNI, Polri, perangkat desa, atau direksi BUMN/BUMD.",
        "Your NIK is on the list of state officials, civil servants, TNI, Polri, village officials or state "
        "enterprise boards.",
    ),
    "other_aid": (
        "NIK Anda tercatat menerima bantuan sosial lain (DTKS, BSU atau BPUM).",
        "Your NIK is recorded as receiving other aid (DTKS, BSU or BPUM).",
    ),
    "kk_cap_reached": (
        "Kartu Keluarga Anda sudah mencapai batas jumlah penerima.",
        "Your family card already has the most recipients allowed.",
    ),
    "past_recipient": ("Anda sudah pernah menerima Kartu Prakerja.", "You have already received Kartu Prakerja."),
    "revoked": ("Kepesertaan Anda pernah dicabut.", "Your membership was revoked."),
    "identity_not_verified": ("Identitas Anda belum terverifikasi.", "Your identity is not verified yet."),
    "profile_incomplete": ("Profil Anda belum lengkap.", "Your profile is not complete."),
}


def _pick(pair: tuple[str, str]) -> str:
    return pair[0] if current_language.get() == "id" else pair[1]


def _reasons(error: DomainError) -> list[str]:
    return [_pick(REASONS.get(code, (code, code))) for code in error.details.get("reasons", [])]


def _join_context(session: DbSession, account: CurrentAccount) -> dict[str, Any]:
    waves = service.open_waves_for(session, account.id)
    zone = registration.localtime.zone_for_account(session, account.id)
    tests = {}
    for wave in waves:
        if service.ability_test_required(wave):
            attempt = registration.ability.current_attempt(
                session, account_id=account.id, wave_ref=service.ability_ref(wave)
            )
            tests[wave.id] = "done" if attempt is not None and attempt.submitted_at is not None else "todo"
    found = auth.get_account(session, account.id)
    return {
        "waves": waves,
        "closes": {w.id: registration.localtime.local(w.closes_at, zone) for w in waves},
        "tests": tests,
        "entries": service.entries_of_account(session, account.id),
        "email_verified": found is not None and found.email_verified_at is not None,
        "reasons": [],
    }


@router.get("/gelombang")
def join_page(request: Request, session: DbSession, account: Applicant) -> Response:
    return render(request, "waves/join.html", _join_context(session, account))


@router.post("/gelombang/{wave_id}/gabung", dependencies=[Csrf])
def join(
    request: Request,
    session: DbSession,
    account: Applicant,
    wave_id: str,
    consent: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    try:
        found = auth.get_account(session, account.id)
        if found is None or found.email_verified_at is None:
            raise EmailNotVerified()
        service.join(session, account_id=account.id, wave_id=_parse_id(wave_id), consent=consent == "yes")
    except DomainError as error:
        if not isinstance(error, NotEligible):
            session.rollback()  # an ineligible join keeps its stored decision: committed with this answer
        return render(
            request,
            "waves/join.html",
            {
                **_join_context(session, account),
                "error": _message(error),
                "error_code": error.code,
                "reasons": _reasons(error),
            },
            status_code=error.status_code,
        )
    return RedirectResponse(f"/gelombang/{_parse_id(wave_id)}/tanda-terima", status_code=303)


@router.get("/gelombang/{wave_id}/tanda-terima")
def receipt_page(request: Request, session: DbSession, account: Applicant, wave_id: str) -> Response:
    receipt = service.receipt_for(session, account_id=account.id, wave_id=_parse_id(wave_id))
    if receipt is None:
        raise WaveNotFound()
    return render(
        request,
        "waves/joined.html",
        {
            "receipt": receipt,
            "secret_groups": _groups(receipt.entry_secret),
            "hash_groups": _groups(receipt.entry_hash),
        },
    )


def _groups(code: str, size: int = 8) -> list[str]:
    """A long hex code in groups of 8, so it wraps on a phone and can be read out and compared."""
    return [code[i : i + size] for i in range(0, len(code), size)]


@router.get("/gelombang/{wave_id}/tanda-terima.txt")
def receipt_download(request: Request, session: DbSession, account: Applicant, wave_id: str) -> Response:
    """The proof of joining as a text file the applicant keeps: the entry secret and the published entry hash."""
    receipt = service.receipt_for(session, account_id=account.id, wave_id=_parse_id(wave_id))
    if receipt is None:
        raise WaveNotFound()
    body = (
        f"Kartu Prakerja - bukti bergabung / proof of joining\n"
        f"Gelombang / wave: {receipt.wave_number} ({receipt.wave_id})\n"
        f"Rahasia entri / entry secret: {receipt.entry_secret}\n"
        f"Hash entri di daftar terbit / entry hash in the published list: {receipt.entry_hash}\n"
        "Simpan berkas ini; jangan bagikan rahasia entri. / Keep this file; do not share the entry secret.\n"
    )
    return PlainTextResponse(
        body,
        headers={
            "Content-Disposition": f'attachment; filename="prakerja-gelombang-{receipt.wave_number}-bukti.txt"',
            "Cache-Control": "no-store",
        },
    )


# ---------------------------------------------------------------------------------------------- priority tiers

MAX_UPLOAD = 1_000_000
"""Bytes read from an uploaded code file (514 regency codes with names fit in 20 kB)."""

_TIER_FIELD = re.compile(r"^tiers\[(\d+)\](?:\.(\w+))?$")


@dataclass
class TierRow:
    """One tier as the form shows it (and as it was submitted, so a refused form keeps what was typed)."""

    index: int
    position: int
    name: str = ""
    whitelist: list[str] = field(default_factory=list)
    region_list: str = ""
    regencies: str = ""
    remove: bool = False
    errors: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def used(self) -> bool:
        return not self.remove and bool(self.name or self.whitelist or self.region_list or self.regencies.strip())


def _rows_of(wave: Wave) -> list[TierRow]:
    rows = []
    for i, tier in enumerate(wave.priority_tiers):
        frozen = tier.get("region_list")
        rows.append(
            TierRow(
                index=i,
                position=i + 1,
                name=str(tier.get("name", "")),
                whitelist=list(tier.get("whitelist_types", [])),
                region_list=str(frozen.get("name", "")) if isinstance(frozen, dict) else "",
                regencies=" ".join(tier.get("regencies", [])),
            )
        )
    return rows + [TierRow(index=len(rows) + k, position=len(rows) + k + 1) for k in range(2)]


def _tiers_context(
    session: Session,
    account: CurrentAccount,
    wave: Wave,
    rows: list[TierRow],
    *,
    error: DomainError | None = None,
    general: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    return {
        "wave": wave,
        "rows": rows,
        "lists": service.list_region_lists(session),
        "whitelist_types": service.whitelist_types(),
        "editable": wave.state in (WaveState.draft, WaveState.open) and account.role is Role.pmo_admin,
        "error": None,
        "error_code": error.code if error else None,
        "general": general or [],
    }


@router.get("/pmo/gelombang/{wave_id}/prioritas")
def tiers_page(request: Request, session: DbSession, account: PmoStaff, wave_id: str) -> Response:
    wave = service.get_wave(session, _parse_id(wave_id))
    return render(request, "waves/pmo_tiers.html", _tiers_context(session, account, wave, _rows_of(wave)))


async def _read_upload(value: Any) -> str:
    if not isinstance(value, StarletteUpload) or not value.filename:
        return ""
    raw = await value.read(MAX_UPLOAD + 1)
    return raw[:MAX_UPLOAD].decode("utf-8", errors="replace")


def _int(value: Any, default: int) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        return default


@router.post("/pmo/gelombang/{wave_id}/prioritas", dependencies=[Csrf])
async def tiers_save(request: Request, session: DbSession, account: PmoAdmin, wave_id: str) -> Response:
    """The whole ordered list at once: rows are kept in the order of their position numbers; a removed or empty
    row is dropped; codes come from the text box and the uploaded file. Nothing changes on any problem."""
    parsed = _parse_id(wave_id)
    form = await request.form()
    # the form's rows: a few more than the service accepts as tiers, so an extra row is refused with a message
    count = min(_int(form.get("rows"), 0), rules.MAX_TIERS + 2)
    rows: list[TierRow] = []
    for i in range(max(count, 0)):
        pasted = str(form.get(f"regencies_{i}") or "")
        uploaded = await _read_upload(form.get(f"file_{i}"))
        codes = service.region_codes_from_text(pasted) + service.region_codes_from_text(uploaded)
        rows.append(
            TierRow(
                index=i,
                position=_int(form.get(f"position_{i}"), i + 1),
                name=str(form.get(f"name_{i}") or "").strip()[:200],
                whitelist=[str(v) for v in form.getlist(f"whitelist_{i}")][:20],
                region_list=str(form.get(f"region_list_{i}") or "").strip()[:64],
                regencies=" ".join(codes) if uploaded else pasted.strip(),
                remove=form.get(f"remove_{i}") == "yes",
            )
        )
    ordered = sorted((r for r in rows if r.used), key=lambda r: (r.position, r.index))
    data = [
        {
            "name": r.name,
            "whitelist_types": r.whitelist,
            "regencies": service.region_codes_from_text(r.regencies),
            "region_list": r.region_list or None,
        }
        for r in ordered
    ]
    try:
        service.set_priority_tiers(session, parsed, data, actor=account.actor)
    except DomainError as error:
        session.rollback()  # before reading the wave again for the page
        general = []
        for problem in error.details.get("fields", []):
            found = _TIER_FIELD.match(str(problem.get("field", "")))
            if found is None or int(found.group(1)) >= len(ordered):
                general.append(problem)
                continue
            ordered[int(found.group(1))].errors.setdefault(found.group(2) or "row", []).append(problem)
        wave = service.get_wave(session, parsed)
        context = _tiers_context(session, account, wave, rows, error=error, general=general)
        return form_error(request, None, "waves/pmo_tiers.html", error, context)
    return RedirectResponse(f"/pmo/gelombang/{parsed}/prioritas", status_code=303)


# ---------------------------------------------------------------------------------------------- region lists


def _lists_context(
    session: Session,
    account: CurrentAccount,
    *,
    values: dict[str, str] | None = None,
    error: DomainError | None = None,
    imported: str | None = None,
) -> dict[str, Any]:
    field_problems: dict[str, list[dict[str, Any]]] = {}
    if error is not None:
        for problem in error.details.get("fields", []):
            field_problems.setdefault(str(problem.get("field", "file")), []).append(problem)
        if not field_problems:
            field_problems["name"] = [{"code": error.code, "problem": _message(error)}]
    return {
        "lists": service.list_region_lists(session),
        "values": values or {},
        "field_problems": field_problems,
        "error": None,
        "error_code": error.code if error else None,
        "imported": imported,
        "can_edit": account.role is Role.pmo_admin,
    }


@router.get("/pmo/daftar-wilayah")
def region_lists(request: Request, session: DbSession, account: PmoStaff, imported: str | None = None) -> Response:
    return render(request, "waves/pmo_region_lists.html", _lists_context(session, account, imported=imported))


@router.post("/pmo/daftar-wilayah", dependencies=[Csrf])
async def region_list_import(request: Request, session: DbSession, account: PmoAdmin) -> Response:
    form = await request.form()
    values = {key: str(form.get(key) or "").strip() for key in ("name", "source", "as_of", "codes")}
    values["name"] = values["name"][:64]
    values["source"] = values["source"][:500]
    content = await _read_upload(form.get("file")) + "\n" + values["codes"]  # a file's header line comes first
    try:
        as_of = date.fromisoformat(values["as_of"]) if values["as_of"] else None
    except ValueError:
        as_of = None
    try:
        imported = service.import_region_list(
            session, name=values["name"], content=content, source=values["source"], as_of=as_of, actor=account.actor
        )
    except DomainError as error:
        refused = error
        return form_error(
            request,
            session,
            "waves/pmo_region_lists.html",
            refused,
            lambda s: _lists_context(s, account, values=values, error=refused),
        )
    return RedirectResponse(f"/pmo/daftar-wilayah?imported={imported.name}", status_code=303)


# Last: the catch-all action route must not shadow the more specific POST routes above.
@router.post("/pmo/gelombang/{wave_id}/{action}", dependencies=[Csrf])
def wave_action(request: Request, session: DbSession, account: PmoAdmin, wave_id: str, action: str) -> Response:
    parsed = _parse_id(wave_id)
    try:
        if action == "buka":
            service.open_wave(session, parsed, actor=account.actor)
        elif action == "tutup":
            service.close_wave(session, parsed, actor=account.actor)
        else:
            raise WaveNotFound()
    except DomainError as error:
        return _wave_refused(request, session, account, parsed, error)
    return RedirectResponse(f"/pmo/gelombang/{parsed}", status_code=303)


# ---------------------------------------------------------------------------------------------- ability test
# The basic ability and motivation test of a wave: the items and scoring are registration's (the applicant's
# record); who may take it for which wave is this domain's (``service.ability_wave_check``).

APPLICANT = Depends(require_role(Role.applicant))

BANDS = (
    (80, ("Sangat baik", "Very good")),
    (60, ("Baik", "Good")),
    (40, ("Cukup", "Fair")),
    (0, ("Perlu latihan", "Needs practice")),
)
"""What a total score (0-100) means, in words."""


def _context(session: Session, account: CurrentAccount, attempt: Any, wave_ref: str) -> dict[str, Any]:
    items = registration.ability.items(attempt)
    zone = registration.localtime.zone_for_account(session, account.id)
    score = attempt.score_total if attempt is not None else None
    band = next((pick(*words) for floor, words in BANDS if score is not None and score >= floor), "")
    return {
        "attempt": attempt,
        "items": items,
        "wave_ref": wave_ref,
        "minutes": registration.ability.time_limit_minutes(),
        "deadline": registration.localtime.local(attempt.deadline_at, zone) if attempt is not None else "",
        "band": band,
    }


@router.get("/tes/{wave_ref}")
def ability_test(request: Request, session: DbSession, wave_ref: str, account: CurrentAccount = APPLICANT) -> Response:
    attempt = registration.ability.current_attempt(session, account_id=account.id, wave_ref=wave_ref[:64])
    if attempt is None:  # nothing started: only a wave the applicant may take the test for
        wave_ref = service.ability_wave_check(session, account.id, wave_ref[:64])
        attempt = registration.ability.current_attempt(session, account_id=account.id, wave_ref=wave_ref)
    return render(request, "waves/ability.html", _context(session, account, attempt, wave_ref[:64]))


@router.post("/tes/{wave_ref}/mulai", dependencies=[Csrf])
def ability_start(request: Request, session: DbSession, wave_ref: str, account: CurrentAccount = APPLICANT) -> Response:
    attempt = registration.ability.start(
        session, account_id=account.id, wave_ref=wave_ref[:64], check_wave=service.ability_wave_check
    )
    return RedirectResponse(f"/tes/{attempt.wave_ref}", status_code=303)


@router.post("/tes/{wave_ref}/kirim", dependencies=[Csrf])
async def ability_submit(
    request: Request, session: DbSession, wave_ref: str, account: CurrentAccount = APPLICANT
) -> Response:
    """Async to read the form; the answers are saved in a worker thread on the request's session."""
    form = await request.form()
    answers = {
        k[2:]: int(v) for k, v in form.items() if k.startswith("q_") and isinstance(v, str) and is_ascii_number(v)
    }

    def save(session: Session) -> None:
        registration.ability.submit(session, account_id=account.id, wave_ref=wave_ref[:64], answers=answers)

    await run_in_threadpool(save, session)
    return RedirectResponse(f"/tes/{wave_ref[:64]}", status_code=303)
