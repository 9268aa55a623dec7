"""Entitlements from the scheme: what the program owes each participant, and when.

The post-training incentive is for the participant's first training only (the first accepted completion): one row per
instalment of the scheme (``Incentive.count`` of ``Incentive.amount``, ``interval_days`` apart). A row is
``blocked`` with the exact reason (no certificate, no rating, no review, no account, account rejected, NIK mismatch,
e-wallet not KYC'd) until every condition holds, then ``scheduled`` with its ``due_on`` and the ledger payable
(``ledger.service.schedule_incentive``, under a deterministic transfer id: running it twice moves nothing twice).
Survey incentives are granted per completed survey by the surveys capability, up to the scheme's count.

:func:`refresh` (one participant) and :func:`refresh_many` (set-wise, for the job over recent completions,
certificates, ratings and account links) are safe to run any number of times. Takes a session; never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.kit.clock import clock
from prakerja.kit.errors import DomainError
from prakerja.ledger import service as ledger
from prakerja.payouts import rules
from prakerja.payouts.errors import NotARecipient, RecipientNotActive, SurveyIncentivesExhausted
from prakerja.payouts.models import (
    AccountFailure,
    AccountStatus,
    Entitlement,
    EntitlementKind,
    EntitlementStatus,
    PayoutAccount,
)
from prakerja.payouts.repository import accounts as account_rows
from prakerja.payouts.repository import clawbacks as clawback_rows
from prakerja.payouts.repository import entitlements as repository
from prakerja.recipients import service as recipients
from prakerja.recipients.models import Recipient, RecipientStatus
from prakerja.schemes.rules import load as load_scheme
from prakerja.training import service as training

NO_BUDGET = "no_budget"
"""Every condition holds but the scheme-year's cash budget cannot cover it yet (retried by the job)."""


def today() -> date:
    return clock.today_jakarta().date()


def lock(session: Session, recipient_id: uuid.UUID) -> None:
    """Hold the participant's payouts lock until the transaction ends (refresh, grants and clawbacks take it)."""
    repository.lock_recipients(session, [recipient_id])


def account_state(account: PayoutAccount | None) -> str:
    """``active``, ``none`` (never linked, or a link not finished) or the latest rejected link's failure."""
    if account is None:
        return "none"
    if account.status is AccountStatus.active:
        return "active"
    if account.status is AccountStatus.rejected and account.failure_reason is AccountFailure.otp_expired:
        return "none"  # a code never entered: no account was refused, none is linked yet
    if account.status is AccountStatus.rejected and account.failure_reason is not None:
        return account.failure_reason.value
    return "none"


def _schedule(session: Session, row: Entitlement, due_on: date, actor: audit.Actor) -> bool:
    """Make the ledger payable and mark the row scheduled; False (still blocked, ``no_budget``) when the budget
    cannot cover it: the ledger call runs in a savepoint, so a refusal leaves nothing behind."""
    transfer_id = rules.payouts_id("entitlement", row.recipient_id, row.kind.value, row.instalment)
    try:
        ledger.schedule_incentive(
            session,
            transfer_id=transfer_id,
            participant_id=row.participant_id,
            scheme=row.scheme,
            year=row.year,
            actor=actor,
            survey=row.kind is EntitlementKind.survey_incentive,
            amount=row.amount,
        )
    except DomainError:
        row.blocked_reason = NO_BUDGET
        return False
    row.status = EntitlementStatus.scheduled
    row.blocked_reason = None
    row.due_on = due_on
    row.schedule_transfer_id = transfer_id
    return True


def _new(recipient: Recipient, kind: EntitlementKind, instalment: int, amount: int, source_ref: str) -> Entitlement:
    return Entitlement(
        recipient_id=recipient.id,
        participant_id=recipient.applicant_id,
        kind=kind,
        instalment=instalment,
        scheme=recipient.scheme_name,
        year=today().year,
        amount=amount,
        status=EntitlementStatus.blocked,
        blocked_reason="no_account",
        source_ref=source_ref,
    )


def refresh(session: Session, recipient_id: uuid.UUID, *, actor: audit.Actor | None = None) -> int:
    """Look at one participant's entitlements again (after a link, a completion, a rating ...)."""
    return refresh_many(session, [recipient_id], actor=actor)


def refresh_many(session: Session, recipient_ids: Sequence[uuid.UUID], *, actor: audit.Actor | None = None) -> int:
    """Create the missing instalments of each participant's first-training incentive, and schedule every blocked
    entitlement whose conditions now hold (or update its reason). Reads each fact once for the whole set. Returns
    how many entitlements were created or scheduled."""
    actor = actor or audit.Actor.system()
    ids = sorted(set(recipient_ids))
    if not ids:
        return 0
    repository.lock_recipients(session, ids)
    people = recipients.by_ids(session, ids)
    firsts = training.incentives.first_trainings(session, ids)
    accounts = account_rows.latest_accounts(session, ids)
    claimed = clawback_rows.recipients_with_open_clawback(session, ids)
    existing: dict[tuple[uuid.UUID, EntitlementKind, int], Entitlement] = {
        (row.recipient_id, row.kind, row.instalment): row for row in repository.of_recipients(session, ids)
    }
    surveys: dict[uuid.UUID, list[Entitlement]] = {}
    for (owner, kind, _), row in existing.items():
        if kind is EntitlementKind.survey_incentive:
            surveys.setdefault(owner, []).append(row)
    day = today()
    changed = 0
    created: list[Entitlement] = []
    for recipient_id in ids:
        recipient = people.get(recipient_id)
        if recipient is None or recipient.status is not RecipientStatus.active or recipient_id in claimed:
            continue
        state = account_state(accounts.get(recipient_id))
        first = firsts.get(recipient_id)
        if first is not None:
            incentive = load_scheme(recipient.scheme_name).incentive
            facts = rules.IncentiveFacts(
                first_completion_on=first.accepted_at.date(),
                certificate=first.certificate,
                rating=first.rating,
                review=first.review,
                account=state,
            )
            for planned in rules.incentive_plan(
                amount=incentive.amount,
                count=incentive.count,
                interval_days=incentive.interval_days,
                facts=facts,
                today=day,
            ):
                key = (recipient_id, EntitlementKind.incentive, planned.instalment)
                if key not in existing:
                    row = _new(
                        recipient, EntitlementKind.incentive, planned.instalment, planned.amount, str(first.purchase_id)
                    )
                    existing[key] = row
                    created.append(row)
                    changed += 1
                row = existing[key]
                if row.status is not EntitlementStatus.blocked:
                    continue
                if planned.blocked_reason is not None or planned.due_on is None:
                    row.blocked_reason = planned.blocked_reason
                elif _schedule(session, row, planned.due_on, actor) and row not in created:
                    changed += 1
        block = rules.account_block(state)
        for row in surveys.get(recipient_id, []):
            if row.status is not EntitlementStatus.blocked:
                continue
            if block is not None:
                row.blocked_reason = block
            elif _schedule(session, row, day, actor):
                changed += 1
    if created:
        repository.add_all(session, created)
    session.flush()
    return changed


def reschedule_after_link(session: Session, recipient_id: uuid.UUID) -> int:
    """A new account was linked: entitlements that waited for the participant to fix or re-link (``needs_action``)
    are scheduled again, due today at the earliest (their payable never left the ledger)."""
    day = today()
    moved = 0
    for row in repository.of_recipient(session, recipient_id):
        if row.status is EntitlementStatus.needs_action:
            row.status = EntitlementStatus.scheduled
            row.due_on = max(row.due_on or day, day)
            moved += 1
    session.flush()
    return moved


def grant_survey_incentive(
    session: Session, recipient_id: uuid.UUID, response_ref: str, *, actor: audit.Actor | None = None
) -> Entitlement:
    """One completed survey earns one survey incentive (the scheme's amount), up to the scheme's count. The same
    response again returns the entitlement it earned. Scheduled at once when an account is linked, else blocked."""
    actor = actor or audit.Actor.system()
    repository.lock_recipients(session, [recipient_id])
    recipient = recipients.by_id(session, recipient_id)
    if recipient is None:
        raise NotARecipient()
    ref = response_ref.strip()[:100]
    found = repository.by_source(session, recipient_id, EntitlementKind.survey_incentive, ref)
    if found is not None:
        return found
    if recipient.status is not RecipientStatus.active:
        raise RecipientNotActive()
    scheme = load_scheme(recipient.scheme_name).survey_incentive
    done = repository.count_kind(session, recipient_id, EntitlementKind.survey_incentive)
    if scheme.amount <= 0 or done >= scheme.count:
        raise SurveyIncentivesExhausted(details={"count": scheme.count})
    row = _new(recipient, EntitlementKind.survey_incentive, done + 1, scheme.amount, ref)
    repository.add_all(session, [row])
    block = rules.account_block(account_state(account_rows.latest_accounts(session, [recipient_id]).get(recipient_id)))
    if block is None:
        _schedule(session, row, today(), actor)
    else:
        row.blocked_reason = block
    session.flush()
    return row


def recipients_to_refresh(session: Session, since: datetime) -> list[uuid.UUID]:
    """Who the job looks at: completions accepted (certificates issued) and ratings given since ``since``, accounts
    linked or refused since then, everyone still blocked (a budget may have arrived), and everyone with an accepted
    completion but no incentive row yet, however old the completion (a worker down for longer than the look-back
    must not lose anyone)."""
    found = set(training.incentives.recipients_changed_since(session, since))
    found.update(repository.recipients_without_incentive(session, training.incentives.accepted_recipients()))
    found.update(account_rows.recipients_linked_since(session, since))
    found.update(repository.recipients_blocked(session))
    return sorted(found)


# what the participant reads --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineItem:
    kind: str
    instalment: int
    amount: int
    status: str
    due_on: date | None
    paid_at: datetime | None
    reason: str | None
    """Why it waits (a ``rules.BLOCKED_REASONS`` value or ``no_budget``), or ``fix_or_relink`` for an account the
    partner refused."""


@dataclass(frozen=True)
class Timeline:
    items: list[TimelineItem]
    first_training_done: bool
    """An accepted completion exists (before it, nothing is earned yet)."""


def timeline(session: Session, recipient_id: uuid.UUID) -> Timeline:
    rows = repository.of_recipient(session, recipient_id)
    items = [
        TimelineItem(
            kind=row.kind.value,
            instalment=row.instalment,
            amount=row.amount,
            status=row.status.value,
            due_on=row.due_on,
            paid_at=row.paid_at,
            reason="fix_or_relink" if row.status is EntitlementStatus.needs_action else row.blocked_reason,
        )
        for row in rows
    ]
    done = recipient_id in training.incentives.first_trainings(session, [recipient_id])
    return Timeline(items=items, first_training_done=done)


def cancel_unpaid(session: Session, recipient_id: uuid.UUID, *, actor: audit.Actor, reason: str) -> int:
    """A clawback: what was not paid yet is cancelled (an instruction already with a partner finishes its run); a
    scheduled one's payable goes back to the cash budget (deterministic id: a retry releases nothing twice)."""
    cancelled = 0
    for row in repository.of_recipient(session, recipient_id):
        if row.status not in (EntitlementStatus.blocked, EntitlementStatus.scheduled, EntitlementStatus.needs_action):
            continue
        if row.schedule_transfer_id is not None:
            first = rules.payouts_id("entitlement", row.recipient_id, row.kind.value, row.instalment)
            ledger.release_incentive(
                session,
                # a row scheduled again after a withdrawn clawback is released under an id of that schedule
                transfer_id=rules.payouts_id("entitlement_cancelled", row.id)
                if row.schedule_transfer_id == first
                else rules.payouts_id("entitlement_cancelled", row.id, row.schedule_transfer_id),
                participant_id=row.participant_id,
                scheme=row.scheme,
                year=row.year,
                amount=row.amount,
                actor=actor,
                survey=row.kind is EntitlementKind.survey_incentive,
                reason=reason,
            )
        row.status = EntitlementStatus.cancelled
        cancelled += 1
    session.flush()
    return cancelled


def restore_cancelled(session: Session, recipient_id: uuid.UUID, *, actor: audit.Actor, ref: str) -> int:
    """A clawback was withdrawn: what it cancelled is owed again. A row that was scheduled gets its payable back
    from the cash budget (under an id of ``ref``: a retry moves nothing twice) and is due today at the earliest; a
    row that was still blocked is blocked again, and :func:`refresh` gives it its reason. A row whose budget cannot
    be found stays cancelled (counted out). Returns how many rows are owed again."""
    restored = 0
    day = today()
    for row in repository.of_recipient(session, recipient_id):
        if row.status is not EntitlementStatus.cancelled:
            continue
        if row.schedule_transfer_id is None:
            row.status = EntitlementStatus.blocked
            restored += 1
            continue
        transfer_id = rules.payouts_id("entitlement_restored", row.id, ref)
        try:
            ledger.schedule_incentive(
                session,
                transfer_id=transfer_id,
                participant_id=row.participant_id,
                scheme=row.scheme,
                year=row.year,
                actor=actor,
                survey=row.kind is EntitlementKind.survey_incentive,
                amount=row.amount,
            )
        except DomainError:
            continue
        row.status = EntitlementStatus.scheduled
        row.schedule_transfer_id = transfer_id
        row.due_on = max(row.due_on or day, day)
        restored += 1
    session.flush()
    refresh(session, recipient_id, actor=actor)
    return restored


def paid_total(session: Session, recipient_id: uuid.UUID) -> int:
    return repository.paid_total(session, recipient_id)
