"""Section 1 of the marketplace contract: card inquiry, purchase with a one-time code, confirmation with a voucher,
cancellation, reading; and the jobs around them (expired codes, the first-purchase deadline). Takes a session;
never commits. Money moves only through ``ledger.service``: a purchase reserves its price (a pending transfer)
when the code is sent; cancelling voids it; an accepted completion captures it (``completions``)."""

from __future__ import annotations

import contextlib
import hmac
import secrets
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, TypeVar

import asyncpg
from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.catalog import service as catalog
from prakerja.catalog.models import Course
from prakerja.idempotency import service as idempotency
from prakerja.kit.clock import utcnow
from prakerja.kit.errors import DomainError, NotFound
from prakerja.kit.ids import new_id, parse_id
from prakerja.kit.pii import blind_index
from prakerja.ledger import service as ledger
from prakerja.ledger.errors import InsufficientFunds, PendingAlreadyPosted, PendingAlreadyVoided
from prakerja.partners import service as partners
from prakerja.partners.service import PartnerCaller
from prakerja.recipients.models import Recipient, RecipientStatus
from prakerja.training import repository, rules
from prakerja.training.errors import (
    CardNotActive,
    CardNotFound,
    CardRevoked,
    CourseNotListed,
    FirstTrainingUnfinished,
    InsufficientBalance,
    OtpAttemptsExceeded,
    OtpExpired,
    OtpInvalid,
    PlatformAccountBound,
    PurchaseNotFound,
    PurchaseState,
)
from prakerja.training.models import CodeState, Purchase, PurchaseStatus
from prakerja.training.schemas import (
    CardOut,
    PurchaseCancelled,
    PurchaseConfirmed,
    PurchaseCreate,
    PurchaseCreated,
    PurchaseOut,
    PurchaseSession,
)
from prakerja.training.service import events, people

if TYPE_CHECKING:
    from prakerja.ledger.schemas import Account
    from prakerja.recipients.service import CardHolder

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Voucher and redeem-code characters: no 0/O or 1/I to misread."""


def draw_code(length: int) -> str:
    """A random code of ``length`` characters of :data:`CODE_ALPHABET`: each from one random byte's low five bits
    (32 characters, so uniform), the whole code from one call to the operating system's random source."""
    return secrets.token_bytes(length).translate(_CODE_OF_BYTE).decode("ascii")


_CODE_OF_BYTE = bytes(ord(CODE_ALPHABET[b & 31]) for b in range(256))
"""For each byte value, the code character of its low five bits (:func:`draw_code` maps a code in one C call)."""


def new_codes(session: Session, lengths: list[int]) -> list[str]:
    """Fresh codes of these lengths, none already a voucher or a redeem code nor equal to another: one query to
    check the lot (and another only in the rare case one was taken)."""
    codes: list[str | None] = [None] * len(lengths)
    while True:
        for i, length in enumerate(lengths):
            if codes[i] is None:
                codes[i] = draw_code(length)
        drawn = [c for c in codes if c is not None]
        taken = repository.taken_codes(session, drawn)
        seen: set[str] = set()
        for i, code in enumerate(codes):
            if code is None or code in taken or code in seen:
                codes[i] = None
            else:
                seen.add(code)
        if all(c is not None for c in codes):
            return [c for c in codes if c is not None]


def otp_hash(purchase_id: uuid.UUID, code: str) -> bytes:
    return blind_index(f"{purchase_id}:{code.strip()}", "purchase_otp")


def _bought(session: Session, recipient: Recipient) -> bool:
    return repository.count_in_status(session, recipient.applicant_id, repository.BOUGHT) > 0


def usable_card(session: Session, card_number: str) -> Recipient:
    """The card's recipient if it may pay: refused when unknown, revoked (or past the first-purchase deadline
    without a purchase: revoked by the next job run) or not funded yet."""
    return _usable_card(session, card_number)[0]


def _usable_card(
    session: Session, card_number: str, *, bound_to: tuple[uuid.UUID, bytes] | None = None
) -> tuple[Recipient, dict[PurchaseStatus, int], int, bool]:
    """:func:`usable_card`, the participant's purchases by status and the wallet's available balance (each read
    once for the card's checks and the call's own); with ``bound_to`` (platform id, account index), in the same
    statement as the counts, whether that platform account already paid with another card."""
    recipient = people.card(session, card_number)
    if recipient is None:
        raise CardNotFound()
    bound = False
    if bound_to is None:
        counts = repository.status_counts(session, recipient.applicant_id)
    else:
        counts, bound = repository.status_counts_and_bound(
            session,
            recipient.applicant_id,
            platform_id=bound_to[0],
            account_index=bound_to[1],
            recipient_id=recipient.id,
        )
    bought = any(counts.get(status, 0) for status in repository.BOUGHT)
    if recipient.status is RecipientStatus.revoked or rules.deadline_missed(
        recipient.first_purchase_deadline, utcnow(), has_purchase=bought
    ):
        raise CardRevoked()
    wallet = ledger.wallet(session, recipient.applicant_id) if recipient.funded_at is not None else None
    if wallet is None:
        raise CardNotActive()
    return recipient, counts, wallet.available, bound


def balance(session: Session, participant_id: uuid.UUID) -> int:
    found = ledger.wallet(session, participant_id)
    return found.available if found is not None else 0


def inquiry(session: Session, *, card_number: str) -> CardOut:
    """``POST /partner/v1/cards/inquiry``: masked card and name, the balance, status and the deadline."""
    recipient, _, available, _ = _usable_card(session, card_number)
    return CardOut(
        card_number_masked=rules.mask_card(recipient.card_number),
        name_masked=rules.mask_name(people.full_name(session, recipient.account_id)),
        balance=available,
        status=recipient.status.value,
        first_purchase_deadline=recipient.first_purchase_deadline,
    )


_INQUIRY = repository.inquiry_statement(
    card=people.card_source, wallet=ledger.wallet_row_sql, name=people.full_name_sql
)
"""The inquiry's reads in one statement (ADR 0031): the card holder, the purchases by status, the wallet, the name."""


_Read = TypeVar("_Read", repository.InquiryRow, repository.CheckoutRow)


def _usable_holder(found: _Read | None) -> tuple[_Read, CardHolder, dict[PurchaseStatus, int], Account]:
    """The row the inquiry's or the creation's statement read, with its card holder, their purchases by status and
    their wallet, refused as :func:`_usable_card` refuses them (no such card; revoked or past the first-purchase
    deadline without a purchase; not funded or without a wallet)."""
    if found is None:
        raise CardNotFound()
    holder = people.card_holder_of(found.holder)
    counts = repository.counts_of(found.counts)
    bought = any(counts.get(status, 0) for status in repository.BOUGHT)
    if holder.status is RecipientStatus.revoked or rules.deadline_missed(
        holder.first_purchase_deadline, utcnow(), has_purchase=bought
    ):
        raise CardRevoked()
    if holder.funded_at is None or found.wallet is None:
        raise CardNotActive()
    return found, holder, counts, ledger.account_of(found.wallet)


async def inquiry_on_loop(conn: asyncpg.Connection, *, card_number: str) -> CardOut:
    """:func:`inquiry` on a loop connection (``db.on_loop``, ADR 0021): the same answer and the same refusals, in
    one statement (:data:`_INQUIRY`: the card, the purchases by status, the wallet, the name), none for a card
    number of the wrong shape; no ``Session``. The card number masked is the one asked for: the blind index matched
    it, and a card number (sixteen digits) is its own normal form."""
    index = people.card_index(card_number)
    frame = idempotency.current_frame()  # the call's claim folded into the read (ADR 0043)
    found = None if index is None and frame is None else await repository.inquiry_on_loop(conn, _INQUIRY, index, frame)
    found, holder, _, wallet = _usable_holder(found)
    return CardOut(
        card_number_masked=rules.mask_card(card_number.strip()),
        name_masked=rules.mask_name(people.full_name_of(found.name)),
        balance=wallet.available,
        status=holder.status.value,
        first_purchase_deadline=holder.first_purchase_deadline,
    )


def _listed_course(session: Session, course_id: str, platform_id: uuid.UUID) -> tuple[Course, int]:
    parsed = parse_id(course_id)
    found = None if parsed is None else catalog.sellable_course(session, course_id=parsed, platform_id=platform_id)
    if found is None:
        raise CourseNotListed()
    course, listing = found
    return course, listing.price


def create(session: Session, *, platform_id: uuid.UUID, data: PurchaseCreate, actor: audit.Actor) -> PurchaseCreated:
    """``POST /partner/v1/purchases``: check the card and the rules, reserve the price and text a one-time code."""
    account_index = blind_index(data.platform_account_id, "platform_account")
    recipient, counts, available, bound = _usable_card(session, data.card_number, bound_to=(platform_id, account_index))
    course, amount = _listed_course(session, data.course_id, platform_id)
    if bound:
        raise PlatformAccountBound()
    participant = recipient.applicant_id
    completed = counts.get(PurchaseStatus.completed, 0)
    if not completed and any(counts.get(status, 0) for status in repository.UNDER_WAY):
        raise FirstTrainingUnfinished()
    if available < amount:
        raise InsufficientBalance(details={"amount": amount})
    now = utcnow()
    purchase_id = new_id()
    code = f"{secrets.randbelow(1_000_000):06d}"
    purchase = Purchase(
        id=purchase_id,
        recipient_id=recipient.id,
        participant_id=participant,
        account_id=recipient.account_id,
        course_id=course.id,
        institution_id=course.institution_id,
        platform_id=platform_id,
        platform_order_id=data.platform_order_id,
        platform_account_index=account_index,
        amount=amount,
        status=PurchaseStatus.otp_sent,
        otp_hash=otp_hash(purchase_id, code),
        otp_expires_at=now + rules.OTP_TTL,
        pending_transfer_id=new_id(),
    )
    repository.add(session, purchase)
    try:
        ledger.authorise_purchase(
            session,
            transfer_id=purchase.pending_transfer_id,
            participant_id=participant,
            institution_id=course.institution_id,
            amount=amount,
            purchase_ref=str(purchase_id),
            timeout=rules.RESERVE_TIMEOUT,
            actor=actor,
        )
    except InsufficientFunds:
        raise InsufficientBalance(details={"amount": amount}) from None
    people.send_otp(session, account_id=recipient.account_id, code=code, amount=amount, course_title=course.title)
    audit.record(
        session,
        actor,
        "training.purchase_started",
        "purchase",
        purchase_id,
        data={"course_id": str(course.id), "amount": amount, "platform_order_id": data.platform_order_id},
    )
    return PurchaseCreated(
        purchase_id=str(purchase_id),
        status=purchase.status.value,
        amount=amount,
        otp_expires_at=purchase.otp_expires_at,
    )


def _own_purchase(session: Session, purchase_id: str, platform_id: uuid.UUID, *, lock: bool = False) -> Purchase:
    parsed = parse_id(purchase_id)
    found = None if parsed is None else repository.purchase(session, parsed, lock=lock)
    if found is None or found.platform_id != platform_id:
        raise PurchaseNotFound()
    return found


def confirm(
    session: Session, *, purchase_id: str, platform_id: uuid.UUID, otp: str, actor: audit.Actor
) -> PurchaseConfirmed:
    """``POST /partner/v1/purchases/{id}/confirm``: the right code gives the voucher and the session codes. A wrong
    code raises :class:`OtpInvalid` and writes nothing here: the caller counts it with :func:`count_wrong_otp` on a
    transaction of its own (the one write a refusal makes)."""
    purchase = _own_purchase(session, purchase_id, platform_id, lock=True)
    if purchase.status is not PurchaseStatus.otp_sent:
        raise PurchaseState(details={"status": purchase.status.value})
    now = utcnow()
    if now > purchase.otp_expires_at:
        raise OtpExpired()
    if not hmac.compare_digest(otp_hash(purchase.id, otp), purchase.otp_hash):
        raise OtpInvalid()
    sessions = [s for s in catalog.course_sessions(session, purchase.course_id) if s.cancelled_at is None]
    voucher, *codes = new_codes(session, [12] + [10] * len(sessions))
    purchase.status = PurchaseStatus.confirmed
    purchase.confirmed_at = now
    purchase.voucher_code = voucher
    repository.add_codes(
        session,
        [
            {
                "id": new_id(),
                "purchase_id": purchase.id,
                "session_id": course_session.id,
                "institution_id": purchase.institution_id,
                "training_type": course_session.training_type.value,
                "code": code,
                "state": CodeState.valid,
                "valid_from": course_session.starts_at - rules.REDEEM_WINDOW,
                "valid_until": course_session.starts_at + rules.REDEEM_WINDOW,
            }
            for course_session, code in zip(sessions, codes, strict=True)
        ],
    )
    session.flush()
    events.emit_both(
        session, purchase.platform_id, purchase.institution_id, "purchase.confirmed", {"purchase_id": str(purchase.id)}
    )
    audit.record(session, actor, "training.purchase_confirmed", "purchase", purchase.id)
    return PurchaseConfirmed(
        purchase_id=str(purchase.id),
        status=purchase.status.value,
        voucher_code=purchase.voucher_code,
        amount=purchase.amount,
        balance_after=balance(session, purchase.participant_id),
    )


def count_wrong_otp(session: Session, *, purchase_id: str, platform_id: uuid.UUID, actor: audit.Actor) -> DomainError:
    """Count one wrong code (on its own transaction) and return the refusal to give: ``otp_invalid``, or on the
    fifth ``otp_attempts_exceeded`` with the purchase cancelled and its reserve voided."""
    purchase = _own_purchase(session, purchase_id, platform_id, lock=True)
    if purchase.status is not PurchaseStatus.otp_sent:
        return PurchaseState(details={"status": purchase.status.value})
    purchase.otp_attempts += 1
    session.flush()
    if purchase.otp_attempts >= rules.OTP_MAX_WRONG:
        cancel_purchase(session, purchase, reason="otp_attempts_exceeded", actor=actor)
        return OtpAttemptsExceeded()
    return OtpInvalid(details={"attempts_left": rules.OTP_MAX_WRONG - purchase.otp_attempts})


def cancel_purchase(session: Session, purchase: Purchase, *, reason: str, actor: audit.Actor) -> None:
    """Void the reserve (the money is back in the balance), cancel the codes, tell the partners."""
    was_confirmed = purchase.status is PurchaseStatus.confirmed
    purchase.void_transfer_id = purchase.void_transfer_id or new_id()
    with contextlib.suppress(PendingAlreadyVoided):  # the ledger's timeout came first: the money is already back
        ledger.void_purchase(
            session,
            transfer_id=purchase.void_transfer_id,
            pending_id=purchase.pending_transfer_id,
            actor=actor,
            reason=reason[:200],
        )
    purchase.status = PurchaseStatus.cancelled
    purchase.cancelled_at = utcnow()
    purchase.cancel_reason = reason[:200]
    repository.cancel_codes(session, purchase.id)
    data = {"purchase_id": str(purchase.id)}
    if was_confirmed:
        events.emit_both(session, purchase.platform_id, purchase.institution_id, "purchase.cancelled", data)
    else:
        events.emit(session, purchase.platform_id, "purchase.cancelled", data)
    audit.record(session, actor, "training.purchase_cancelled", "purchase", purchase.id, reason=reason[:200])


def cancel(
    session: Session, *, purchase_id: str, platform_id: uuid.UUID, reason: str, actor: audit.Actor
) -> PurchaseCancelled:
    """``POST /partner/v1/purchases/{id}/cancel``: only before the voucher is redeemed."""
    purchase = _own_purchase(session, purchase_id, platform_id, lock=True)
    if purchase.status not in (PurchaseStatus.otp_sent, PurchaseStatus.confirmed):
        raise PurchaseState(details={"status": purchase.status.value})
    cancel_purchase(session, purchase, reason=reason, actor=actor)
    return PurchaseCancelled(
        purchase_id=str(purchase.id),
        status=purchase.status.value,
        balance_after=balance(session, purchase.participant_id),
    )


def purchase_sessions(session: Session, purchase: Purchase) -> list[PurchaseSession]:
    return [
        PurchaseSession(
            session_id=str(s.id),
            starts_at=s.starts_at,
            training_type=s.training_type.value,
            cancelled=s.cancelled_at is not None,
        )
        for s in catalog.course_sessions(session, purchase.course_id)
    ]


def read(session: Session, *, purchase_id: str, platform_id: uuid.UUID) -> PurchaseOut:
    """``GET /partner/v1/purchases/{id}``: the platform's own purchases only."""
    purchase = _own_purchase(session, purchase_id, platform_id)
    return PurchaseOut(
        purchase_id=str(purchase.id),
        status=purchase.status.value,
        course_id=str(purchase.course_id),
        amount=purchase.amount,
        voucher_code=purchase.voucher_code,
        sessions=purchase_sessions(session, purchase),
    )


# -- jobs ----------------------------------------------------------------------------------------------------------


def expire_otps(session: Session, *, now: datetime, limit: int = 500) -> int:
    """Cancel purchases whose one-time code expired unused (their reserve is voided)."""
    done = 0
    for purchase_id in repository.expired_otp_purchases(session, now, limit):
        purchase = repository.purchase(session, purchase_id, lock=True)
        if purchase is None or purchase.status is not PurchaseStatus.otp_sent or purchase.otp_expires_at >= now:
            continue
        cancel_purchase(session, purchase, reason="otp_expired", actor=audit.Actor.system())
        done += 1
    return done


def revoke_missed_deadline(session: Session, recipient: Recipient) -> bool:
    """Revoke a recipient who made no purchase by the first-purchase deadline and forfeit the balance to the
    treasury (a deterministic transfer id: a rerun forfeits nothing twice). False when they did buy."""
    if _bought(session, recipient):
        return False
    actor = audit.Actor.system()
    for purchase_id in repository.awaiting_otp(session, recipient.applicant_id):
        purchase = repository.purchase(session, purchase_id, lock=True)
        if purchase is not None and purchase.status is PurchaseStatus.otp_sent:
            cancel_purchase(session, purchase, reason="card_revoked", actor=actor)
    people.revoke(session, recipient.id)
    if ledger.wallet(session, recipient.applicant_id) is not None:
        with contextlib.suppress(NotFound, PendingAlreadyPosted):
            ledger.forfeit_wallet(
                session,
                transfer_id=uuid.uuid5(uuid.NAMESPACE_URL, f"prakerja:training.revocation:{recipient.id}"),
                participant_id=recipient.applicant_id,
                actor=actor,
                reason="first_purchase_deadline",
            )
    audit.record(
        session, actor, "training.card_revoked", "recipient", recipient.id, reason="first_purchase_deadline_missed"
    )
    return True


# -- creation and confirmation on a loop connection (db.on_loop, ADR 0014) ------------------------------------------
#
# The twins of :func:`create` and :func:`confirm` for a signed call served on the event loop: plain SQL through each
# domain's own service, in the transaction the caller opened on ``conn`` (``async with conn.transaction():``), one
# statement after another (asyncpg sends no pipeline of different statements; ADR 0028). The same
# rows, the same answers and the same refusals (raised before anything is written, except a refusal of the ledger's
# posting function, which the caller's rollback undoes, as the ``Session`` route's does); tests/training/
# test_purchases_on_loop.py holds each pair to that.


def _fresh_draw(codes: Sequence[str | None], lengths: list[int], taken: set[str]) -> list[str]:
    """As :func:`new_codes`: a code missing, already taken or drawn twice is drawn again, until all are fresh (among
    themselves; the database checks them with the write)."""
    kept = _keep_fresh(codes, taken)
    while any(c is None for c in kept):
        kept = _keep_fresh([c if c is not None else draw_code(n) for c, n in zip(kept, lengths, strict=True)], set())
    return [c for c in kept if c is not None]


def _keep_fresh(codes: Sequence[str | None], taken: set[str]) -> list[str | None]:
    """A code already taken or drawn twice is left out (None here), to be drawn again."""
    seen: set[str] = set()
    kept: list[str | None] = []
    for code in codes:
        if code is None or code in taken or code in seen:
            kept.append(None)
        else:
            seen.add(code)
            kept.append(code)
    return kept


_CHECKOUT = repository.checkout_statement(
    card=people.card_source,
    course=catalog.sellable_course_source,
    wallet=ledger.wallet_row_sql,
    payable=ledger.payable_id_sql,
    phone=people.verified_phone_sql,
    email=people.email_sql,
)
"""The creation's reads in one statement (ADR 0031): the card holder, the course and its listing, the purchases by
status and the platform account's binding, the wallet and the payable, where the code goes."""
_CREATION = repository.creation_statement(
    posting=ledger.PURCHASE_POSTING_SQL,
    entries=audit.ENTRIES_SQL,
    message=people.MESSAGE_SQL,
    job=people.delivery_job_sql,
)
"""The creation's writes in one statement (ADR 0031): the purchase, the ledger's and the marketplace's audit entries,
the one-time code's message and its job, the reserve by the ledger's posting function."""
_CREATION_UNSENT = repository.creation_statement(posting=ledger.PURCHASE_POSTING_SQL, entries=audit.ENTRIES_SQL)
""":data:`_CREATION` for an account with neither a verified phone nor an e-mail (nothing is sent)."""
_ANSWERED = {
    _CREATION: repository.creation_statement(
        posting=ledger.PURCHASE_POSTING_SQL,
        entries=audit.ENTRIES_SQL,
        message=people.MESSAGE_SQL,
        job=people.delivery_job_sql,
        answer=idempotency.answer_sql(),
    ),
    _CREATION_UNSENT: repository.creation_statement(
        posting=ledger.PURCHASE_POSTING_SQL, entries=audit.ENTRIES_SQL, answer=idempotency.answer_sql()
    ),
}
"""Each creation statement with the signed call's stored answer written by it too (ADR 0043)."""


async def create_on_loop(conn: asyncpg.Connection, *, caller: PartnerCaller, data: PurchaseCreate) -> PurchaseCreated:
    """:func:`create` on a loop connection: every check's facts read by one statement (:data:`_CHECKOUT`), the
    refusals of :func:`create` in its order (nothing written), then every write by one statement
    (:data:`_CREATION`; on an institution's first sale its payable is opened first, two statements more). The
    personal data is decrypted and encrypted here, between the two."""
    platform_id, actor = caller.partner_id, caller.actor
    account_index = blind_index(data.platform_account_id, "platform_account")
    index = people.card_index(data.card_number)
    frame = idempotency.current_frame()  # the call's claim folded into the read, its answer into the write (ADR 0043)
    found = (
        None
        if index is None and frame is None
        else await repository.checkout_on_loop(
            conn,
            _CHECKOUT,
            {
                "card_index": index,
                "course_id": parse_id(data.course_id),
                "platform_id": platform_id,
                "account_index": account_index,
            },
            frame,
        )
    )
    found, holder, counts, wallet = _usable_holder(found)
    course = catalog.sellable_course_of(found.course)
    if course is None:
        raise CourseNotListed()
    if found.bound:
        raise PlatformAccountBound()
    amount = course.price
    if not counts.get(PurchaseStatus.completed, 0) and any(counts.get(s, 0) for s in repository.UNDER_WAY):
        raise FirstTrainingUnfinished()
    if wallet.available < amount:
        raise InsufficientBalance(details={"amount": amount})
    contact = people.otp_contact_of(found.phone, found.email)
    payable_id = found.payable_id
    if payable_id is None:  # the institution's first sale
        payable_id = await ledger.open_payable_on_loop(conn, course.institution_id)
    now = utcnow()
    purchase_id = new_id()
    code = f"{secrets.randbelow(1_000_000):06d}"
    otp_expires_at = now + rules.OTP_TTL
    pending_transfer_id = new_id()
    posting = ledger.purchase_posting(
        transfer_id=pending_transfer_id,
        wallet_id=wallet.id,
        payee_id=payable_id,
        amount=amount,
        purchase_ref=str(purchase_id),
        timeout=rules.RESERVE_TIMEOUT,
        actor=actor,
    )
    started = audit.entry(
        actor,
        "training.purchase_started",
        "purchase",
        purchase_id,
        data={"course_id": str(course.id), "amount": amount, "platform_order_id": data.platform_order_id},
    )
    params = {
        **repository.purchase_params(
            {
                "id": purchase_id,
                "created_at": now,
                "recipient_id": holder.id,
                "participant_id": holder.applicant_id,
                "account_id": holder.account_id,
                "course_id": course.id,
                "institution_id": course.institution_id,
                "platform_id": platform_id,
                "platform_order_id": data.platform_order_id,
                "platform_account_index": account_index,
                "amount": amount,
                "status": PurchaseStatus.otp_sent.value,
                "otp_hash": otp_hash(purchase_id, code),
                "otp_expires_at": otp_expires_at,
                "pending_transfer_id": pending_transfer_id,
            }
        ),
        **posting.params,
        **audit.entries_params([posting.audit_entry, started]),
    }
    statement = _CREATION_UNSENT
    if contact is not None:
        statement = _CREATION
        params.update(
            people.otp_message_params(
                contact, account_id=holder.account_id, code=code, amount=amount, course_title=course.title
            )
        )
    answer = PurchaseCreated(
        purchase_id=str(purchase_id),
        status=PurchaseStatus.otp_sent.value,
        amount=amount,
        otp_expires_at=otp_expires_at,
    )
    stored = None if frame is None else frame.answer_part(answer)
    if stored is not None:  # the answer's bytes made now: everything in it was made above
        statement = _ANSWERED[statement]
        params.update(stored.params)
    try:
        try:
            row = await repository.create_on_loop(conn, statement, params)
        except asyncpg.IntegrityConstraintViolationError as failure:
            mapped = ledger.posting_failure(failure)
            if mapped is None:
                raise
            raise mapped from None
        posting.answer(row)
    except InsufficientFunds:
        raise InsufficientBalance(details={"amount": amount}) from None
    return answer


_CONFIRM_READ = repository.confirm_read_sql(
    sessions=catalog.sessions_lateral_sql("p.course_id"),
    endpoints=partners.endpoints_lateral_sql("p.platform_id", "p.institution_id"),
    wallet=ledger.wallet_row_sql("p.participant_id"),
)
"""The confirmation's read on a loop connection: the purchase locked, with its sessions (catalog's SQL), the
partners' endpoints (partners') and the wallet (ledger's), each domain's subquery from its service (ADR 0032)."""


async def confirm_on_loop(
    conn: asyncpg.Connection, *, caller: PartnerCaller, purchase_id: str, otp: str
) -> PurchaseConfirmed:
    """:func:`confirm` on a loop connection in two statements (ADR 0032): the purchase locked with its sessions, the
    partners' endpoints and the balance (one read); the same refusals, in the same order, from what it read; then
    every write in one statement (the purchase, its voucher and codes, the events, the webhooks and their jobs, the
    audit entry), the codes checked by that statement (all drawn again and the statement sent again, with nothing
    written, only in the rare case one was taken). A wrong code raises :class:`OtpInvalid` having written nothing:
    the caller rolls back (releasing the lock) and counts it with :func:`count_wrong_otp_on_loop`."""
    platform_id, actor = caller.partner_id, caller.actor
    parsed = parse_id(purchase_id)
    frame = idempotency.current_frame()  # the call's claim folded into the read, its answer into the write (ADR 0043)
    if parsed is None and frame is None:
        raise PurchaseNotFound()
    row = await repository.purchase_for_confirm_on_loop(conn, _CONFIRM_READ, parsed, frame)
    if row is None or row["platform_id"] != platform_id:
        raise PurchaseNotFound()
    found_id, institution_id, amount, status = row["id"], row["institution_id"], row["amount"], row["status"]
    if status != PurchaseStatus.otp_sent.value:
        raise PurchaseState(details={"status": status})
    now = utcnow()
    if now > row["otp_expires_at"]:
        raise OtpExpired()
    if not hmac.compare_digest(otp_hash(found_id, otp), bytes(row["otp_hash"])):
        raise OtpInvalid()
    sessions = [s for s in catalog.sessions_of_row(row) if s.cancelled_at is None]
    wallet = None if row["wallet"] is None else ledger.account_of(row["wallet"])
    parts = [
        *events.emit_both_parts(
            platform_id,
            institution_id,
            "purchase.confirmed",
            {"purchase_id": str(found_id)},
            partners.endpoints_of_row(row["wh_partner_ids"], row["wh_endpoint_ids"]),
            gate=repository.CONFIRMED,
        ),
        audit.record_part(actor, "training.purchase_confirmed", "purchase", found_id, gate=repository.CONFIRMED),
    ]
    lengths = [12] + [10] * len(sessions)
    codes = _fresh_draw([None] * len(lengths), lengths, set())
    ids = [new_id() for _ in sessions]
    balance_after = wallet.available if wallet is not None else 0
    while True:
        voucher, *session_codes = codes
        answer = PurchaseConfirmed(
            purchase_id=str(found_id),
            status=PurchaseStatus.confirmed.value,
            voucher_code=voucher,
            amount=amount,
            balance_after=balance_after,
        )
        stored = None if frame is None else frame.answer_part(answer, gate=repository.CONFIRMED)
        taken = await repository.confirm_on_loop(
            conn,
            purchase_id=found_id,
            voucher=voucher,
            now=now,
            codes=[
                {
                    "id": code_id,
                    "session_id": course_session.id,
                    "training_type": course_session.training_type.value,
                    "code": code,
                    "valid_from": course_session.starts_at - rules.REDEEM_WINDOW,
                    "valid_until": course_session.starts_at + rules.REDEEM_WINDOW,
                }
                for code_id, course_session, code in zip(ids, sessions, session_codes, strict=True)
            ],
            parts=parts if stored is None else [*parts, stored],
        )
        if not taken:
            break
        codes = _fresh_draw(codes, lengths, taken)  # a code already taken (rare): nothing was written
    return answer


async def count_wrong_otp_on_loop(
    conn: asyncpg.Connection, *, caller: PartnerCaller, purchase_id: str
) -> DomainError | None:
    """:func:`count_wrong_otp` in one statement on an autocommit loop connection (it commits by itself), after the
    confirmation's transaction was rolled back: ``otp_invalid`` with the attempts left. None, with nothing written,
    when this wrong code is the last one allowed or the purchase is no longer awaiting its code: the caller then
    runs :func:`count_wrong_otp` on a transaction of its own (it cancels the purchase and voids its reserve, or
    gives the refusal)."""
    if conn.is_in_transaction():
        raise ValueError("expects a loop connection outside a transaction block (db.on_loop)")
    parsed = parse_id(purchase_id)
    if parsed is None:
        return PurchaseNotFound()
    attempts = await repository.count_wrong_otp_on_loop(conn, parsed, caller.partner_id, rules.OTP_MAX_WRONG)
    if attempts is None:
        return None
    return OtpInvalid(details={"attempts_left": rules.OTP_MAX_WRONG - attempts})
