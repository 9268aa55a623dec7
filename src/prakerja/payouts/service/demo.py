"""The demo's payment providers: BNI (a bank, files) and OVO (an e-wallet, the bulk API), both served by
``prakerja sim payments`` at ``sim_url``. Safe to run twice."""

from __future__ import annotations

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.payouts.models import PayoutProvider
from prakerja.payouts.repository import accounts as repository
from prakerja.payouts.service import accounts

DEMO_PROVIDERS = (
    ("bni", "Bank Negara Indonesia (BNI)", "bank", "file"),
    ("ovo", "OVO", "ewallet", "api"),
)


def seed(session: Session, *, sim_url: str, secrets: dict[str, str]) -> list[PayoutProvider]:
    """The two providers, signing with the secrets the simulator was started with (``{code: whsec_...}``)."""
    found = []
    for code, name, kind, channel in DEMO_PROVIDERS:
        existing = repository.provider_by_code(session, code)
        if existing is None:
            existing = accounts.register_provider(
                session,
                name=name,
                code=code,
                kind=kind,
                channel=channel,
                api_base_url=f"{sim_url.rstrip('/')}/{code}",
                secret=secrets[code],
                actor=audit.Actor.system(),
            )
        found.append(existing)
    return found
