"""The participant's training wallet and the program's money operations (what other domains call).

Every operation takes a caller-chosen ``transfer_id``: calling it again with the same id and arguments returns
the first result and moves nothing. Officer and partner actions are written to the audit log."""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import wraps
from typing import Any, Concatenate, ParamSpec, TypeVar

import asyncpg
from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.kit.clock import utcnow
from prakerja.kit.errors import DomainError
from prakerja.kit.ids import new_id
from prakerja.kit.loop import Later
from prakerja.ledger import repository, rules
from prakerja.ledger.errors import (
    AccountNotFound,
    InsufficientFunds,
    PendingAlreadyPosted,
    PendingAlreadyVoided,
    SchemeUnknown,
    TransferExists,
)
from prakerja.ledger.models import GENESIS, AccountKind, LedgerCode, TransferCode, TransferMode
from prakerja.ledger.schemas import Account, BatchTransfer, Transfer, TransferCreate
from prakerja.ledger.service import accounts
from prakerja.ledger.service.batch import post_batch
from prakerja.ledger.service.transfers import (
    create_or_find_transfers,
    direct_params,
    map_integrity,
    prepare_transfer,
    refusal,
)
from prakerja.schemes.rules import Scheme, SchemeError
from prakerja.schemes.rules import load as load_scheme

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def atomic(func: Callable[Concatenate[Session, P], R]) -> Callable[Concatenate[Session, P], R]:
    """The whole operation in a savepoint: a refusal leaves nothing behind (not even an opened account)."""

    @wraps(func)
    def wrapper(session: Session, *args: P.args, **kwargs: P.kwargs) -> R:
        with session.begin_nested():
            return func(session, *args, **kwargs)

    return wrapper


def _audit_transfer(
    session: Session, actor: audit.Actor, action: str, transfer: Transfer, *, reason: str = "", **data: object
) -> None:
    audit.record(
        session,
        actor,
        action,
        "ledger_transfer",
        transfer.id,
        reason=reason,
        data={"amount": transfer.amount, "code": transfer.code.value, **{k: str(v) for k, v in data.items()}},
    )


def load(name: str) -> Scheme:
    try:
        return load_scheme(name)
    except SchemeError:
        raise SchemeUnknown(details={"scheme": name[:64]}) from None


def record_officer_transfers(
    session: Session, actor: audit.Actor, transfers: list[Transfer], *, reason: str = ""
) -> None:
    """Audit transfers an officer created directly (adjustments through the API)."""
    for transfer in transfers:
        _audit_transfer(session, actor, "ledger.transfer_created", transfer, reason=reason, mode=transfer.mode.value)


def _post_one(session: Session, spec: TransferCreate) -> Transfer:
    """One transfer, or the stored one when this is a retry."""
    return create_or_find_transfers(session, [spec])[0][0]


def _post_and_audit(
    session: Session,
    specs: list[TransferCreate],
    *,
    actor: audit.Actor,
    action: str,
    reason: str = "",
    **data: object,
) -> list[Transfer]:
    """Post a chain and audit its first transfer, once: a retry returns the stored chain and records nothing."""
    transfers, created = create_or_find_transfers(session, specs)
    if created:
        _audit_transfer(session, actor, action, transfers[0], reason=reason, **data)
    return transfers


def wallet(session: Session, participant_id: uuid.UUID | str) -> Account | None:
    """The participant's training wallet, or None before funding."""
    return accounts.find_account(
        session,
        ledger=LedgerCode.training,
        kind=AccountKind.training_wallet,
        owner_type="participant",
        owner_id=str(participant_id),
    )


def wallet_or_404(session: Session, participant_id: uuid.UUID | str) -> Account:
    found = wallet(session, participant_id)
    if found is None:
        raise AccountNotFound(details={"participant_id": str(participant_id)})
    return found


@atomic
def allocate_budget(
    session: Session,
    *,
    transfer_id: uuid.UUID,
    scheme: str,
    year: int,
    amount: object,
    actor: audit.Actor,
    ledger: LedgerCode = LedgerCode.training,
    reason: str = "",
) -> Transfer:
    """Treasury -> the scheme-year budget (training credit or cash)."""
    load(scheme)
    source = accounts.treasury(session, ledger)
    budget = accounts.state_budget(session, scheme=scheme, year=year, ledger=ledger)
    return _post_and_audit(
        session,
        [
            TransferCreate(
                id=transfer_id,
                debit_account_id=source.id,
                credit_account_id=budget.id,
                amount=amount,
                code=TransferCode.allocate,
                ref_type="scheme_year",
                ref_id=f"{scheme}:{year}",
            )
        ],
        actor=actor,
        action="ledger.budget_allocated",
        reason=reason,
        scheme=scheme,
        year=year,
    )[0]


@atomic
def fund_wallet(
    session: Session,
    *,
    transfer_id: uuid.UUID,
    participant_id: uuid.UUID | str,
    scheme: str,
    year: int,
    actor: audit.Actor,
    amount: object | None = None,
) -> Transfer:
    """Budget -> wallet, when a person becomes a recipient (the scheme's training balance by default)."""
    chosen = load(scheme).training.balance if amount is None else amount
    budget = accounts.state_budget(session, scheme=scheme, year=year, ledger=LedgerCode.training)
    target = accounts.training_wallet(session, participant_id, scheme=scheme, year=year)
    return _post_and_audit(
        session,
        [
            TransferCreate(
                id=transfer_id,
                debit_account_id=budget.id,
                credit_account_id=target.id,
                amount=chosen,
                code=TransferCode.fund,
                ref_type="participant",
                ref_id=str(participant_id),
            )
        ],
        actor=actor,
        action="ledger.wallet_funded",
        participant_id=participant_id,
        scheme=scheme,
    )[0]


def authorise_purchase(
    session: Session,
    *,
    transfer_id: uuid.UUID,
    participant_id: uuid.UUID | str,
    institution_id: uuid.UUID | str,
    amount: object,
    purchase_ref: str,
    timeout: timedelta,
    actor: audit.Actor,
) -> Transfer:
    """Reserve the course price in the wallet (pending wallet -> institution payable) until captured, voided
    or expired after ``timeout``.

    Both accounts are found by owner in one statement. On the institution's first sale its payable is opened, in a
    savepoint with the posting (as the other operations here, ``atomic``): a refusal leaves no account behind.
    Otherwise no savepoint (two round trips fewer): a refusal of the posting function is an answer, not an error,
    and it writes nothing, so there is nothing to roll back."""
    wallet_key = (AccountKind.training_wallet, "participant", str(participant_id))
    payable_key = (AccountKind.institution_payable, "institution", str(institution_id))
    found = repository.account_ids_by_owner(session, LedgerCode.training, [wallet_key, payable_key])
    if wallet_key not in found:
        raise AccountNotFound(details={"participant_id": str(participant_id)})
    post = functools.partial(_authorise, session, transfer_id, found[wallet_key], amount, purchase_ref, timeout, actor)
    payee_id = found.get(payable_key)
    if payee_id is None:
        with session.begin_nested():
            return post(accounts.institution_payable(session, institution_id).id)
    return post(payee_id)


def _authorise(
    session: Session,
    transfer_id: uuid.UUID,
    wallet_id: uuid.UUID,
    amount: object,
    purchase_ref: str,
    timeout: timedelta,
    actor: audit.Actor,
    payee_id: uuid.UUID,
) -> Transfer:
    return _post_and_audit(
        session,
        [
            TransferCreate(
                id=transfer_id,
                debit_account_id=wallet_id,
                credit_account_id=payee_id,
                amount=amount,
                code=TransferCode.purchase,
                mode=TransferMode.pending,
                timeout_seconds=max(1, int(timeout.total_seconds())),
                ref_type="purchase",
                ref_id=purchase_ref,
            )
        ],
        actor=actor,
        action="ledger.purchase_authorised",
        purchase=purchase_ref,
    )[0]


@atomic
def capture_purchase(
    session: Session,
    *,
    transfer_id: uuid.UUID,
    pending_id: uuid.UUID,
    actor: audit.Actor,
    amount: object | None = None,
    platform_id: uuid.UUID | str | None = None,
    commission: int = 0,
) -> list[Transfer]:
    """Post the authorised purchase (on confirmation), and in the same chain the platform's commission out of
    the institution payable when its agreement has one."""
    chain = [
        TransferCreate(
            id=transfer_id,
            pending_id=pending_id,
            amount=amount,
            code=TransferCode.purchase,
            mode=TransferMode.post_pending,
        )
    ]
    if commission:
        if platform_id is None:
            raise ValueError("a commission needs the platform")
        pending = repository.transfers_by_ids(session, [pending_id]).get(pending_id)
        if pending is not None:
            chain.append(
                TransferCreate(
                    id=rules.system_id("commission", transfer_id),
                    debit_account_id=pending.credit_account_id,
                    credit_account_id=accounts.platform_commission(session, platform_id).id,
                    amount=commission,
                    code=TransferCode.commission,
                    ref_type="transfer",
                    ref_id=str(transfer_id),
                )
            )
    return _post_and_audit(session, chain, actor=actor, action="ledger.purchase_captured", pending_id=pending_id)


@atomic
def void_purchase(
    session: Session, *, transfer_id: uuid.UUID, pending_id: uuid.UUID, actor: audit.Actor, reason: str = ""
) -> Transfer:
    """Release an authorised purchase: the money is back in the balance."""
    return _post_and_audit(
        session,
        [
            TransferCreate(
                id=transfer_id, pending_id=pending_id, code=TransferCode.purchase, mode=TransferMode.void_pending
            )
        ],
        actor=actor,
        action="ledger.purchase_voided",
        reason=reason,
        pending_id=pending_id,
    )[0]


@atomic
def refund_purchase(
    session: Session,
    *,
    transfer_id: uuid.UUID,
    participant_id: uuid.UUID | str,
    institution_id: uuid.UUID | str,
    amount: object,
    purchase_ref: str,
    actor: audit.Actor,
    reason: str = "",
) -> Transfer:
    """A captured session cancelled by the program: institution payable -> wallet (a correcting transfer)."""
    target = wallet_or_404(session, participant_id)
    payer = accounts.institution_payable(session, institution_id)
    return _post_and_audit(
        session,
        [
            TransferCreate(
                id=transfer_id,
                debit_account_id=payer.id,
                credit_account_id=target.id,
                amount=amount,
                code=TransferCode.refund,
                ref_type="purchase",
                ref_id=purchase_ref,
            )
        ],
        actor=actor,
        action="ledger.purchase_refunded",
        reason=reason,
        purchase=purchase_ref,
    )[0]


@atomic
def forfeit_wallet(
    session: Session,
    *,
    transfer_id: uuid.UUID,
    participant_id: uuid.UUID | str,
    actor: audit.Actor,
    expiry: bool = False,
    reason: str = "",
) -> Transfer | None:
    """Everything still available in the wallet -> Kas Negara (revocation, or the yearly expiry). Pending
    purchases stay reserved; None when nothing is left. Idempotent like every transfer: a retry with the same id
    returns the first result, including a first "nothing" (kept in ``ledger_empty_forfeits``), so money that
    arrived in between is never taken by an old forfeit."""
    source = wallet_or_404(session, participant_id)
    sink = accounts.treasury(session, LedgerCode.training)
    repository.lock_accounts(session, [source.id, sink.id])  # both, in the one global order; then look for retries
    existing = repository.transfers_by_ids(session, [transfer_id]).get(transfer_id)
    if existing is not None:
        return _post_one(
            session,
            TransferCreate(
                id=transfer_id,
                debit_account_id=existing.debit_account_id,
                credit_account_id=existing.credit_account_id,
                amount=existing.amount,
                code=existing.code,
                ref_type=existing.ref_type,
                ref_id=existing.ref_id,
            ),
        )
    if repository.empty_forfeit_exists(session, transfer_id):
        return None
    available = accounts.get_account(session, source.id).available
    if available <= 0:
        repository.record_empty_forfeit(session, transfer_id, str(participant_id), utcnow())
        return None
    code = TransferCode.forfeit_expiry if expiry else TransferCode.forfeit_revocation
    return _post_and_audit(
        session,
        [
            TransferCreate(
                id=transfer_id,
                debit_account_id=source.id,
                credit_account_id=sink.id,
                amount=available,
                code=code,
                ref_type="participant",
                ref_id=str(participant_id),
            )
        ],
        actor=actor,
        action=f"ledger.wallet_{code.value}",
        reason=reason,
        participant_id=participant_id,
    )[0]


@atomic
def schedule_incentive(
    session: Session,
    *,
    transfer_id: uuid.UUID,
    participant_id: uuid.UUID | str,
    scheme: str,
    year: int,
    actor: audit.Actor,
    survey: bool = False,
    amount: object | None = None,
) -> Transfer:
    """Cash budget -> the participant's incentive (or survey-incentive) payable. Its caller is to be the payouts
    domain (the incentive schedule after a completed training); until payouts exists, only tests call it."""
    loaded = load(scheme)
    default = loaded.survey_incentive.amount if survey else loaded.incentive.amount
    budget = accounts.state_budget(session, scheme=scheme, year=year, ledger=LedgerCode.cash)
    opener = accounts.survey_incentive_payable if survey else accounts.incentive_payable
    payable = opener(session, participant_id, scheme=scheme, year=year)
    return _post_and_audit(
        session,
        [
            TransferCreate(
                id=transfer_id,
                debit_account_id=budget.id,
                credit_account_id=payable.id,
                amount=default if amount is None else amount,
                code=TransferCode.survey_incentive if survey else TransferCode.incentive,
                ref_type="participant",
                ref_id=str(participant_id),
            )
        ],
        actor=actor,
        action="ledger.incentive_scheduled",
        participant_id=participant_id,
        survey=survey,
    )[0]


# jobs -----------------------------------------------------------------------------------------------------


def expire_pending(session: Session, *, now: datetime, limit: int = 1000) -> int:
    """Void pending transfers past their timeout (deterministic ids: a rerun voids nothing twice)."""
    done = 0
    for pending_id in repository.expired_pending(session, now, limit):
        try:
            _post_one(
                session,
                TransferCreate(
                    id=rules.system_id("expire", pending_id),
                    pending_id=pending_id,
                    code=TransferCode.expired,
                    mode=TransferMode.void_pending,
                ),
            )
            done += 1
        except (PendingAlreadyPosted, PendingAlreadyVoided):
            continue
    return done


def year_end_expiry(session: Session, *, now: datetime, page: int = 10_000) -> int:
    """Forfeit the unused balance of every wallet whose scheme's expiry day (15 December) has come, through the
    batch path. The id of each forfeit depends on the wallet's chain head, so a rerun forfeits nothing twice and
    money released later (a voided purchase) is forfeited by the next run."""
    forfeited = 0
    for scheme_name, year in repository.expiry_schemes(session):
        try:
            training = load(scheme_name).training
        except SchemeUnknown:
            log.warning("wallets of an unknown scheme skipped", extra={"scheme": scheme_name})
            continue
        if not rules.expiry_due(now, year, training.expiry_month, training.expiry_day):
            continue
        sink = accounts.treasury(session, LedgerCode.training)
        after: uuid.UUID | None = None
        total = 0
        while True:
            candidates = repository.wallets_for_expiry(session, scheme=scheme_name, year=year, after=after, limit=page)
            if not candidates:
                break
            # lock the page and the treasury together, in id order, then read the amounts under the locks
            locked = repository.lock_accounts(session, [sink.id, *(c.id for c in candidates)])
            rows = [
                locked[c.id]
                for c in candidates
                if locked[c.id].credits_posted > locked[c.id].debits_posted + locked[c.id].debits_pending
            ]
            after = candidates[-1].id
            if not rows:
                continue
            batch = [
                BatchTransfer(
                    id=rules.system_id("expiry", row.id, year, row.head_hash.hex()),
                    debit_account_id=row.id,
                    credit_account_id=sink.id,
                    amount=row.credits_posted - row.debits_posted - row.debits_pending,
                    code=TransferCode.forfeit_expiry,
                    ref_type="scheme_year",
                    ref_id=f"{scheme_name}:{year}",
                )
                for row in rows
            ]
            try:
                result = post_batch(session, batch)
            except DomainError as error:
                if isinstance(error, InsufficientFunds):
                    log.error("year-end expiry batch refused", extra={"scheme": scheme_name, "year": year})
                raise
            forfeited += result.created
            total += sum(t.amount for t in batch)
        if total:
            audit.record(
                session,
                audit.Actor.system(),
                "ledger.year_end_expiry",
                "scheme_year",
                f"{scheme_name}:{year}",
                data={"amount": total},
            )
    return forfeited


# --- the purchase path on a loop connection (db.on_loop, ADR 0014) ----------------------------------------------


def _account_of(row: tuple[Any, ...]) -> Account:
    values = dict(zip(repository.ACCOUNT_FIELDS, row, strict=True))
    account = Account.model_construct(**values)
    account.balance, account.available = rules.balance(
        debits_must_not_exceed_credits=values["debits_must_not_exceed_credits"],
        credits_must_not_exceed_debits=values["credits_must_not_exceed_debits"],
        debits_posted=values["debits_posted"],
        credits_posted=values["credits_posted"],
        debits_pending=values["debits_pending"],
        credits_pending=values["credits_pending"],
    )
    account.kind = AccountKind(values["kind"])
    return account


async def wallet_on_loop(conn: asyncpg.Connection, participant_id: uuid.UUID | str) -> Later[Account | None]:
    """:func:`wallet` on a loop connection (``db.on_loop``, ADR 0014): the same account and balances."""
    key = (AccountKind.training_wallet, "participant", str(participant_id))
    rows = await repository.two_accounts_on_loop(conn, LedgerCode.training, key, key)

    async def wallet_only() -> Account | None:
        found = await rows()
        return _account_of(found[0]) if found else None

    return wallet_only


# --- the purchase's reserve in a statement the training domain composes (ADR 0031) ----------------------------------


def wallet_row_sql(participant: str) -> str:
    """An SQL expression: the participant's training wallet (the participant's id given as an SQL expression) with
    its totals, one record read by :func:`account_of` (NULL when there is none): :func:`wallet`'s account, for a
    statement another domain's repository composes (ADR 0031). The ledger's SQL stays in its repository."""
    return repository.account_row_sql(LedgerCode.training, AccountKind.training_wallet, "participant", participant)


def payable_id_sql(institution: str) -> str:
    """An SQL expression: the id of the institution's payable (the institution's id given as an SQL expression),
    NULL before its first sale (then :func:`open_payable_on_loop`), as :func:`authorise_purchase` finds it."""
    return repository.account_id_sql(LedgerCode.training, AccountKind.institution_payable, "institution", institution)


def account_of(row: Sequence[Any]) -> Account:
    """A record of :func:`wallet_row_sql` as the :class:`Account` :func:`wallet` gives (balance and available
    computed)."""
    return _account_of(tuple(row))


async def open_payable_on_loop(conn: asyncpg.Connection, institution_id: uuid.UUID | str) -> uuid.UUID:
    """The institution's payable opened on its first sale (insert if absent, then its id: two statements on a loop
    connection, in the caller's transaction), as :func:`authorise_purchase` opens it."""
    fixed_ledger, debits_flag, credits_flag = accounts.CHART[AccountKind.institution_payable]
    assert fixed_ledger is not None
    return await repository.open_account_on_loop(
        conn,
        {
            "id": new_id(),
            "created_at": utcnow(),
            "ledger": int(fixed_ledger),
            "kind": AccountKind.institution_payable.value,
            "owner_type": "institution",
            "owner_id": str(institution_id),
            "scheme": None,
            "year": None,
            "debits_must_not_exceed_credits": debits_flag,
            "credits_must_not_exceed_debits": credits_flag,
            "head_hash": GENESIS,
        },
    )


PURCHASE_POSTING_SQL = repository.CREATE_POSTED_NAMED_SQL
"""The posting function's call that reserves a purchase's price (:func:`authorise_purchase`'s), parameters named
``transfer_...`` (from :meth:`PurchasePosting.params`): a SELECT of one row, read by :meth:`PurchasePosting.answer`, for
a statement another domain's repository composes (ADR 0031). The function keeps its locks, balance checks and hash
chain; a refusal is its answer and writes nothing."""


@dataclass(frozen=True)
class PurchasePosting:
    """A purchase's reserve (pending wallet -> institution payable) prepared for :data:`PURCHASE_POSTING_SQL`: its
    parameters, the audit entry the ledger writes for it (``audit.entry``: for the composing statement to write with
    its own), and the answer read from the function's row."""

    spec: TransferCreate
    wallet_id: uuid.UUID
    payee_id: uuid.UUID
    amount: int
    params: dict[str, Any]
    audit_entry: dict[str, Any]

    def answer(self, row: Sequence[Any]) -> Transfer:
        """The reserve written, or the posting function's refusal raised (the caller's transaction must then be
        rolled back: the composing statement wrote the rest, the audit entry among it)."""
        error, _index, details, created, seq, ledger, timeout_at, created_at = row
        if error is not None:
            raise refusal(error, details)
        if not created:  # a stored transfer of the same id: this is for a new purchase only
            raise TransferExists(details={"transfer_id": str(self.spec.id)})
        return Transfer.model_construct(
            id=self.spec.id,
            seq=seq,
            ledger=ledger,
            code=self.spec.code,
            mode=self.spec.mode,
            debit_account_id=self.wallet_id,
            credit_account_id=self.payee_id,
            amount=self.amount,
            pending_id=None,
            timeout_at=timeout_at,
            ref_type=self.spec.ref_type,
            ref_id=self.spec.ref_id,
            created_at=created_at,
        )


def purchase_posting(
    *,
    transfer_id: uuid.UUID,
    wallet_id: uuid.UUID,
    payee_id: uuid.UUID,
    amount: int,
    purchase_ref: str,
    timeout: timedelta,
    actor: audit.Actor,
) -> PurchasePosting:
    """:func:`authorise_purchase`'s posting and audit entry for a new purchase (``transfer_id`` fresh), with the
    wallet (:func:`wallet_row_sql`) and the payable (:func:`payable_id_sql`, or :func:`open_payable_on_loop`) found,
    to be written by a statement another domain composes (ADR 0031). Nothing is written here."""
    spec = TransferCreate(
        id=transfer_id,
        debit_account_id=wallet_id,
        credit_account_id=payee_id,
        amount=amount,
        code=TransferCode.purchase,
        mode=TransferMode.pending,
        timeout_seconds=max(1, int(timeout.total_seconds())),
        ref_type="purchase",
        ref_id=purchase_ref,
    )
    checked = prepare_transfer(spec)
    assert checked is not None
    values = direct_params(spec, checked)
    entry = audit.entry(
        actor,
        "ledger.purchase_authorised",
        "ledger_transfer",
        transfer_id,
        data={"amount": checked, "code": spec.code.value, "purchase": purchase_ref},
    )
    params = {f"transfer_{name}": values[name] for name in repository.POSTED_NAMES}
    return PurchasePosting(spec, wallet_id, payee_id, checked, params, entry)


def posting_failure(error: asyncpg.IntegrityConstraintViolationError) -> DomainError | None:
    """The ledger's refusal for a constraint of its own tables that stopped a composed statement (as
    :func:`authorise_purchase` maps it); None when the constraint is another domain's."""
    if not str(getattr(error, "table_name", None) or "").startswith("ledger_"):
        return None
    return map_integrity(error)
