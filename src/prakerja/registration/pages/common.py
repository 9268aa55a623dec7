"""What the registration pages share: role guards, the identity status in plain words, step and choice titles."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Form, Request

from prakerja.auth.models import PMO_ROLES, Role
from prakerja.kit.errors import DomainError
from prakerja.registration.models import IdentityStatus
from prakerja.web.deps import client_ip, device_id, require_role
from prakerja.web.forms import pick

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


def status_text(status: str) -> tuple[str, str]:
    """The identity status in the reader's language, and the wizard step that fixes it ("" when none does)."""
    message_id, message_en, fix = STATUS_TEXT[IdentityStatus(status)]
    return pick(message_id, message_en), fix


def applicant_status(applicant: Any) -> tuple[str, str]:
    return status_text(applicant.identity_status if applicant else "unsubmitted")


def not_found() -> DomainError:
    return DomainError("Halaman tidak ditemukan.", "Page not found.", code="not_found", status_code=404)


def signals(request: Request) -> dict[str, str | None]:
    """The IP and the device cookie a form was sent from (integrity signals, stored as blind indexes only)."""
    return {"ip": client_ip(request), "device": device_id(request)}
