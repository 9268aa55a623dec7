"""Money claimed back from recipients found ineligible (PROGRAM.md step 13): a repayment demand opens a receivable
(clawback claims -> the demand's receivable), each repayment moves what came back to the treasury (receivable -> Kas
Negara). The receivable may never go negative, so the database refuses a repayment above what is still owed. The
payouts domain calls these; every call takes a caller-chosen ``transfer_id`` (a retry moves nothing twice)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.ledger.models import LedgerCode, TransferCode
from prakerja.ledger.schemas import Account, Transfer, TransferCreate
from prakerja.ledger.service import accounts
from prakerja.ledger.service.wallet import _post_and_audit, atomic, wallet_or_404


def _one(
    session: Session,
    transfer_id: uuid.UUID,
    debit: uuid.UUID,
    credit: uuid.UUID,
    amount: object,
    code: TransferCode,
    ref: tuple[str, str],
    *,
    actor: audit.Actor,
    action: str,
    reason: str,
    **data: object,
) -> Transfer:
    """One posted transfer, audited once (a retry with the same id moves nothing and records nothing)."""
    spec = TransferCreate(
        id=transfer_id,
        debit_account_id=debit,
        credit_account_id=credit,
        amount=amount,
        code=code,
        ref_type=ref[0],
        ref_id=ref[1],
    )
    return _post_and_audit(session, [spec], actor=actor, action=action, reason=reason, **data)[0]


@atomic
def demand_repayment(
    session: Session,
    *,
    transfer_id: uuid.UUID,
    clawback_id: uuid.UUID | str,
    participant_id: uuid.UUID | str,
    amount: object,
    actor: audit.Actor,
    reason: str = "",
) -> Transfer:
    """Clawback claims -> the demand's receivable: ``amount`` is now owed back to the program."""
    source = accounts.clawback_claims(session)
    receivable = accounts.clawback_receivable(session, clawback_id)
    return _one(
        session,
        transfer_id,
        source.id,
        receivable.id,
        amount,
        TransferCode.clawback_demand,
        ("clawback", str(clawback_id)),
        actor=actor,
        action="ledger.clawback_demanded",
        reason=reason,
        participant_id=participant_id,
    )


@atomic
def record_repayment(
    session: Session,
    *,
    transfer_id: uuid.UUID,
    clawback_id: uuid.UUID | str,
    amount: object,
    actor: audit.Actor,
    reason: str = "",
) -> Transfer:
    """The demand's receivable -> Kas Negara (cash): money repaid. Refused (``insufficient_funds``) above what is
    still owed."""
    receivable = accounts.clawback_receivable(session, clawback_id)
    treasury = accounts.treasury(session, LedgerCode.cash)
    return _one(
        session,
        transfer_id,
        receivable.id,
        treasury.id,
        amount,
        TransferCode.clawback_repayment,
        ("clawback", str(clawback_id)),
        actor=actor,
        action="ledger.clawback_repaid",
        reason=reason,
    )


@atomic
def withdraw_demand(
    session: Session,
    *,
    transfer_id: uuid.UUID,
    clawback_id: uuid.UUID | str,
    amount: object,
    actor: audit.Actor,
    reason: str = "",
) -> Transfer:
    """The reverse of ``demand_repayment`` for a demand withdrawn (raised in error): what is still owed goes from the
    demand's receivable back to clawback claims. Refused (``insufficient_funds``) above what is still owed; what
    was repaid stays with the treasury (a refund is a payment of its own)."""
    receivable = accounts.clawback_receivable(session, clawback_id)
    source = accounts.clawback_claims(session)
    return _one(
        session,
        transfer_id,
        receivable.id,
        source.id,
        amount,
        TransferCode.clawback_withdrawn,
        ("clawback", str(clawback_id)),
        actor=actor,
        action="ledger.clawback_withdrawn",
        reason=reason,
    )


@atomic
def release_incentive(
    session: Session,
    *,
    transfer_id: uuid.UUID,
    participant_id: uuid.UUID | str,
    scheme: str,
    year: int,
    amount: object,
    actor: audit.Actor,
    survey: bool = False,
    reason: str = "",
) -> Transfer:
    """The reverse of ``schedule_incentive`` for an entitlement cancelled before it was paid (a clawback): the
    participant's incentive (or survey-incentive) payable -> the scheme-year's cash budget."""
    opener = accounts.survey_incentive_payable if survey else accounts.incentive_payable
    payable = opener(session, participant_id, scheme=scheme, year=year)
    budget = accounts.state_budget(session, scheme=scheme, year=year, ledger=LedgerCode.cash)
    return _one(
        session,
        transfer_id,
        payable.id,
        budget.id,
        amount,
        TransferCode.incentive_cancelled,
        ("participant", str(participant_id)),
        actor=actor,
        action="ledger.incentive_released",
        reason=reason,
        participant_id=participant_id,
    )


def receivable(session: Session, clawback_id: uuid.UUID | str) -> Account:
    """The demand's receivable with its balance (what is still owed)."""
    return accounts.clawback_receivable(session, clawback_id)


@atomic
def claim_from_institution(
    session: Session,
    *,
    transfer_id: uuid.UUID,
    institution_id: uuid.UUID | str,
    participant_id: uuid.UUID | str,
    amount: object,
    purchase_ref: str,
    actor: audit.Actor,
    reason: str = "",
) -> Transfer:
    """A purchase refunded after the institution's settlement for its month was paid (ADR 0026): the participant's
    balance gets the amount back and the institution owes it (its receivable -> the wallet)."""
    receivable = accounts.institution_receivable(session, institution_id)
    return _to_wallet(
        session,
        transfer_id,
        receivable,
        participant_id,
        amount,
        TransferCode.institution_clawback,
        purchase_ref,
        actor=actor,
        reason=reason,
        institution_id=institution_id,
    )


@atomic
def claim_from_platform(
    session: Session,
    *,
    transfer_id: uuid.UUID,
    platform_id: uuid.UUID | str,
    participant_id: uuid.UUID | str,
    amount: object,
    purchase_ref: str,
    actor: audit.Actor,
    reason: str = "",
) -> Transfer:
    """The platform's commission share of a purchase refunded after the settlement of its month was paid: the
    participant's balance gets that share back and the platform owes it (its receivable -> the wallet)."""
    receivable = accounts.platform_receivable(session, platform_id)
    return _to_wallet(
        session,
        transfer_id,
        receivable,
        participant_id,
        amount,
        TransferCode.platform_clawback,
        purchase_ref,
        actor=actor,
        reason=reason,
        platform_id=platform_id,
    )


def _to_wallet(
    session: Session,
    transfer_id: uuid.UUID,
    receivable: Account,
    participant_id: uuid.UUID | str,
    amount: object,
    code: TransferCode,
    purchase_ref: str,
    *,
    actor: audit.Actor,
    reason: str,
    **data: object,
) -> Transfer:
    """An organisation's receivable -> the participant's wallet (a refund it owes back), audited ``ledger.<code>``."""
    target = wallet_or_404(session, participant_id)
    return _one(
        session,
        transfer_id,
        receivable.id,
        target.id,
        amount,
        code,
        ("purchase", purchase_ref),
        actor=actor,
        action=f"ledger.{code.value}",
        reason=reason,
        **data,
    )


@atomic
def net_receivable(
    session: Session,
    *,
    transfer_id: uuid.UUID,
    organisation_id: uuid.UUID | str,
    amount: object,
    settlement_ref: str,
    actor: audit.Actor,
    platform: bool = False,
    reason: str = "",
) -> Transfer:
    """What the institution (or, with ``platform``, the platform) owes back deducted from a settlement: its payable
    (a platform's commission account) -> its receivable. Refused (``insufficient_funds``) above what the payable
    holds or what is still owed."""
    payable = accounts.organisation_payable(session, organisation_id, platform=platform)
    receivable = accounts.organisation_receivable(session, organisation_id, platform=platform)
    return _one(
        session,
        transfer_id,
        payable.id,
        receivable.id,
        amount,
        TransferCode.clawback_netted,
        ("settlement", settlement_ref),
        actor=actor,
        action="ledger.clawback_netted",
        reason=reason,
        **{"platform_id" if platform else "institution_id": organisation_id},
    )
