"""The demo's payment providers: BNI (a bank, files) and OVO (an e-wallet, the bulk API), both served by
``prakerja sim payments`` at ``sim_url``; the demo's payment partner login works for BNI; the scheme-year's cash
budget the incentives are paid from. Safe to run twice: what exists is kept (a moved simulator gets its new
address)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.auth import service as auth
from prakerja.ledger import service as ledger
from prakerja.ledger.models import LedgerCode
from prakerja.partners import service as partners
from prakerja.partners.errors import NotAMember
from prakerja.payouts.models import PayoutProvider
from prakerja.payouts.repository import accounts as repository
from prakerja.payouts.service import accounts

DEMO_PROVIDERS = (
    ("bni", "Bank Negara Indonesia (BNI)", "bank", "file"),
    ("ovo", "OVO", "ewallet", "api"),
)
CASH_BUDGET = 200 * 600_000
"""The demo scheme-year's cash budget: the post-training incentive of every demo recipient, with room to spare."""


def seed(
    session: Session,
    *,
    sim_url: str,
    secrets: dict[str, str] | None = None,
    member_email: str | None = None,
    scheme: str = "2023-normal",
    year: int | None = None,
) -> list[PayoutProvider]:
    """The two providers, signing with ``secrets`` (``{code: whsec_...}``, new ones when not given) at ``sim_url``;
    the account of ``member_email`` (role ``payment_partner``) made a member of BNI's organisation; and, with
    ``year``, that year's cash budget of ``scheme`` (under a fixed transfer id: allocated once)."""
    actor = audit.Actor.system()
    found = []
    for code, name, kind, channel in DEMO_PROVIDERS:
        base = f"{sim_url.rstrip('/')}/{code}"
        existing = repository.provider_by_code(session, code)
        if existing is None:
            existing = accounts.register_provider(
                session,
                name=name,
                code=code,
                kind=kind,
                channel=channel,
                api_base_url=base,
                secret=(secrets or {}).get(code),
                actor=actor,
            )
        elif existing.api_base_url != base:
            existing.api_base_url = base
            session.flush()
        found.append(existing)
    if member_email is not None:
        bank = found[0]
        account = auth.account_by_email(session, member_email)
        if account is not None:
            try:
                partners.membership(session, account.id)
            except NotAMember:
                partners.add_member(session, partner_id=bank.partner_id, email=member_email, role="admin", actor=actor)
    if year is not None:
        ledger.allocate_budget(
            session,
            transfer_id=uuid.uuid5(uuid.NAMESPACE_URL, f"prakerja-demo-cash-budget-{scheme}-{year}"),
            scheme=scheme,
            year=year,
            amount=CASH_BUDGET,
            actor=actor,
            ledger=LedgerCode.cash,
            reason="demo",
        )
    return found


def secrets_of(session: Session) -> dict[str, tuple[str, str]]:
    """``{code: (kind, secret)}`` of the demo's providers that exist: what the simulator is started with."""
    found = {}
    for code, _name, _kind, _channel in DEMO_PROVIDERS:
        existing = repository.provider_by_code(session, code)
        if existing is not None:
            found[code] = (existing.kind.value, existing.api_secret)
    return found
