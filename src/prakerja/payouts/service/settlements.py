"""Provider settlement (ADR 0016): what the ledger owes institutions (their payable, net of commissions) and
platforms (their commissions) from accepted completions, paid in periodic settlement runs by the same machinery as
participants' incentives (``runs``, ``results``, reconciliation), with the period's settlement statement as the
remittance advice.

- An organisation records its **settlement account** (bank, number, holder's legal name). The bank's account inquiry
  must find it active and held under that name; only then is it ``verified`` and paid into. A change replaces the
  verified account and is verified again; a refusal leaves the organisation without a verified account (its
  settlements are held back with the reason). Audited; the number is encrypted and shown masked.
- :func:`prepare` makes one **settlement** per organisation and period from the period's statements
  (``training.settlement.owed``): the statement's payable, unique per (organisation, period), so preparing a period
  again creates nothing twice; a period with nothing owed creates nothing. Without a verified account (or when the
  ledger's payable holds less than the statement), the settlement is ``blocked`` with its reason and nothing is sent.
- :func:`start_run` prepares the period and starts the day's settlement run (``runs.start``) when anything is due.

Takes a session; never commits."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.kit.clock import JAKARTA, utcnow
from prakerja.kit.errors import NotFound
from prakerja.ledger import service as ledger
from prakerja.partners import service as partners
from prakerja.payouts import rules
from prakerja.payouts.errors import (
    AccountNumberInvalid,
    NotASettledOrganisation,
    OtpFormatInvalid,
    PeriodInvalid,
    PeriodNotOver,
    SettlementAccountNotAwaitingOtp,
    SettlementBankInvalid,
)
from prakerja.payouts.models import (
    BeneficiaryType,
    PayoutInstruction,
    PayoutRun,
    ProviderKind,
    RunKind,
    Settlement,
    SettlementAccount,
    SettlementAccountFailure,
    SettlementAccountStatus,
    SettlementStatus,
)
from prakerja.payouts.providers import linking
from prakerja.payouts.repository import accounts as account_repository
from prakerja.payouts.repository import runs as run_repository
from prakerja.payouts.repository import settlements as repository
from prakerja.payouts.service import receivables, runs
from prakerja.training import service as training

SETTLED_ROLES = {"institution": BeneficiaryType.institution, "platform": BeneficiaryType.platform}


def _role(session: Session, organisation_id: uuid.UUID) -> tuple[BeneficiaryType, str]:
    try:
        found = partners.find_partner(session, str(organisation_id))
    except NotFound:
        raise NotASettledOrganisation() from None
    role = SETTLED_ROLES.get(found.role.value)
    if role is None:
        raise NotASettledOrganisation()
    return role, found.name


def legal_name(session: Session, organisation_id: uuid.UUID) -> str:
    """The name the bank's account holder must carry: the legal entity's name on the organisation's profile (set by
    the program office), else the organisation's registered name."""
    profile = partners.profile(session, organisation_id)
    return " ".join((profile.legal_name or profile.name).split())


def banks(session: Session) -> list[tuple[uuid.UUID, str, str]]:
    """The banks an organisation may choose for its settlement account: (provider id, code, name)."""
    return [(p.id, p.code, p.name) for p in account_repository.active_providers(session) if p.kind is ProviderKind.bank]


# settlement accounts ----------------------------------------------------------------------------------------------


def record_account(
    session: Session,
    *,
    organisation_id: uuid.UUID,
    provider_id: uuid.UUID | None,
    number: str,
    actor: audit.Actor,
) -> SettlementAccount:
    """Record an organisation's settlement account and verify it with the bank's account inquiry (before anything is
    written: an unreachable bank changes nothing): the bank's holder must be the organisation's legal entity (its
    legal name on its profile, else its registered name). The verified account before it is replaced either way."""
    _role(session, organisation_id)
    name = legal_name(session, organisation_id)
    provider = account_repository.provider(session, provider_id) if provider_id is not None else None
    if provider is None or not provider.active or provider.kind is not ProviderKind.bank:
        raise SettlementBankInvalid()
    normal = rules.normal_number("bank", number)
    if normal is None:
        raise AccountNumberInvalid()
    reference = "PKS" + secrets.token_hex(12).upper()
    answer = linking.inquire_organisation(
        linking.Partner(code=provider.code, base_url=provider.api_base_url, secret=provider.api_secret),
        reference=reference,
        number=normal,
        holder_name=name,
    )
    failure = rules.settlement_account_failure(status=answer.status, name_match=answer.name_match)
    partner = linking.Partner(code=provider.code, base_url=provider.api_base_url, secret=provider.api_secret)
    if failure is None:  # the bank's OTP to the holder confirms it (before anything is written: unreachable, nothing)
        linking.send_otp(partner, reference=reference)
    repository.replace_pending(session, organisation_id)
    if failure is not None:
        repository.replace_verified(session, organisation_id)
    session.flush()
    account = SettlementAccount(
        organisation_id=organisation_id,
        provider_id=provider.id,
        number=normal,
        number_masked=rules.mask_number(normal),
        holder_name=name,
        reported_holder_name=answer.holder_name,
        status=SettlementAccountStatus.rejected if failure else SettlementAccountStatus.otp_sent,
        failure_reason=SettlementAccountFailure(failure) if failure else None,
        inquiry_reference=reference,
        verified_at=None,
        recorded_by="system" if actor.id is None else str(actor.id),
    )
    account_repository.add(session, account)
    audit.record(
        session,
        actor,
        "payouts.settlement_account_recorded",
        "partner",
        organisation_id,
        data={
            "settlement_account_id": str(account.id),
            "provider": provider.code,
            "number": account.number_masked,
            "status": account.status.value,
            "failure_reason": failure,
        },
    )
    refresh(session, organisation_id)
    return account


@dataclass(frozen=True)
class Confirmed:
    account: SettlementAccount
    wrong_code: bool


def confirm_account(session: Session, *, organisation_id: uuid.UUID, otp: str, actor: audit.Actor) -> Confirmed:
    """The bank's OTP entered for the organisation's account awaiting it: verified (replacing the verified one
    before it, scheduling what waited for it) when the bank confirms; a wrong code is counted by the bank, an expired
    or locked one rejects the account (recorded again for a new code). Audited either way."""
    account = repository.pending_account(session, organisation_id, lock=True)
    if account is None:
        raise SettlementAccountNotAwaitingOtp()
    code = otp.strip()
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise OtpFormatInvalid()
    provider = account_repository.provider(session, account.provider_id)
    assert provider is not None
    result = linking.verify_otp(
        linking.Partner(code=provider.code, base_url=provider.api_base_url, secret=provider.api_secret),
        reference=account.inquiry_reference,
        otp=code,
    )
    if not result.linked:
        if result.code in ("otp_expired", "otp_locked"):
            account.status = SettlementAccountStatus.rejected
            account.failure_reason = (
                SettlementAccountFailure.otp_expired
                if result.code == "otp_expired"
                else SettlementAccountFailure.otp_failed
            )
        session.flush()
        audit.record(
            session,
            actor,
            "payouts.settlement_account_otp_refused",
            "partner",
            organisation_id,
            data={"settlement_account_id": str(account.id), "partner_code": result.code or ""},
        )
        refresh(session, organisation_id)
        return Confirmed(account, wrong_code=True)
    repository.replace_verified(session, organisation_id)
    session.flush()
    account.status = SettlementAccountStatus.verified
    account.verified_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "payouts.settlement_account_confirmed",
        "partner",
        organisation_id,
        data={"settlement_account_id": str(account.id), "provider": provider.code, "number": account.number_masked},
    )
    refresh(session, organisation_id)
    return Confirmed(account, wrong_code=False)


def _account_state(session: Session, organisation_id: uuid.UUID) -> str:
    """``verified``, ``pending`` (the newest awaits the bank's OTP), ``none`` (never recorded) or ``rejected`` (the
    newest was refused, or failed a payment)."""
    if repository.verified_account(session, organisation_id) is not None:
        return "verified"
    recorded = repository.accounts_of(session, organisation_id)
    if recorded and recorded[0].status is SettlementAccountStatus.otp_sent:
        return "pending"
    return "rejected" if recorded else "none"


def refresh(session: Session, organisation_id: uuid.UUID) -> int:
    """Settlements held back for want of a verified account are scheduled once one is verified (and held back again,
    with the reason, when the account is refused). Returns how many changed."""
    state = _account_state(session, organisation_id)
    changed = 0
    for settlement in repository.waiting_for_account(session, organisation_id):
        if settlement.blocked_reason == "payable_short":
            continue
        if state == "verified":
            settlement.status, settlement.blocked_reason = SettlementStatus.scheduled, None
            changed += 1
        elif settlement.status is SettlementStatus.blocked:
            reason = rules.settlement_block(account=state, payable_available=0, owed=0)
            if reason != settlement.blocked_reason:
                settlement.blocked_reason = reason
                changed += 1
    if state != "verified":  # scheduled ones must wait too: nothing is sent to a replaced or refused account
        for settlement in repository.of_organisation(session, organisation_id):
            if settlement.status is SettlementStatus.scheduled:
                settlement.status = SettlementStatus.blocked
                settlement.blocked_reason = rules.settlement_block(account=state, payable_available=0, owed=0)
                changed += 1
    session.flush()
    return changed


# settlements -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prepared:
    period: str
    created: int
    existing: int
    blocked: int
    amount: int
    """The sum of the settlements this call created."""


def period_bounds(period: str, *, today: date | None = None) -> tuple[date, date]:
    """The first and last day of a settlement period that is over (refused while it runs: completions accepted
    later in the month would never be paid, the settlement being one per organisation and period)."""
    start = rules.period_start(period)
    if start is None:
        raise PeriodInvalid()
    end = rules.period_end(start)
    now = today or utcnow().astimezone(JAKARTA).date()
    if end >= now:
        raise PeriodNotOver(details={"period": period})
    return start, end


def prepare(session: Session, *, period: str, actor: audit.Actor) -> Prepared:
    """One settlement per organisation owed something for ``period`` (idempotent per organisation and period)."""
    start, end = period_bounds(period)
    created = existing = blocked = amount = 0
    for statement in training.settlement.owed(session, start=start, end=end):
        role = SETTLED_ROLES.get(statement.role)
        if role is None:
            continue
        organisation_id = statement.partner_id
        payable = ledger.organisation_payable(session, organisation_id, platform=role is BeneficiaryType.platform)
        reason = rules.settlement_block(
            account=_account_state(session, organisation_id),
            payable_available=payable.available - repository.open_amount(session, organisation_id),
            owed=statement.payable,
        )
        statement_ref = rules.statement_ref(role.value, organisation_id, period)
        owed_back = repository.open_receivables(session, organisation_id) if reason != "payable_short" else []
        made = repository.insert_if_absent(
            session,
            {
                "organisation_id": organisation_id,
                "beneficiary_type": role,
                "period": period,
                "period_start": start,
                "period_end": end,
                "completions": len(statement.lines),
                "gross": statement.gross,
                "commission": statement.commission,
                "amount": statement.payable,
                "statement_ref": statement_ref,
                "status": SettlementStatus.blocked if reason else SettlementStatus.scheduled,
                "blocked_reason": reason,
                "created_by": "system" if actor.id is None else str(actor.id),
                "created_at": utcnow(),
            },
        )
        if made and owed_back:  # what the organisation owes back is deducted from this settlement (ADR 0026)
            _deduct(
                session,
                organisation_id,
                period,
                statement_ref,
                statement.payable,
                actor,
                platform=role is BeneficiaryType.platform,
            )
        if made:
            created += 1
            blocked += reason is not None
            amount += statement.payable
        else:
            existing += 1
    if created:
        audit.record(
            session,
            actor,
            "payouts.settlements_prepared",
            "settlement_period",
            period,
            data={"created": created, "blocked": blocked, "amount": amount},
        )
    return Prepared(period, created, existing, blocked, amount)


def _deduct(
    session: Session,
    organisation_id: uuid.UUID,
    period: str,
    statement_ref: str,
    payable: int,
    actor: audit.Actor,
    *,
    platform: bool,
) -> None:
    total, lines = receivables.deduct(
        session, organisation_id, settlement_ref=statement_ref, available=payable, actor=actor, platform=platform
    )
    if not total:
        return
    settlement = repository.settlement_of(session, organisation_id, period, lock=True)
    assert settlement is not None
    settlement.deducted = total
    settlement.deductions = lines
    settlement.amount = payable - total
    if settlement.amount == 0:  # paid by the deduction alone: nothing to send
        settlement.status, settlement.blocked_reason, settlement.paid_at = SettlementStatus.paid, None, utcnow()
    session.flush()


def start_run(
    session: Session, *, period: str, run_date: date, actor: audit.Actor
) -> tuple[Prepared, PayoutRun | None]:
    """Prepare ``period`` and start a settlement run of ``run_date`` when anything is due (every scheduled
    settlement with a verified account, of this period or an earlier one held back before). The day's first run, or,
    when the day's run exists already, a further run of the same day (ADR 0026) for what was held back then and is
    due now (an account verified since, a settlement scheduled again): each settlement is in one run only, so
    nothing is paid twice. Nothing due: no new run (the day's latest run, if any, is returned)."""
    prepared = prepare(session, period=period, actor=actor)
    latest = run_repository.run_of(session, RunKind.settlement, run_date, lock=True)  # one caller decides at a time
    if not repository.any_due(session):
        return prepared, latest
    sequence = 1 if latest is None else latest.sequence + 1
    return prepared, runs.start(session, kind=RunKind.settlement, run_date=run_date, actor=actor, sequence=sequence)


def run_again(session: Session, *, period: str, run_date: date, actor: audit.Actor) -> PayoutRun | None:
    """An officer's "run again": :func:`start_run`, audited with what it found (a further run, or nothing due)."""
    before = run_repository.run_of(session, RunKind.settlement, run_date)
    _prepared, run = start_run(session, period=period, run_date=run_date, actor=actor)
    started = run is not None and (before is None or run.id != before.id)
    audit.record(
        session,
        actor,
        "payouts.settlement_run_again",
        "settlement_period",
        period,
        data={
            "run_date": run_date.isoformat(),
            "run_id": str(run.id) if started and run is not None else None,
            "sequence": run.sequence if started and run is not None else None,
        },
    )
    return run if started else None


# reading -------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountView:
    id: uuid.UUID
    bank: str
    number_masked: str
    holder_name: str
    status: str
    failure_reason: str | None
    reason: tuple[str, str] | None
    recorded_at: datetime
    verified_at: datetime | None


@dataclass(frozen=True)
class PaymentView:
    end_to_end_id: str
    amount: int
    status: str
    failure_code: str | None
    attempt: int
    bank: str
    number_masked: str
    created_at: datetime
    settled_at: datetime | None
    remittance: str


@dataclass(frozen=True)
class DeductionView:
    """One refund owed back, deducted from a settlement, with its reason (Indonesian, English)."""

    purchase_id: str
    period: str
    amount: int
    reason: tuple[str, str]


def _deduction(line: dict[str, object]) -> DeductionView:
    purchase = str(line["purchase_id"])
    period = str(line["period"])
    note = str(line.get("reason") or "")
    return DeductionView(
        purchase_id=purchase,
        period=period,
        amount=int(str(line["amount"])),
        reason=(
            f"Pengembalian dana pembelian {purchase[:8]} setelah penyelesaian {period} dibayar"
            + (f": {note}" if note else ""),
            f"Refund of purchase {purchase[:8]} after the {period} settlement was paid" + (f": {note}" if note else ""),
        ),
    )


@dataclass(frozen=True)
class SettlementView:
    id: uuid.UUID
    organisation_id: uuid.UUID
    organisation_name: str
    role: str
    period: str
    period_start: date
    period_end: date
    completions: int
    gross: int
    commission: int
    amount: int
    statement_ref: str
    status: str
    blocked_reason: str | None
    reason: tuple[str, str] | None
    paid_at: datetime | None
    payments: list[PaymentView]
    deducted: int = 0
    """What the institution owed back, deducted from this settlement (ADR 0026)."""
    deductions: tuple[DeductionView, ...] = ()

    @property
    def payable(self) -> int:
        """The statement's payable before the deduction."""
        return self.amount + self.deducted


def _reason(code: str | None) -> tuple[str, str] | None:
    if code is None:
        return None
    return rules.SETTLEMENT_REASONS.get(code, (code, code))


def _account_view(session: Session, account: SettlementAccount, names: dict[uuid.UUID, str]) -> AccountView:
    if account.provider_id not in names:
        provider = account_repository.provider(session, account.provider_id)
        names[account.provider_id] = provider.name if provider else "?"
    return AccountView(
        id=account.id,
        bank=names[account.provider_id],
        number_masked=account.number_masked,
        holder_name=account.holder_name,
        status=account.status.value,
        failure_reason=account.failure_reason.value if account.failure_reason else None,
        reason=_reason(account.failure_reason.value if account.failure_reason else None),
        recorded_at=account.created_at,
        verified_at=account.verified_at,
    )


def _views(session: Session, settlements: list[Settlement], names: dict[uuid.UUID, str]) -> list[SettlementView]:
    by_settlement: dict[uuid.UUID, list[PayoutInstruction]] = {}
    for instruction in repository.instructions_of(session, [s.id for s in settlements]):
        assert instruction.settlement_id is not None
        by_settlement.setdefault(instruction.settlement_id, []).append(instruction)
    banks_by_id: dict[uuid.UUID, str] = {}
    masked: dict[uuid.UUID, str] = {}
    out = []
    for s in settlements:
        payments = []
        for i in by_settlement.get(s.id, []):
            if i.provider_id not in banks_by_id:
                provider = account_repository.provider(session, i.provider_id)
                banks_by_id[i.provider_id] = provider.name if provider else "?"
            if i.settlement_account_id is not None and i.settlement_account_id not in masked:
                account = repository.account(session, i.settlement_account_id)
                masked[i.settlement_account_id] = account.number_masked if account else ""
            payments.append(
                PaymentView(
                    end_to_end_id=i.end_to_end_id,
                    amount=i.amount,
                    status=i.status.value,
                    failure_code=i.failure_code,
                    attempt=i.attempt,
                    bank=banks_by_id[i.provider_id],
                    number_masked=masked.get(i.settlement_account_id, "") if i.settlement_account_id else "",
                    created_at=i.created_at,
                    settled_at=i.settled_at,
                    remittance=f"PRAKERJA SETTLEMENT {s.period} {s.statement_ref}",
                )
            )
        if s.organisation_id not in names:
            try:
                names[s.organisation_id] = partners.find_partner(session, str(s.organisation_id)).name
            except NotFound:
                names[s.organisation_id] = "?"
        out.append(
            SettlementView(
                id=s.id,
                organisation_id=s.organisation_id,
                organisation_name=names[s.organisation_id],
                role=s.beneficiary_type.value,
                period=s.period,
                period_start=s.period_start,
                period_end=s.period_end,
                completions=s.completions,
                gross=s.gross,
                commission=s.commission,
                amount=s.amount,
                statement_ref=s.statement_ref,
                status=s.status.value,
                blocked_reason=s.blocked_reason,
                reason=_reason(s.blocked_reason),
                paid_at=s.paid_at,
                payments=payments,
                deducted=s.deducted,
                deductions=tuple(_deduction(line) for line in s.deductions or []),
            )
        )
    return out


@dataclass(frozen=True)
class OrganisationSettlements:
    """What an institution's or platform's portal (and the officer) shows: its settlement account now, the accounts
    recorded before, and its settlements with the payments that paid them."""

    organisation_id: uuid.UUID
    account: AccountView | None
    """The newest recorded account (verified, or refused with the reason)."""
    history: list[AccountView]
    settlements: list[SettlementView]
    banks: list[tuple[uuid.UUID, str, str]]
    receivables: list[receivables.ReceivableView] = field(default_factory=list)
    """Purchases refunded after a paid settlement: what the organisation owes back and what was deducted."""
    owed_back: int = 0


def of_organisation(session: Session, organisation_id: uuid.UUID) -> OrganisationSettlements:
    names: dict[uuid.UUID, str] = {}
    accounts = [_account_view(session, a, names) for a in repository.accounts_of(session, organisation_id)]
    return OrganisationSettlements(
        organisation_id=organisation_id,
        account=accounts[0] if accounts else None,
        history=accounts[1:],
        settlements=_views(session, repository.of_organisation(session, organisation_id), {}),
        banks=banks(session),
        receivables=receivables.of_organisation(session, organisation_id),
        owed_back=sum(r.outstanding for r in receivables.of_organisation(session, organisation_id)),
    )


def settlement_of_period(session: Session, organisation_id: uuid.UUID, period: str) -> SettlementView | None:
    """The organisation's settlement of one period with its payments (shown next to the statement, its remittance
    advice); None when nothing was prepared for it."""
    found = [s for s in repository.of_organisation(session, organisation_id) if s.period == period]
    return _views(session, found, {})[0] if found else None


@dataclass(frozen=True)
class OfficerRow:
    settlement: SettlementView
    account: AccountView | None


def overview(session: Session, *, limit: int = 200) -> list[OfficerRow]:
    """Every settlement, newest period first, with the organisation's newest settlement account (officers)."""
    latest = repository.latest_accounts(session)
    names: dict[uuid.UUID, str] = {}
    rows = []
    for view in _views(session, repository.recent(session, limit), {}):
        account = latest.get(view.organisation_id)
        rows.append(OfficerRow(view, _account_view(session, account, names) if account else None))
    return rows
