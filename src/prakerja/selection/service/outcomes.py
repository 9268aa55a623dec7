"""Between the draw and the decree, and after it: an officer's disqualification and the family-card (KK) cap applied
to the draw's selected entries (each replaced from its stratum's waitlist in rank order, through :func:`_promote`),
and telling applicants who were not selected. Never commits.

Called through :mod:`prakerja.selection.service` (``disqualify``, ``announce``, ``apply_kk_cap``,
``process_outcomes``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.auth import service as auth
from prakerja.kit.clock import utcnow
from prakerja.notifications import service as notifications
from prakerja.notifications.models import Channel
from prakerja.recipients import service as recipients
from prakerja.registration import service as registration
from prakerja.schemes.rules import load as load_scheme
from prakerja.selection import repository, rules
from prakerja.selection.errors import NotDisqualifiable
from prakerja.selection.models import Result, ResultStatus
from prakerja.waves import service as waves
from prakerja.waves.models import Wave, WaveState

WAITLIST_PAGE = 50
"""Waitlisted entries read (with their family cards) at a time while looking for a replacement."""

CHUNK = 10_000
"""Family cards looked up per query."""

KK_CAP_REASON = "kk_cap"
"""Reason code of a disqualification by the family-card cap (stored with the scheme version)."""


# ---------------------------------------------------------------------------------------------- before the decree


def _promote(replacement: Result, *, replaces_hex: str) -> None:
    """The one promote step: a waitlisted result takes the place of a disqualified entry (named by its hash in hex,
    of which the first 16 characters are kept as the reason). The caller has locked the row."""
    replacement.status = ResultStatus.promoted
    replacement.status_reason = "replaces:" + replaces_hex[:16]


def disqualify(
    session: Session, wave_id: uuid.UUID, entry_hash_hex: str, *, reason: str, actor: audit.Actor
) -> Result | None:
    """A selected person found ineligible before the decree is replaced by the first on the stratum's waitlist.
    Returns the promoted result (None when the waitlist is empty)."""
    wave = waves.get_wave(session, wave_id, lock=True)
    if wave.state is not WaveState.drawn:
        raise NotDisqualifiable(details={"state": wave.state.value})
    try:
        entry_hash = bytes.fromhex(entry_hash_hex)
    except ValueError:
        raise NotDisqualifiable(details={"entry_hash": entry_hash_hex}) from None
    found = repository.result(session, wave.id, entry_hash, lock=True)
    if found is None or found.status not in (ResultStatus.selected, ResultStatus.promoted) or not reason.strip():
        raise NotDisqualifiable(details={"entry_hash": entry_hash_hex})
    found.status = ResultStatus.disqualified
    found.status_reason = reason.strip()[:64]
    promoted = repository.next_on_waitlist(session, wave.id, found.stratum)
    if promoted is not None:
        _promote(promoted, replaces_hex=entry_hash_hex)
    audit.record(
        session,
        actor,
        "selection.disqualified",
        "wave",
        wave.id,
        reason=reason.strip(),
        data={
            "entry_hash": entry_hash_hex,
            "stratum": found.stratum,
            "promoted": promoted.entry_hash.hex() if promoted is not None else None,
            "promoted_rank": promoted.rank if promoted is not None else None,
        },
    )
    return promoted


# ---------------------------------------------------------------------------------------------- family-card cap


def _kk_of(session: Session, applicant_ids: list[uuid.UUID]) -> dict[uuid.UUID, bytes]:
    return {a: s.kk_index for a, s in registration.snapshots(session, applicant_ids).items()}


def _waitlist(session: Session, wave_id: uuid.UUID) -> Callable[[str], Iterator[rules.Seat]]:
    def read(stratum: str) -> Iterator[rules.Seat]:
        after = 0
        while rows := repository.waitlist_page(session, wave_id, stratum, after, WAITLIST_PAGE):
            kks = _kk_of(session, [row[4] for row in rows])
            for entry_hash, _rank, tier, ticket, applicant_id in rows:
                yield rules.Seat(entry_hash, stratum, tier, ticket, kks.get(applicant_id))
            after = rows[-1][1]

    return read


def apply_kk_cap(session: Session, wave: Wave, *, actor: audit.Actor) -> list[rules.KkCapChange]:
    """Bring every family card within the scheme's cap (recipients of earlier waves + places kept in this draw):
    the entries over the cap are disqualified (reason ``kk_cap`` with the scheme version) and replaced from their
    stratum's waitlist in rank order. Each change is audited. Running it again changes nothing. The wave must be
    locked by the caller and drawn."""
    scheme = load_scheme(wave.scheme_name)
    cap = scheme.kk_cap_for_wave(wave.number)
    if cap is None:
        return []
    held = repository.seats(session, wave.id)
    kks = _kk_of(session, [row[5] for row in held])
    seats = [
        rules.Seat(entry_hash, stratum, tier, ticket, kks.get(applicant_id), status is ResultStatus.promoted)
        for entry_hash, stratum, tier, ticket, status, applicant_id in held
    ]
    cards = sorted({s.kk for s in seats if s.kk is not None})
    existing: dict[bytes, int] = {}
    for start in range(0, len(cards), CHUNK):  # bounded IN lists (a wave may select hundreds of thousands)
        existing.update(recipients.recipients_per_kk(session, cards[start : start + CHUNK]))
    changes = rules.plan_kk_cap(seats, cap=cap, existing=existing, waitlist=_waitlist(session, wave.id))
    version = f"{scheme.name}@{scheme.version}"
    promoted_for = {c.replaces: c for c in changes if c.action == "promoted" and c.replaces is not None}
    for change in changes:
        found = repository.result(session, wave.id, change.entry_hash, lock=True)
        assert found is not None
        if change.action == "promoted":
            _promote(found, replaces_hex=(change.replaces or b"").hex())
            continue
        found.status = ResultStatus.disqualified
        found.status_reason = f"{KK_CAP_REASON}:{version}"[:64]
        replacement = promoted_for.get(change.entry_hash)
        data: dict[str, Any] = {
            "entry_hash": change.entry_hash.hex(),
            "stratum": change.stratum,
            "rule": KK_CAP_REASON,
            "step": change.action,
            "kk_cap": cap,
            "kk_recipients": change.kk_count,
            "scheme_version": version,
            "order": "draw-selected first, then tier, ticket, entry_hash ascending",
        }
        if change.action == "disqualified":
            data["promoted"] = replacement.entry_hash.hex() if replacement else None
        audit.record(session, actor, "selection.disqualified", "wave", wave.id, reason=KK_CAP_REASON, data=data)
    audit.record(
        session,
        actor,
        "selection.kk_cap_applied",
        "wave",
        wave.id,
        data={
            "kk_cap": cap,
            "scheme_version": version,
            "checked": len(seats),
            "disqualified": sum(1 for c in changes if c.action == "disqualified"),
            "passed_over": sum(1 for c in changes if c.action == "passed_over"),
            "promoted": len(promoted_for),
        },
    )
    return changes


# ---------------------------------------------------------------------------------------------- not selected


def not_selected_email(wave_number: int) -> tuple[str, str]:
    """Subject and body: Indonesian first, then the same in English."""
    causes_id = "\n".join(f"- {c}" for c in rules.GENERAL_CAUSES_ID)
    causes_en = "\n".join(f"- {c}" for c in rules.GENERAL_CAUSES_EN)
    body = (
        f"Terima kasih telah bergabung di Gelombang {wave_number}. Mohon maaf, Anda belum terpilih sebagai "
        "penerima Kartu Prakerja. Kemungkinan penyebabnya antara lain:\n"
        f"{causes_id}\n"
        "Data Anda tersimpan: Anda dapat bergabung kembali di gelombang berikutnya tanpa mengisi ulang data.\n"
        "\n"
        "-- English --\n"
        f"Thank you for joining Wave {wave_number}. We are sorry: you were not selected as a Kartu Prakerja "
        "recipient. Possible causes include:\n"
        f"{causes_en}\n"
        "Your data is kept: you can join the next wave without entering it again."
    )
    return f"Hasil seleksi Kartu Prakerja Gelombang {wave_number}", body


def not_selected_sms(wave_number: int) -> str:
    return (
        f"Kartu Prakerja: Anda belum terpilih di Gelombang {wave_number}. Kemungkinan penyebab: "
        f"{rules.GENERAL_CAUSES_SMS_ID}. Gabung lagi di gelombang berikutnya tanpa isi ulang data; cek dasbor. "
        f"EN: not selected in Wave {wave_number}. Possible causes: {rules.GENERAL_CAUSES_SMS_EN}. "
        "Join the next wave; see your dashboard."
    )


def notify_not_selected(session: Session, wave: Wave, account_id: uuid.UUID) -> None:
    """E-mail and SMS (to the verified phone) with the general causes and an invitation to the next wave; the
    dashboard shows the same (:func:`prakerja.selection.service.dashboard_lines`)."""
    account = auth.get_account(session, account_id)
    if account is None:
        return
    subject, body = not_selected_email(wave.number)
    notifications.queue_message(
        session, channel=Channel.email, recipient=account.email, subject=subject, body=body, account_id=account.id
    )
    profile = registration.identity.find(session, account_id)
    if profile is not None and profile.phone and profile.phone_verified_at is not None:
        notifications.queue_message(
            session,
            channel=Channel.sms,
            recipient=profile.phone,
            subject="Kartu Prakerja: belum terpilih",
            body=not_selected_sms(wave.number),
            account_id=account.id,
        )


def tell_ineligible(session: Session, wave: Wave, *, batch: int) -> int:
    """Applicants found ineligible when the wave closed were not in the draw: they are told "not selected" with
    the same general causes (never the specific rule). Locked and marked in the caller's transaction."""
    items = waves.untold_ineligible(session, wave.id, batch)
    for _entry_id, account_id in items:
        notify_not_selected(session, wave, account_id)
    waves.mark_told(session, [entry_id for entry_id, _ in items], utcnow())
    return len(items)
