"""Balances, history with running balance, program totals and the integrity check."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from prakerja.ledger import repository
from prakerja.ledger.models import AccountKind, LedgerCode, TransferCode, TransferMode
from prakerja.ledger.schemas import CheckReport, HistoryLine, ProgramTotals, Transfer
from prakerja.ledger.service.accounts import find_account, get_account

_TRANSFER_FIELDS = tuple(Transfer.model_fields)


def history(session: Session, account_id: uuid.UUID, *, limit: int = 100) -> list[HistoryLine]:
    """Newest first; ``running_balance`` is the posted balance after each transfer (credit-normal sign, or
    debit-normal for accounts flagged so)."""
    account = get_account(session, account_id)
    sign = -1 if account.credits_must_not_exceed_debits else 1
    lines = []
    for row in repository.history(session, account_id, limit):
        mapping = row._mapping
        transfer = Transfer.model_validate({k: mapping[k] for k in _TRANSFER_FIELDS})
        lines.append(
            HistoryLine(
                transfer=transfer,
                direction="credit" if transfer.credit_account_id == account_id else "debit",
                change=sign * int(mapping["change"]),
                pending_change=sign * int(mapping["pending_change"]),
                running_balance=sign * int(mapping["running"]),
            )
        )
    return lines


def program_totals(session: Session, *, scheme: str, year: int) -> ProgramTotals:
    """Training money of one scheme-year: budget, committed to wallets, spent, refunded, forfeited, pending."""
    sums = repository.totals_by_code(session, scheme=scheme, year=year, ledger=LedgerCode.training)

    def total(code: TransferCode, mode: TransferMode = TransferMode.posted) -> int:
        return sums.get((code.value, mode.value), 0)

    return ProgramTotals(
        scheme=scheme,
        year=year,
        budget=total(TransferCode.allocate),
        committed=total(TransferCode.fund),
        spent=total(TransferCode.purchase, TransferMode.post_pending) - total(TransferCode.refund),
        refunded=total(TransferCode.refund),
        forfeited=total(TransferCode.forfeit_revocation) + total(TransferCode.forfeit_expiry),
        pending=repository.pending_open_amount(session, scheme=scheme, year=year),
    )


def budget_available(session: Session, *, scheme: str, year: int) -> int:
    """What a scheme-year's training budget can still fund (0 before its first allocation); opens nothing."""
    found = find_account(
        session,
        ledger=LedgerCode.training,
        kind=AccountKind.state_budget,
        owner_type="scheme_year",
        owner_id=f"{scheme}:{year}",
    )
    return found.available if found is not None else 0


_CHECKS = {
    "sum_zero": "ledger {0}: debits and credits differ (posted {1}, pending {2})",
    "totals": "account {0}: totals differ from the sum of its transfers",
    "unknown_accounts": "transfer {0}: debits or credits an account that does not exist",
    "resolved_twice": "pending transfer {0}: resolved more than once",
    "resolves_non_pending": "transfer {0}: resolves something that is not a matching pending transfer",
    "hash": "transfer {0}: content does not match its hash (row edited)",
    "links": "account {0}: chain broken from transfer {1} on (transfers edited, inserted, deleted or reordered)",
    "heads": "account {0}: chain head does not match its newest transfer (rows deleted)",
}


def check(session: Session) -> CheckReport:
    """Sum zero per ledger; every account's totals = the sum of its transfers; no pending resolved twice; the
    hash chain over transfers intact: each per-transfer link (single transfers, chains) and each link of a batch
    and account (the batch path, ADR 0013) recomputed, in write order, from genesis to the account's head.
    Set-based SQL: runs on millions of rows."""
    problems = []
    for name, template in _CHECKS.items():
        for row in repository.run_check(session, name):
            problems.append(template.format(*row))
    n_transfers, n_accounts = repository.count_transfers_and_accounts(session)
    return CheckReport(transfers=n_transfers, accounts=n_accounts, problems=problems)
