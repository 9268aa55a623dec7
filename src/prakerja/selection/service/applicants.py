"""What applicants read: proof files, the dashboard's wave section (the card from the recipient register), folder
verification. Never commits."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy.orm import Session

from prakerja import lottery
from prakerja.kit.clock import JAKARTA
from prakerja.recipients import service as recipients
from prakerja.selection import repository, rules
from prakerja.selection.errors import (
    ProofNotAvailable,
)
from prakerja.waves import service as waves
from prakerja.waves.models import EntryStatus, WaveState


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


def verify_folder(
    folder: Path, proof: Path | None = None, *, public_key: bytes | None = None, require_draw: bool = False
) -> lottery.VerifyResult:
    """Contract section 6 over a folder (what ``prakerja selection verify`` runs)."""
    return lottery.verify_folder(folder, proof, public_key=public_key, require_draw=require_draw)


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
    recipient = recipients.recipient_by_account(session, account_id)
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
