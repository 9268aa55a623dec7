"""Payment providers and participants' payout accounts. A participant links a bank account or an e-wallet: the
partner's account inquiry (with the participant's NIK and registered phone) must find it active, held by the same
NIK, and for an e-wallet KYC'd with the registered phone; then the partner's OTP makes it active (an earlier active
account is replaced). Every number a partner answered for is an integrity signal (``payout_account``): one account
tried by several NIKs shows up where officers review shared phones and devices. Takes a session; never commits.

The partner is asked before anything is written: when it cannot be reached nothing changes (the request rolls
back), so no link is ever left half-made."""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.kit.clock import utcnow
from prakerja.kit.errors import RateLimited
from prakerja.kit.pii import blind_index
from prakerja.partners import service as partners
from prakerja.payouts import rules
from prakerja.payouts.errors import (
    AccountNumberInvalid,
    LinkNotAwaitingOtp,
    LinkNotFound,
    NotARecipient,
    OtpFormatInvalid,
    ProfileIncomplete,
    ProviderInvalid,
    ProviderNotFound,
    RecipientNotActive,
)
from prakerja.payouts.models import (
    AccountFailure,
    AccountStatus,
    Channel,
    PayoutAccount,
    PayoutProvider,
    ProviderKind,
)
from prakerja.payouts.providers import linking, signing
from prakerja.payouts.repository import accounts as repository
from prakerja.payouts.service import entitlements
from prakerja.recipients import service as recipients
from prakerja.recipients.models import Recipient, RecipientStatus
from prakerja.registration import service as registration

SIGNAL_KIND = "payout_account"


# providers -------------------------------------------------------------------------------------------------------


def register_provider(
    session: Session,
    *,
    name: str,
    code: str,
    kind: str,
    channel: str,
    api_base_url: str,
    actor: audit.Actor,
    secret: str | None = None,
) -> PayoutProvider:
    """A payment partner's payout service: a partner organisation with the role ``payment_partner`` and its
    provider row (code, kind, channel, where its interface is, the shared secret, new unless given)."""
    problems = {}
    if not (2 <= len(code) <= 16 and code.isascii() and code.isalnum() and code.islower()):
        problems["code"] = "2-16 lower-case letters or digits"
    if kind not in ProviderKind.__members__:
        problems["kind"] = "bank or ewallet"
    if channel not in Channel.__members__:
        problems["channel"] = "api or file"
    if not api_base_url.startswith(("http://", "https://")) or len(api_base_url) > 300:
        problems["api_base_url"] = "an http(s) URL of at most 300 characters"
    if problems:
        raise ProviderInvalid(details={"fields": problems})
    if repository.provider_by_code(session, code) is not None:
        raise ProviderInvalid(details={"fields": {"code": "taken"}})
    organisation = partners.create_partner(session, name=name, role="payment_partner", actor=actor)
    provider = PayoutProvider(
        partner_id=organisation.id,
        code=code,
        name=organisation.name,
        kind=ProviderKind(kind),
        channel=Channel(channel),
        api_base_url=api_base_url.rstrip("/"),
        api_secret=secret or signing.new_secret(),
        active=True,
    )
    repository.add(session, provider)
    audit.record(
        session,
        actor,
        "payouts.provider_registered",
        "payout_provider",
        provider.id,
        data={"code": code, "kind": kind, "channel": channel},
    )
    return provider


def providers(session: Session) -> list[PayoutProvider]:
    """The providers a participant may choose."""
    return repository.active_providers(session)


def provider(session: Session, provider_id: uuid.UUID) -> PayoutProvider | None:
    return repository.provider(session, provider_id)


def _partner(found: PayoutProvider) -> linking.Partner:
    return linking.Partner(code=found.code, base_url=found.api_base_url, secret=found.api_secret)


# the participant's accounts --------------------------------------------------------------------------------------


def own_recipient(session: Session, account_id: uuid.UUID) -> Recipient:
    """The signed-in person's recipient record, or a refusal (not a recipient: 403; revoked: 409)."""
    recipient = recipients.recipient_by_account(session, account_id)
    if recipient is None:
        raise NotARecipient()
    if recipient.status is not RecipientStatus.active:
        raise RecipientNotActive()
    return recipient


def accounts_of(session: Session, recipient_id: uuid.UUID) -> list[PayoutAccount]:
    """Newest first."""
    return repository.accounts_of(session, recipient_id)


def active_account(session: Session, recipient_id: uuid.UUID) -> PayoutAccount | None:
    return repository.active_account(session, recipient_id)


def latest_accounts(session: Session, recipient_ids: list[uuid.UUID]) -> dict[uuid.UUID, PayoutAccount]:
    """Per recipient: the active account, else the newest one."""
    return repository.latest_accounts(session, recipient_ids)


def number_index(provider_code: str, number: str) -> bytes:
    """The blind index of one account at one provider (the same value the integrity signal is kept under)."""
    return blind_index(f"{provider_code}:{number}", SIGNAL_KIND)


def start_link(
    session: Session, *, account_id: uuid.UUID, provider_id: uuid.UUID, number: str, actor: audit.Actor
) -> PayoutAccount:
    """Ask the partner about ``number``. Returns the new link: ``otp_sent`` (the partner texted its code to the
    holder) or ``rejected`` with the reason. Refusals (bad number, unknown provider, partner unreachable) write
    nothing."""
    recipient = own_recipient(session, account_id)
    found = repository.provider(session, provider_id)
    if found is None or not found.active:
        raise ProviderNotFound(details={"field": "provider"})
    normal = rules.normal_number(found.kind.value, number)
    if normal is None:
        raise AccountNumberInvalid()
    if repository.links_since(session, recipient.id, utcnow() - timedelta(days=1)) >= rules.LINKS_PER_DAY:
        raise RateLimited(details={"retry_after": 3600})
    applicant = registration.identity.find(session, account_id)
    if applicant is None or not applicant.nik or not applicant.phone or applicant.phone_verified_at is None:
        raise ProfileIncomplete()
    reference = "lnk_" + secrets.token_hex(16)
    partner = _partner(found)
    answer = linking.inquire(partner, reference=reference, number=normal, nik=applicant.nik, phone=applicant.phone)
    failure = rules.inquiry_failure(
        found.kind.value,
        status=answer.status,
        nik_match=answer.nik_match,
        kyc=answer.kyc,
        phone_match=answer.phone_match,
    )
    if failure is None:
        linking.send_otp(partner, reference=reference)
    link = PayoutAccount(
        recipient_id=recipient.id,
        participant_id=recipient.applicant_id,
        account_id=account_id,
        provider_id=found.id,
        number=normal,
        number_index=number_index(found.code, normal),
        number_masked=rules.mask_number(normal),
        holder_name=answer.holder_name,
        status=AccountStatus.rejected if failure else AccountStatus.otp_sent,
        failure_reason=AccountFailure(failure) if failure else None,
        link_reference=reference,
        otp_attempts=0,
    )
    repository.add(session, link)
    if answer.status != "not_found":
        registration.record_signal(
            session, applicant_id=recipient.applicant_id, kind=SIGNAL_KIND, value=f"{found.code}:{normal}"
        )
    audit.record(
        session,
        actor,
        "payouts.account_inquired",
        "payout_account",
        link.id,
        data={"provider": found.code, "status": link.status.value, "failure": failure or ""},
    )
    if failure:
        entitlements.refresh(session, recipient.id)
    return link


@dataclass(frozen=True)
class Verified:
    account: PayoutAccount
    wrong_code: bool
    """The code was wrong (the attempt is counted; the link is rejected once the attempts run out)."""


def expire_stale_links(session: Session, *, recipient_id: uuid.UUID | None = None) -> int:
    """Links whose OTP outlived ``rules.OTP_LIFETIME`` unconfirmed become ``rejected`` (``otp_expired``): the job
    for everyone, the participant's pages for their own before showing them. Safe to run any number of times."""
    return repository.expire_waiting_links(
        session, sent_before=utcnow() - rules.OTP_LIFETIME, recipient_id=recipient_id
    )


def own_link(session: Session, *, account_id: uuid.UUID, link_id: uuid.UUID, lock: bool = False) -> PayoutAccount:
    link = repository.account(session, link_id, lock=lock)
    if link is None or link.account_id != account_id:
        raise LinkNotFound()
    return link


def verify_link(
    session: Session, *, account_id: uuid.UUID, link_id: uuid.UUID, otp: str, actor: audit.Actor
) -> Verified:
    """The participant types the partner's code. Right: the account is active (the one before it replaced) and the
    entitlements are looked at again. Wrong: counted; after ``rules.OTP_ATTEMPTS`` wrong codes, or when the partner
    says the code expired or is locked, the link is rejected (``otp_failed``) and the participant starts again."""
    recipient = own_recipient(session, account_id)
    entitlements.lock(session, recipient.id)  # one activation at a time per person (one active account)
    link = own_link(session, account_id=account_id, link_id=link_id, lock=True)
    if link.status is not AccountStatus.otp_sent or link.link_reference is None:
        raise LinkNotAwaitingOtp()
    if rules.otp_stale(link.created_at, utcnow()):
        link.status = AccountStatus.rejected
        link.failure_reason = AccountFailure.otp_expired
        session.flush()
        return Verified(account=link, wrong_code=True)
    code = otp.strip()
    if not (len(code) == 6 and code.isascii() and code.isdigit()):
        raise OtpFormatInvalid()
    found = repository.provider(session, link.provider_id)
    assert found is not None
    result = linking.verify_otp(_partner(found), reference=link.link_reference, otp=code)
    if not result.linked:
        link.otp_attempts += 1
        if result.code in ("otp_expired", "otp_locked") or link.otp_attempts >= rules.OTP_ATTEMPTS:
            link.status = AccountStatus.rejected
            link.failure_reason = (
                AccountFailure.otp_expired if result.code == "otp_expired" else AccountFailure.otp_failed
            )
        session.flush()
        audit.record(
            session,
            actor,
            "payouts.account_otp_refused",
            "payout_account",
            link.id,
            data={"partner_code": result.code or "", "attempts": link.otp_attempts},
        )
        return Verified(account=link, wrong_code=True)
    previous = repository.active_account(session, link.recipient_id, lock=True)
    if previous is not None:
        previous.status = AccountStatus.replaced
        session.flush()
    link.status = AccountStatus.active
    link.failure_reason = None
    link.linked_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor,
        "payouts.account_linked",
        "payout_account",
        link.id,
        data={"provider": found.code, "replaced": str(previous.id) if previous else ""},
    )
    entitlements.reschedule_after_link(session, link.recipient_id)
    entitlements.refresh(session, link.recipient_id)
    return Verified(account=link, wrong_code=False)
