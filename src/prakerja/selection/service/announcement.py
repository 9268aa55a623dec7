"""The announcement and what follows it: the results published, then every applicant told their outcome in
batches (recipients get a card, a funded balance and a deadline). Never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.auth import service as auth
from prakerja.jobs import enqueue
from prakerja.kit.clock import JAKARTA, clock, utcnow
from prakerja.kit.errors import Conflict
from prakerja.ledger import service as ledger
from prakerja.ledger.models import LedgerCode
from prakerja.notifications import service as notifications
from prakerja.notifications.models import Channel
from prakerja.recipients import service as recipients
from prakerja.recipients.models import Recipient
from prakerja.registration import service as registration
from prakerja.schemes.rules import load as load_scheme
from prakerja.selection import repository, rules
from prakerja.selection.errors import (
    BudgetInsufficient,
    FairnessFailed,
)
from prakerja.selection.models import Draw, Result, ResultStatus
from prakerja.selection.service import outcomes
from prakerja.selection.service.draw import fairness, get_draw
from prakerja.waves import service as waves
from prakerja.waves.models import Wave, WaveState


def announce(session: Session, wave_id: uuid.UUID, *, actor: audit.Actor, override_reason: str | None = None) -> Draw:
    """Publish the results and start telling everyone. The family-card cap is applied first (entries over it are
    replaced from the waitlist, see :func:`apply_kk_cap`). Refused when a fairness check fails, unless an officer
    overrides with a recorded reason."""
    wave = waves.get_wave(session, wave_id, lock=True)
    if wave.state is not WaveState.drawn:
        raise Conflict(code="wave_not_drawn", details={"state": wave.state.value})
    waves.check_scheme(wave)
    draw = get_draw(session, wave.id, lock=True)
    outcomes.apply_kk_cap(session, wave, actor=actor)
    report = fairness(session, wave)
    reason = (override_reason or "").strip()
    if not report.ok and not reason:
        raise FairnessFailed(details={"failed": report.failed(), "report": report.to_json()})
    draw.fairness = report.to_json()
    draw.fairness_ok = report.ok
    draw.announced_at = utcnow()
    selected = repository.final_selected_hashes(session, wave.id)
    _check_budget(session, wave, draw, len(selected))
    if not report.ok:
        draw.override_reason = reason
        audit.record(
            session,
            actor,
            "selection.fairness_overridden",
            "wave",
            wave.id,
            reason=reason,
            data={"failed": report.failed()},
        )
    waves.record_outcomes(session, wave, selected)
    waves.advance(session, wave, WaveState.announced, actor=actor, data={"fairness_ok": report.ok})
    enqueue(session, "selection.announce_outcomes", queueing_lock=f"selection.announce:{wave.id}", wave_id=str(wave.id))
    return draw


@dataclass(frozen=True)
class AnnouncementPlan:
    """What announcing a drawn wave will do, for the officer's confirmation (read-only: nothing is opened)."""

    selected: int
    """Entries selected now (the family-card cap may still replace some from the waitlist)."""
    balance: int
    """Each recipient's training balance, whole rupiah."""
    needed: int
    year: int
    available: int
    """The scheme-year budget left."""

    @property
    def enough(self) -> bool:
        return self.available >= self.needed


def announcement_plan(session: Session, wave_id: uuid.UUID) -> AnnouncementPlan:
    wave = waves.get_wave(session, wave_id)
    balance = load_scheme(wave.scheme_name).training.balance
    selected = len(repository.final_selected_hashes(session, wave.id))
    year = clock.today_jakarta().year
    return AnnouncementPlan(
        selected=selected,
        balance=balance,
        needed=selected * balance,
        year=year,
        available=ledger.budget_available(session, scheme=wave.scheme_name, year=year),
    )


def apply_kk_cap(session: Session, wave_id: uuid.UUID, *, actor: audit.Actor) -> list[rules.KkCapChange]:
    """Before the decree: selected entries beyond their family card's cap (recipients of earlier waves + entries
    kept earlier in this draw's order) are disqualified and replaced from the waitlist. ``announce`` runs it too;
    an officer may run it earlier to see the changes. Running it twice changes nothing."""
    wave = waves.get_wave(session, wave_id, lock=True)
    if wave.state is not WaveState.drawn:
        raise Conflict(code="wave_not_drawn", details={"state": wave.state.value})
    return outcomes.apply_kk_cap(session, wave, actor=actor)


def changed_results(session: Session, wave_id: uuid.UUID) -> list[Result]:
    """Disqualified and promoted entries (with their reasons), for the officer's draw page."""
    return repository.changed_results(session, wave_id)


def process_outcomes(session: Session, wave_id: uuid.UUID, *, batch: int = 500) -> int:
    """Tell the next ``batch`` applicants their outcome; recipients get a card, a funded balance and a deadline.
    Entries of the draw first, then applicants found ineligible at close (told "not selected" too). Safe to run
    twice and in parallel (rows are locked and marked in the same transaction)."""
    wave = waves.get_wave(session, wave_id)
    if wave.state is not WaveState.announced:
        return 0
    draw = get_draw(session, wave.id)
    scheme = load_scheme(wave.scheme_name)
    items = repository.unnotified(session, wave.id, batch)
    if not items:
        return outcomes.tell_ineligible(session, wave, batch=batch)
    now = utcnow()
    for result, applicant_id, account_id in items:
        if result.status in (ResultStatus.selected, ResultStatus.promoted):
            recipient = _make_recipient(session, wave, draw, result, applicant_id, account_id, scheme)
            _notify_selected(session, wave, recipient)
        else:
            outcomes.notify_not_selected(session, wave, account_id)
    repository.mark_notified(session, wave.id, [r.entry_hash for r, _, _ in items], now)
    return len(items)


def remaining_outcomes(session: Session, wave_id: uuid.UUID) -> int:
    return repository.remaining_unnotified(session, wave_id)


def _make_recipient(
    session: Session,
    wave: Wave,
    draw: Draw,
    result: Result,
    applicant_id: uuid.UUID,
    account_id: uuid.UUID,
    scheme: Any,
) -> Recipient:
    existing = recipients.by_applicant(session, applicant_id)
    if existing is not None:
        return existing
    snap = registration.snapshots(session, [applicant_id]).get(applicant_id)
    assert draw.announced_at is not None
    recipient, _new = recipients.register(
        session,
        wave_id=wave.id,
        entry_hash=result.entry_hash,
        applicant_id=applicant_id,
        account_id=account_id,
        kk_index=snap.kk_index if snap is not None else None,
        scheme_name=wave.scheme_name,
        training_balance=scheme.training.balance,
        funding_transfer_id=rules.funding_transfer_id(str(wave.id), result.entry_hash.hex()),
        first_purchase_deadline=draw.announced_at + timedelta(days=scheme.training.first_purchase_days),
    )
    ledger.fund_wallet(
        session,
        transfer_id=recipient.funding_transfer_id,
        participant_id=applicant_id,
        scheme=wave.scheme_name,
        year=_budget_year(draw),
        actor=audit.Actor.system(),
    )
    recipients.mark_funded(session, recipient)
    return recipient


def _budget_year(draw: Draw) -> int:
    """Balances are funded from the budget of the year the wave was announced (Jakarta time)."""
    assert draw.announced_at is not None
    return draw.announced_at.astimezone(JAKARTA).year


def _check_budget(session: Session, wave: Wave, draw: Draw, recipients: int) -> None:
    """Announcing promises every recipient a funded balance: the scheme-year budget must cover them all."""
    needed = recipients * load_scheme(wave.scheme_name).training.balance
    budget = ledger.state_budget(session, scheme=wave.scheme_name, year=_budget_year(draw), ledger=LedgerCode.training)
    if budget.available < needed:
        raise BudgetInsufficient(details={"needed": needed, "available": budget.available, "year": _budget_year(draw)})


def _notify_selected(session: Session, wave: Wave, recipient: Recipient) -> None:
    """E-mail with the details, SMS (to the verified phone) with the essentials; the dashboard shows the card."""
    account = auth.get_account(session, recipient.account_id)
    if account is None:
        return
    deadline = recipient.first_purchase_deadline.astimezone(JAKARTA).strftime("%d-%m-%Y")
    balance = f"Rp{recipient.training_balance:,}".replace(",", ".")
    body = (
        f"Selamat! Anda terpilih sebagai penerima Kartu Prakerja Gelombang {wave.number}. "
        f"Nomor kartu Anda berakhiran {recipient.card_last4}; lihat nomor lengkap di dasbor. "
        f"Saldo pelatihan {balance} sudah tersedia. Lakukan pembelian pelatihan pertama paling lambat {deadline} "
        "(WIB); jika terlewat, kepesertaan dicabut dan saldo dikembalikan ke kas negara."
    )
    notifications.queue_message(
        session,
        channel=Channel.email,
        recipient=account.email,
        subject=f"Anda terpilih: Kartu Prakerja Gelombang {wave.number}",
        body=body,
        account_id=account.id,
    )
    profile = registration.identity.find(session, recipient.account_id)
    if profile is not None and profile.phone and profile.phone_verified_at is not None:
        notifications.queue_message(
            session,
            channel=Channel.sms,
            recipient=profile.phone,
            subject="Kartu Prakerja: terpilih",
            body=(
                f"Selamat, Anda terpilih di Kartu Prakerja Gelombang {wave.number}. Saldo {balance}. "
                f"Beli pelatihan pertama paling lambat {deadline}. Cek dasbor prakerja."
            ),
            account_id=account.id,
        )
