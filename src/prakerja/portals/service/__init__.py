"""What the institution and platform portals and the officer's partner page read and do, composed from the
domains that own the data: ``partners`` (the organisation, its people and designation), ``catalog`` (courses,
curation, listings, conflicts of interest) and ``training`` (participants, attendance, completions, sales and
settlement, with the ledger's balances) and ``payouts`` (the settlement account and the settlement payments received,
each next to its statement, the remittance advice). Writes go through the same catalogue functions the partner API
calls.
Takes a session; never commits."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.catalog import service as catalog
from prakerja.catalog.models import Course, Listing
from prakerja.catalog.schemas import CourseCreate, CourseOut
from prakerja.partners import service as partners
from prakerja.partners.errors import NotAMember
from prakerja.payouts import service as payouts
from prakerja.portals import rules as portal_rules
from prakerja.training import service as training
from prakerja.training.errors import PeriodInvalid


def _institution_training(session: Session, institution_id: uuid.UUID) -> training.overview.InstitutionOverview:
    """The one place the institution portal reads training data from: participants (masked names), attendance per
    session, completions and settlement periods, with the ledger's balance."""
    return training.overview.institution(session, institution_id)


def _platform_training(session: Session, platform_id: uuid.UUID) -> training.overview.PlatformOverview:
    """The one place the platform portal reads training data from: sales by state, latest sales, commissions per
    settlement period, with the ledger's balance."""
    return training.overview.platform(session, platform_id)


def statement(session: Session, organisation: partners.Membership, month: str) -> training.settlement.Statement:
    """The organisation's settlement statement for one month (``YYYY-MM``, Jakarta time): the same statement the
    program office reads, its totals equal to the ledger's."""
    start = portal_rules.month_start(month)
    if start is None:
        raise PeriodInvalid()
    return training.settlement.statement(
        session, partner_id=organisation.partner_id, start=start, end=portal_rules.month_end(start)
    )


def settlement_page(session: Session, organisation: partners.Membership) -> payouts.settlements.OrganisationSettlements:
    """The organisation's settlement account (with its verification status and reason), the accounts it recorded
    before, and its settlements per month with the payments that paid them."""
    return payouts.settlements.of_organisation(session, organisation.partner_id)


def record_settlement_account(
    session: Session,
    organisation: partners.Membership,
    *,
    provider_id: uuid.UUID | None,
    number: str,
    actor: audit.Actor,
) -> None:
    """Record (or change) the organisation's settlement account; the bank verifies it before anything is paid."""
    payouts.settlements.record_account(
        session, organisation_id=organisation.partner_id, provider_id=provider_id, number=number, actor=actor
    )


def confirm_settlement_account(
    session: Session, organisation: partners.Membership, *, otp: str, actor: audit.Actor
) -> bool:
    """The bank's OTP for the organisation's account awaiting it; True when the bank confirmed it."""
    result = payouts.settlements.confirm_account(session, organisation_id=organisation.partner_id, otp=otp, actor=actor)
    return not result.wrong_code


def settlement_holder(session: Session, organisation: partners.Membership) -> str:
    """The name the account must be held under (the legal entity)."""
    return payouts.settlements.legal_name(session, organisation.partner_id)


def statement_payment(
    session: Session, organisation: partners.Membership, month: str
) -> payouts.settlements.SettlementView | None:
    """The settlement paying one month's statement, with its payments (None before the month is prepared)."""
    return payouts.settlements.settlement_of_period(session, organisation.partner_id, month)


def officer_settlements(session: Session, partner_id: uuid.UUID) -> payouts.settlements.OrganisationSettlements | None:
    """What the officer's partner page shows of settlement (institutions and platforms only)."""
    found = partners.profile(session, partner_id)
    if found.role.value not in ("institution", "platform"):
        return None
    return payouts.settlements.of_organisation(session, partner_id)


# -- who is signed in ----------------------------------------------------------------------------------------------


def membership(session: Session, account_id: uuid.UUID, role: partners.PartnerRole) -> partners.Membership:
    """The organisation of this account, which must be of ``role`` (an institution account's portal shows an
    institution)."""
    found = partners.membership(session, account_id)
    if found.role != role:
        raise NotAMember()
    return found


# -- the institution --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CourseRow:
    course: Course
    reasons: list[catalog.courses.Reason]
    note: str
    decided_at: datetime | None


@dataclass(frozen=True)
class InstitutionHome:
    organisation: partners.Membership
    profile: partners.ProfileView
    courses: list[CourseRow]
    training: training.overview.InstitutionOverview


def institution_home(session: Session, organisation: partners.Membership) -> InstitutionHome:
    rows = []
    for course in catalog.curation.institution_courses(session, organisation.partner_id):
        reasons, note, decided_at = catalog.courses.reasons_of(session, course)
        rows.append(CourseRow(course, reasons, note, decided_at))
    rows.sort(key=lambda r: r.course.updated_at, reverse=True)
    return InstitutionHome(
        organisation,
        partners.profile(session, organisation.partner_id),
        rows,
        _institution_training(session, organisation.partner_id),
    )


def institution_course(session: Session, organisation: partners.Membership, course_id: uuid.UUID) -> CourseOut:
    return catalog.courses.institution_course(session, course_id=course_id, institution_id=organisation.partner_id)


def submit_course(
    session: Session, organisation: partners.Membership, data: CourseCreate, actor: audit.Actor
) -> Course:
    """As ``POST /partner/v1/courses``: the course goes to curation. A suspended organisation changes nothing."""
    partners.require_designated(organisation)
    return catalog.courses.submit(session, institution_id=organisation.partner_id, data=data, actor=actor)


def edit_course(
    session: Session,
    organisation: partners.Membership,
    course_id: uuid.UUID,
    data: CourseCreate,
    actor: audit.Actor,
) -> tuple[Course, bool]:
    """As ``PUT /partner/v1/courses/{id}``: any change sends the course back to curation."""
    partners.require_designated(organisation)
    return catalog.courses.edit(
        session, course_id=course_id, institution_id=organisation.partner_id, data=data, actor=actor
    )


# -- the platform ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListingRow:
    listing: Listing
    title: str
    institution: str
    curated_price: int
    conflict_of_interest: bool


@dataclass(frozen=True)
class PlatformHome:
    organisation: partners.Membership
    profile: partners.ProfileView
    listings: list[ListingRow]
    listable: list[tuple[Course, str]]
    """Approved courses with their institution's name, for the listing form."""
    training: training.overview.PlatformOverview


def platform_home(session: Session, organisation: partners.Membership) -> PlatformHome:
    page = catalog.curation.partner_page(session, organisation.partner_id)
    flagged = {course_id for c in page.conflicts for course_id, _title in c.listed_courses}
    names = catalog.organisations.names(session)
    courses = {c.id: c for c in catalog.listings.listable_courses(session)}
    rows = []
    for listing in page.listings:
        course = courses.get(listing.course_id) or catalog.get_course(session, listing.course_id)
        rows.append(
            ListingRow(
                listing,
                page.course_titles.get(listing.course_id, course.title),
                names.get(course.institution_id, "?"),
                course.price,
                listing.course_id in flagged,
            )
        )
    return PlatformHome(
        organisation,
        partners.profile(session, organisation.partner_id),
        rows,
        [(c, names.get(c.institution_id, "?")) for c in courses.values()],
        _platform_training(session, organisation.partner_id),
    )


def put_listing(
    session: Session,
    organisation: partners.Membership,
    *,
    course_id: uuid.UUID,
    url: str,
    price: int,
    actor: audit.Actor,
) -> tuple[Listing, bool]:
    """As ``PUT /partner/v1/listings/{course_id}``; returns the listing and the conflict-of-interest flag."""
    partners.require_designated(organisation)
    return catalog.listings.put_listing(
        session, course_id=course_id, platform_id=organisation.partner_id, url=url, price=price, actor=actor
    )


# -- the officer's partner page -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class OfficerPartnerPage:
    profile: partners.ProfileView
    catalogue: catalog.curation.PartnerPage
    webhooks: list[partners.WebhookEndpointView]
    credentials: int
    """Unrevoked credentials (the keys themselves are on the credentials page)."""
    settlement: payouts.settlements.OrganisationSettlements | None
    """An institution's or platform's settlement account and settlements."""


def officer_partner_page(session: Session, partner_id: uuid.UUID) -> OfficerPartnerPage:
    found = partners.profile(session, partner_id)
    views = [v for v in partners.overview(session) if v.id == partner_id]
    return OfficerPartnerPage(
        profile=found,
        catalogue=catalog.curation.partner_page(session, partner_id),
        webhooks=partners.webhook_endpoints(session, partner_id),
        credentials=sum(1 for v in views for c in v.credentials if not c.revoked),
        settlement=officer_settlements(session, partner_id),
    )
