"""Selection use cases: commit, seed and draw, fairness, disqualify/promote, announce, outcomes, proofs. Never
commits. The lottery itself (files, Merkle tree, tickets, verification) is :mod:`prakerja.selection.lottery`.

Other domains call: :func:`new_entry` (waves, at joining), :func:`recipient_for_account`,
:func:`recipient_by_card`, :func:`is_recipient`, :func:`public_waves`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.auth import service as auth
from prakerja.config import get_settings
from prakerja.jobs import enqueue
from prakerja.kit import signing
from prakerja.kit.clock import JAKARTA, utcnow
from prakerja.kit.errors import Conflict
from prakerja.kit.pii import blind_index
from prakerja.ledger import service as ledger
from prakerja.ledger.models import LedgerCode
from prakerja.notifications import service as notifications
from prakerja.notifications.models import Channel
from prakerja.registration import service as registration
from prakerja.schemes.rules import load as load_scheme
from prakerja.selection import lottery, outcomes, repository, rules
from prakerja.selection.errors import (
    AlreadyDrawn,
    BudgetInsufficient,
    DrawNotFound,
    FairnessFailed,
    InvalidRandomness,
    InvalidSeed,
    LotteryRefused,
    NoQuotas,
    NotDisqualifiable,
    ProofNotAvailable,
    PublicationMissing,
    SeedReferenceMismatch,
    WaveNotCommitted,
)
from prakerja.selection.models import Draw, Recipient, RecipientStatus, Result, ResultStatus
from prakerja.selection.phases import phase
from prakerja.waves import service as waves
from prakerja.waves.models import EntryStatus, Wave, WaveState

COMMITMENT_FILES = ("eligible.csv", "commitment.json", "commitment.sig", "public-key.pem")
DRAW_FILES = ("seed.json",)
RESULT_FILES = ("results.csv",)


# ---------------------------------------------------------------------------------------------- entries


def new_entry(wave_id: str) -> tuple[bytes, bytes]:
    """A fresh 32-byte entry secret and its entry hash (contract section 1)."""
    secret = secrets.token_bytes(32)
    return secret, bytes.fromhex(lottery.entry_hash(wave_id, secret))


# ---------------------------------------------------------------------------------------------- publication folder


def publications_root() -> Path:
    return get_settings().home / "publications"


def _draw(session: Session, wave_id: uuid.UUID, *, lock: bool = False) -> Draw:
    found = repository.draw(session, wave_id, lock=lock)
    if found is None:
        raise DrawNotFound(details={"wave_id": str(wave_id)})
    return found


def published_files(wave: Wave, draw: Draw | None) -> list[str]:
    """Which files the public may download at the wave's stage (results only once announced)."""
    if draw is None or wave.state in (WaveState.draft, WaveState.open, WaveState.closed):
        return []
    names = list(COMMITMENT_FILES)
    if wave.state in (WaveState.drawn, WaveState.announced):
        names += DRAW_FILES
    if wave.state is WaveState.announced:
        names += RESULT_FILES
    return names


def published_file(session: Session, wave_id: uuid.UUID, name: str) -> Path:
    wave = waves.get_wave(session, wave_id)
    draw = repository.draw(session, wave_id)
    if name not in published_files(wave, draw) or draw is None:
        raise PublicationMissing(details={"file": name})
    path = Path(draw.folder) / name
    if not path.is_file():
        raise PublicationMissing(details={"file": name})
    return path


@dataclass(frozen=True)
class PublicWave:
    wave: Wave
    draw: Draw | None
    files: list[str]


def public_waves(session: Session) -> list[PublicWave]:
    """Every wave past drafting, with the files the public may download."""
    listed = [w for w in waves.list_waves(session) if w.state is not WaveState.draft]
    found = repository.draws(session, [w.id for w in listed])
    return [PublicWave(wave=w, draw=found.get(w.id), files=published_files(w, found.get(w.id))) for w in listed]


# ---------------------------------------------------------------------------------------------- commitment


def commit(
    session: Session,
    wave_id: uuid.UUID,
    *,
    randomness_source: str,
    randomness_reference: str,
    actor: audit.Actor,
    root: Path | None = None,
) -> Draw:
    """Write and sign the commitment for a closed wave (eligible set and quotas frozen from here on)."""
    if not randomness_source.strip() or not randomness_reference.strip():
        raise InvalidRandomness(details={"fields": ["randomness_source", "randomness_reference"]})
    wave = waves.get_wave(session, wave_id, lock=True)
    if wave.state is not WaveState.closed:
        raise Conflict(code="wave_not_closed", details={"state": wave.state.value})
    waves.check_scheme(wave)
    quotas = waves.quotas(session, wave.id)
    if not quotas:
        raise NoQuotas()
    with phase("commit: read the eligible set (PostgreSQL)"):
        eligible = repository.eligible_csv_rows(session, wave.id)
    folder = (root or publications_root()) / str(wave.id)
    committed_at = utcnow().replace(microsecond=0)
    try:
        written = lottery.write_commitment_files(
            folder,
            eligible_rows=eligible,
            wave_id=str(wave.id),
            scheme=wave.scheme_name,
            quotas=quotas,
            randomness_source=randomness_source.strip(),
            randomness_reference=randomness_reference.strip(),
            committed_at=committed_at,
            signing_key=signing.private_key(),
        )
    except lottery.LotteryError as error:
        raise LotteryRefused(error) from None
    draw = Draw(
        wave_id=wave.id,
        folder=str(folder),
        eligible_count=written.eligible_count,
        merkle_root=written.merkle_root,
        randomness_source=randomness_source.strip(),
        randomness_reference=randomness_reference.strip(),
        commitment_sha256=hashlib.sha256(written.commitment).hexdigest(),
        eligible_sha256=written.eligible_sha256,
        committed_at=committed_at,
    )
    repository.add(session, draw)
    waves.advance(
        session,
        wave,
        WaveState.committed,
        actor=actor,
        data={
            "eligible_count": written.eligible_count,
            "merkle_root": written.merkle_root,
            "randomness_reference": draw.randomness_reference,
            "commitment_sha256": draw.commitment_sha256,
        },
    )
    return draw


# ---------------------------------------------------------------------------------------------- draw


_HEX = re.compile(r"^(?:[0-9a-f]{2})+$")


def seed(session: Session, wave_id: uuid.UUID, *, reference: str, value: str, actor: audit.Actor) -> Draw:
    """The named public random value is revealed: run the draw, persist every entry's result and probability,
    write ``seed.json`` and ``results.csv`` (published at announcement); queue the fairness report."""
    wave = waves.get_wave(session, wave_id, lock=True)
    if wave.state in (WaveState.drawn, WaveState.announced):
        raise AlreadyDrawn(details={"state": wave.state.value})
    if wave.state is not WaveState.committed:
        raise WaveNotCommitted(details={"state": wave.state.value})
    draw = _draw(session, wave.id, lock=True)
    if reference.strip() != draw.randomness_reference:
        raise SeedReferenceMismatch(details={"expected": draw.randomness_reference, "given": reference.strip()})
    value = value.strip().lower()
    if not _HEX.match(value) or len(value) > 1024:
        raise InvalidSeed(details={"field": "value"})
    folder = Path(draw.folder)
    # Each tier of the draw is streamed into the database as soon as it is ranked: PostgreSQL stores it while
    # the next one is drawn. A refused draw raises before the first tier, so nothing is written.
    with repository.results_writer(session, wave.id) as persist:
        try:
            drawn = lottery.write_draw_files(
                folder,
                draw.randomness_reference,
                value,
                eligible_sha256=draw.eligible_sha256,
                commitment_sha256=draw.commitment_sha256,
                on_tier=lambda tier: persist(_tier_rows(tier)),
            )
        except lottery.LotteryError as error:
            raise LotteryRefused(error) from None
    draw.seed_value = value
    draw.drawn_at = utcnow()
    draw.results_sha256 = hashlib.sha256(drawn.results_csv).hexdigest()
    draw.selected_count = drawn.selected_count
    # The fairness report reads the whole wave back (seconds at a million entries) and is computed again at the
    # announcement, which is what it gates: here it is a job queued in the draw's transaction, so the draw page
    # shows it moments later and the draw's locks are held no longer than the draw needs.
    draw.fairness, draw.fairness_ok = None, None
    enqueue(session, FAIRNESS_TASK, wave_id=str(wave.id))
    waves.advance(
        session,
        wave,
        WaveState.drawn,
        actor=actor,
        data={
            "reference": draw.randomness_reference,
            "seed_sha256": hashlib.sha256(bytes.fromhex(value)).hexdigest(),
            "results_sha256": draw.results_sha256,
            "selected": draw.selected_count,
        },
    )
    return draw


FAIRNESS_TASK = "selection.fairness_report"


def record_fairness(session: Session, wave_id: uuid.UUID) -> bool:
    """Store the fairness report of a drawn wave for its draw page (the job queued by :func:`seed`). Safe to run
    twice; does nothing once the wave is announced (the announcement stores the report it was decided on)."""
    wave = waves.get_wave(session, wave_id)
    if wave.state is not WaveState.drawn:
        return False
    draw = _draw(session, wave.id, lock=True)
    with phase("fairness report (PostgreSQL)"):
        report = fairness(session, wave)
    draw.fairness = report.to_json()
    draw.fairness_ok = report.ok
    return True


def _tier_rows(tier: lottery.TierDraw) -> repository.TierRows:
    """A tier of the draw as the repository persists it: the probability as num/den (contract section 5)."""
    num, den = rules.probability_parts(tier.probability)
    return repository.TierRows(tier.stratum, tier.tier, tier.first_rank, tier.selected, num, den, tier.keys)


def fairness(session: Session, wave: Wave) -> rules.FairnessReport:
    quotas = waves.quotas(session, wave.id)
    groups = repository.time_groups(session, wave.id, rules.TIME_BUCKETS)
    eligible: dict[str, int] = {}
    selected: dict[str, int] = {}
    for (stratum, _tier), buckets in groups.items():
        eligible[stratum] = eligible.get(stratum, 0) + sum(n for n, _ in buckets)
        selected[stratum] = selected.get(stratum, 0) + sum(s for _, s in buckets)
    return rules.fairness_report(
        quotas=quotas,
        eligible_per_stratum=eligible,
        selected_per_stratum=selected,
        time_groups=groups,
        duplicate_people=repository.duplicate_people(session, wave.id),
        already_recipients=repository.already_recipients(session, wave.id),
    )


# ---------------------------------------------------------------------------------------------- before the decree


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
        promoted.status = ResultStatus.promoted
        promoted.status_reason = "replaces:" + entry_hash_hex[:16]
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


# ---------------------------------------------------------------------------------------------- announcement


def announce(session: Session, wave_id: uuid.UUID, *, actor: audit.Actor, override_reason: str | None = None) -> Draw:
    """Publish the results and start telling everyone. The family-card cap is applied first (entries over it are
    replaced from the waitlist, see :func:`apply_kk_cap`). Refused when a fairness check fails, unless an officer
    overrides with a recorded reason."""
    wave = waves.get_wave(session, wave_id, lock=True)
    if wave.state is not WaveState.drawn:
        raise Conflict(code="wave_not_drawn", details={"state": wave.state.value})
    waves.check_scheme(wave)
    draw = _draw(session, wave.id, lock=True)
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
    draw = _draw(session, wave.id)
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
    existing = repository.recipient_by_applicant(session, applicant_id)
    if existing is not None:
        return existing
    snap = registration.snapshots(session, [applicant_id]).get(applicant_id)
    while True:
        card = rules.new_card_number()
        index = blind_index(card, "card_number")
        if not repository.card_index_taken(session, index):
            break
    assert draw.announced_at is not None
    recipient = Recipient(
        wave_id=wave.id,
        entry_hash=result.entry_hash,
        applicant_id=applicant_id,
        account_id=account_id,
        kk_index=snap.kk_index if snap is not None else None,
        card_number=card,
        card_number_index=index,
        card_last4=card[-4:],
        scheme_name=wave.scheme_name,
        training_balance=scheme.training.balance,
        funding_transfer_id=rules.funding_transfer_id(str(wave.id), result.entry_hash.hex()),
        first_purchase_deadline=draw.announced_at + timedelta(days=scheme.training.first_purchase_days),
        status=RecipientStatus.active,
    )
    repository.add(session, recipient)
    ledger.fund_wallet(
        session,
        transfer_id=recipient.funding_transfer_id,
        participant_id=applicant_id,
        scheme=wave.scheme_name,
        year=_budget_year(draw),
        actor=audit.Actor.system(),
    )
    recipient.funded_at = utcnow()
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


# ---------------------------------------------------------------------------------------------- applicants


def recipient_for_account(session: Session, account_id: uuid.UUID) -> Recipient | None:
    return repository.recipient_by_account(session, account_id)


def recipient_by_card(session: Session, card_number: str) -> Recipient | None:
    """For checkout: the recipient holding a 16-digit card number (looked up by its blind index)."""
    if not re.fullmatch(r"[0-9]{16}", card_number.strip()):
        return None
    return repository.recipient_by_card_index(session, blind_index(card_number.strip(), "card_number"))


def recipients_per_kk(session: Session, kk_indexes: Sequence[bytes]) -> dict[bytes, int]:
    """Recipients (of any wave, revoked included) per family card blind index (for the KK cap)."""
    return repository.recipients_per_kk(session, kk_indexes)


def recipient_statuses(session: Session, applicant_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """``active`` or ``revoked`` for applicants who have ever been recipients (once per lifetime)."""
    return repository.recipient_statuses(session, applicant_ids)


def is_recipient(session: Session, applicant_id: uuid.UUID) -> bool:
    return repository.recipient_by_applicant(session, applicant_id) is not None


def proof_for_account(session: Session, account_id: uuid.UUID, wave_id: uuid.UUID) -> bytes:
    """The applicant's proof file (contract section 6), with their entry secret."""
    wave = waves.get_wave(session, wave_id)
    entry = next((e for e in waves.entries_of_account(session, account_id) if e.wave_id == wave.id), None)
    in_draw = (EntryStatus.eligible, EntryStatus.recipient, EntryStatus.not_selected)
    if entry is None or entry.status not in in_draw or wave.state in (WaveState.draft, WaveState.open):
        raise ProofNotAvailable()
    if repository.draw(session, wave.id) is None:
        raise ProofNotAvailable()
    rows = waves.eligible_rows(session, wave.id)
    mine = entry.entry_hash.hex()
    index = next((i for i, row in enumerate(rows) if row[0] == mine), None)
    if index is None:
        raise ProofNotAvailable()
    _, stratum, tier = rows[index]
    leaves = [lottery.Entry(h, s, t).row.encode() for h, s, t in rows]
    proof = lottery.proof_for(
        leaves, index, wave_id=str(wave.id), entry_secret=bytes.fromhex(entry.entry_secret), stratum=stratum, tier=tier
    )
    return lottery.proof_json(proof)


def verify_folder(folder: Path, proof: Path | None = None) -> Any:
    return lottery.verify_folder(folder, proof)


def dashboard_lines(
    session: Session, account_id: uuid.UUID, gettext: Callable[[str], str], language: str = "id"
) -> tuple[list[str], str | None]:
    """The dashboard's "wave" section: the latest entry's stage and outcome, in the page's language."""
    entries = waves.entries_of_account(session, account_id)
    if not entries:
        return [gettext("You have not joined a wave yet.")], "/gelombang"
    entry = entries[0]
    wave = waves.get_wave(session, entry.wave_id)
    lines = [gettext("Wave %(number)s: joined.") % {"number": wave.number}]
    link: str | None = None
    in_draw = entry.status in (EntryStatus.eligible, EntryStatus.recipient, EntryStatus.not_selected)
    if wave.state in (WaveState.committed, WaveState.drawn, WaveState.announced) and in_draw:
        link = f"/gelombang/{wave.id}/bukti"
        lines.append(gettext("Your lottery proof file can be downloaded below."))
    if wave.state is not WaveState.announced:
        lines.append(gettext("The results will be announced here."))
        return lines, link
    recipient = repository.recipient_by_account(session, account_id)
    if entry.status is EntryStatus.recipient:
        lines.append(gettext("Congratulations: you were selected as a Kartu Prakerja recipient."))
        if recipient is not None and recipient.wave_id == wave.id:
            deadline = recipient.first_purchase_deadline.astimezone(JAKARTA).strftime("%d-%m-%Y")
            lines.append(gettext("Card number") + ": " + recipient.card_number)
            lines.append(gettext("First training purchase by %(date)s (WIB).") % {"date": deadline})
        else:
            lines.append(gettext("Your card is being prepared."))
        return lines, link
    lines.append(gettext("You were not selected in this wave. Possible causes:"))
    lines.extend(rules.GENERAL_CAUSES_ID if language == "id" else rules.GENERAL_CAUSES_EN)
    lines.append(gettext("You can join the next wave without entering your data again."))
    return lines, link or "/gelombang"
