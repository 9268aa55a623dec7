"""Opening, reading and closing accounts; the chart of accounts."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.ledger import repository, rules
from prakerja.ledger.errors import AccountNotFound
from prakerja.ledger.models import AccountKind, LedgerAccount, LedgerCode
from prakerja.ledger.schemas import Account, AccountCreate

CHART: dict[AccountKind, tuple[LedgerCode | None, bool, bool]] = {
    AccountKind.treasury: (None, False, False),
    AccountKind.state_budget: (None, True, False),
    AccountKind.training_wallet: (LedgerCode.training, True, False),
    AccountKind.institution_payable: (LedgerCode.training, True, False),
    AccountKind.platform_commission: (LedgerCode.training, True, False),
    AccountKind.incentive_payable: (LedgerCode.cash, True, False),
    AccountKind.survey_incentive_payable: (LedgerCode.cash, True, False),
    AccountKind.payouts_in_flight: (LedgerCode.cash, True, False),
    AccountKind.disbursed: (LedgerCode.cash, False, False),
    AccountKind.settlement_in_flight: (LedgerCode.training, True, False),
    AccountKind.settled: (LedgerCode.training, False, False),
    AccountKind.clawback_claims: (LedgerCode.cash, False, False),
    AccountKind.clawback_receivable: (LedgerCode.cash, True, False),
    AccountKind.institution_receivable: (LedgerCode.training, False, True),
    AccountKind.platform_receivable: (LedgerCode.training, False, True),
}
"""kind -> (the only ledger it may live on, or None for either; debits must not exceed credits; credits must
not exceed debits). Everything downstream of the treasury is credit-normal and may never go negative."""


def account_with_balances(row: LedgerAccount) -> Account:
    account = Account.model_validate(row)
    account.balance, account.available = rules.balance(
        debits_must_not_exceed_credits=row.debits_must_not_exceed_credits,
        credits_must_not_exceed_debits=row.credits_must_not_exceed_debits,
        debits_posted=row.debits_posted,
        credits_posted=row.credits_posted,
        debits_pending=row.debits_pending,
        credits_pending=row.credits_pending,
    )
    return account


def open_account(session: Session, data: AccountCreate) -> Account:
    """Open (or return the existing) account for this ledger, kind and owner."""
    repository.insert_account_if_absent(session, data.model_dump(mode="python"))
    row = repository.account_by_owner(
        session, ledger=data.ledger, kind=data.kind, owner_type=data.owner_type, owner_id=data.owner_id
    )
    assert row is not None
    return account_with_balances(row)


def chart_account(
    session: Session,
    kind: AccountKind,
    owner_type: str,
    owner_id: str,
    *,
    ledger: LedgerCode | None = None,
    scheme: str | None = None,
    year: int | None = None,
) -> Account:
    """Open an account of the chart of accounts with the flags its kind requires."""
    fixed_ledger, debits_flag, credits_flag = CHART[kind]
    chosen = fixed_ledger or ledger
    if chosen is None or (fixed_ledger is not None and ledger is not None and ledger != fixed_ledger):
        raise ValueError(f"{kind} lives on ledger {fixed_ledger}")
    return open_account(
        session,
        AccountCreate(
            ledger=int(chosen),
            kind=kind,
            owner_type=owner_type,
            owner_id=owner_id,
            scheme=scheme,
            year=year,
            debits_must_not_exceed_credits=debits_flag,
            credits_must_not_exceed_debits=credits_flag,
        ),
    )


def get_account(session: Session, account_id: uuid.UUID) -> Account:
    row = repository.account(session, account_id)
    if row is None:
        raise AccountNotFound(details={"account_id": str(account_id)})
    return account_with_balances(row)


def find_account(session: Session, *, ledger: int, kind: AccountKind, owner_type: str, owner_id: str) -> Account | None:
    row = repository.account_by_owner(session, ledger=ledger, kind=kind, owner_type=owner_type, owner_id=owner_id)
    return account_with_balances(row) if row is not None else None


def close_account(session: Session, account_id: uuid.UUID, *, actor: audit.Actor, reason: str) -> Account:
    """Refuse new transfers on the account (pending ones may still be voided)."""
    repository.lock_accounts(session, [account_id])
    get_account(session, account_id)
    repository.set_closed(session, account_id, True)
    audit.record(session, actor, "ledger.account_closed", "ledger_account", account_id, reason=reason)
    return get_account(session, account_id)


# the chart, by role ---------------------------------------------------------------------------------------


def treasury(session: Session, ledger: LedgerCode) -> Account:
    return chart_account(session, AccountKind.treasury, "program", "kas_negara", ledger=ledger)


def state_budget(session: Session, *, scheme: str, year: int, ledger: LedgerCode) -> Account:
    return chart_account(
        session, AccountKind.state_budget, "scheme_year", f"{scheme}:{year}", ledger=ledger, scheme=scheme, year=year
    )


def training_wallet(
    session: Session, participant_id: uuid.UUID | str, *, scheme: str | None = None, year: int | None = None
) -> Account:
    return chart_account(
        session, AccountKind.training_wallet, "participant", str(participant_id), scheme=scheme, year=year
    )


def institution_payable(session: Session, institution_id: uuid.UUID | str) -> Account:
    return chart_account(session, AccountKind.institution_payable, "institution", str(institution_id))


def platform_commission(session: Session, platform_id: uuid.UUID | str) -> Account:
    return chart_account(session, AccountKind.platform_commission, "platform", str(platform_id))


def incentive_payable(
    session: Session, participant_id: uuid.UUID | str, *, scheme: str | None = None, year: int | None = None
) -> Account:
    return chart_account(
        session, AccountKind.incentive_payable, "participant", str(participant_id), scheme=scheme, year=year
    )


def survey_incentive_payable(
    session: Session, participant_id: uuid.UUID | str, *, scheme: str | None = None, year: int | None = None
) -> Account:
    return chart_account(
        session, AccountKind.survey_incentive_payable, "participant", str(participant_id), scheme=scheme, year=year
    )


def incentive_payables(
    session: Session,
    participant_ids: Sequence[uuid.UUID | str],
    *,
    survey: bool = False,
    scheme: str | None = None,
    year: int | None = None,
) -> dict[str, uuid.UUID]:
    """The incentive (or survey-incentive) payables of many participants at once, by participant id text (the
    payout run's bulk path): one query for the existing ones, :func:`incentive_payable` for any still missing."""
    kind = AccountKind.survey_incentive_payable if survey else AccountKind.incentive_payable
    owners = sorted({str(p) for p in participant_ids})
    found = repository.account_ids_by_owners(
        session, ledger=int(LedgerCode.cash), kind=kind, owner_type="participant", owner_ids=owners
    )
    opener = survey_incentive_payable if survey else incentive_payable
    for owner in owners:
        if owner not in found:
            found[owner] = opener(session, owner, scheme=scheme, year=year).id
    return found


def payouts_in_flight(session: Session, run_id: uuid.UUID | str) -> Account:
    return chart_account(session, AccountKind.payouts_in_flight, "payout_run", str(run_id))


def disbursed(session: Session) -> Account:
    return chart_account(session, AccountKind.disbursed, "program", "disbursed")


def clawback_claims(session: Session) -> Account:
    return chart_account(session, AccountKind.clawback_claims, "program", "clawback_claims")


def clawback_receivable(session: Session, clawback_id: uuid.UUID | str) -> Account:
    return chart_account(session, AccountKind.clawback_receivable, "clawback", str(clawback_id))


def institution_receivable(session: Session, institution_id: uuid.UUID | str) -> Account:
    """What the institution still owes back for purchases refunded after its settlement (debit-normal)."""
    return chart_account(session, AccountKind.institution_receivable, "institution", str(institution_id))


def platform_receivable(session: Session, platform_id: uuid.UUID | str) -> Account:
    """What the platform still owes back: commissions on purchases refunded after their settlement (debit-normal)."""
    return chart_account(session, AccountKind.platform_receivable, "platform", str(platform_id))


def organisation_receivable(session: Session, organisation_id: uuid.UUID | str, *, platform: bool) -> Account:
    """What an institution (or a platform) still owes back for purchases refunded after their settlement."""
    return (
        platform_receivable(session, organisation_id) if platform else institution_receivable(session, organisation_id)
    )


def settlement_in_flight(session: Session, batch_id: uuid.UUID | str) -> Account:
    """One settlement batch's money with its payment partner, not yet confirmed (training ledger, ADR 0016)."""
    return chart_account(session, AccountKind.settlement_in_flight, "payout_batch", str(batch_id))


def settled(session: Session) -> Account:
    """Everything confirmed paid to institutions and platforms (training ledger)."""
    return chart_account(session, AccountKind.settled, "program", "settled")


def organisation_payable(session: Session, organisation_id: uuid.UUID | str, *, platform: bool) -> Account:
    """What the program owes an organisation from accepted completions: an institution's payable (net of
    commissions) or a platform's commission account."""
    return platform_commission(session, organisation_id) if platform else institution_payable(session, organisation_id)
