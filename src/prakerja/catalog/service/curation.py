"""Officers curate courses; platform-institution links and the conflicts of interest they reveal.
Takes a session; never commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.catalog import repository, rules
from prakerja.catalog.errors import (
    ChecksFailed,
    CourseNotFound,
    CurationStateConflict,
    DecisionInvalid,
    LinkExists,
    LinkInvalid,
    LinkNotFound,
    PartnerUnknown,
    ReasonRequired,
)
from prakerja.catalog.models import (
    Course,
    CourseStatus,
    CurationDecision,
    Decision,
    LinkKind,
    Listing,
    ListingStatus,
    PartnerLink,
)
from prakerja.catalog.service import courses, organisations
from prakerja.kit.clock import utcnow
from prakerja.schemes import rules as schemes

MAX_NOTE = 2_000


def queue(session: Session) -> list[Course]:
    return repository.curation_queue(session)


def decisions(session: Session, course_id: uuid.UUID) -> list[CurationDecision]:
    """Newest first."""
    return repository.decisions_of(session, course_id)


def curate(
    session: Session,
    *,
    course_id: uuid.UUID,
    decision: str,
    reasons: Sequence[str],
    note: str,
    officer: audit.Actor,
    version: int | None = None,
) -> CurationDecision:
    """Record an officer's decision on the course's current version, with the automatic checks it saw.
    Approval needs every check to pass; a request for changes or a rejection needs a reason or a note.
    ``version`` (from the page the officer read) refuses a decision on a course changed since."""
    note = note.strip()[:MAX_NOTE]
    reasons = list(dict.fromkeys(r for r in reasons if r))
    if decision not in Decision.__members__ or any(
        r not in rules.CHECK_CODES and r not in rules.OFFICER_REASONS for r in reasons
    ):
        raise DecisionInvalid(details={"decision": decision, "reasons": reasons})
    course = repository.course(session, course_id, lock=True)
    if course is None:
        raise CourseNotFound()
    if course.status != CourseStatus.in_curation or (version is not None and version != course.version):
        raise CurationStateConflict(details={"status": course.status.value, "version": course.version})
    sessions = repository.sessions_of(session, course.id)
    facts = courses.facts(course, sessions)
    scheme = schemes.load(course.scheme_name)
    checks = rules.check_course(facts, scheme)
    failing = rules.failed(checks)
    if decision == Decision.approved and failing:
        raise ChecksFailed(details={"failing_checks": failing})
    if decision != Decision.approved and not reasons and not note:
        raise ReasonRequired()
    now = utcnow()
    record = CurationDecision(
        course_id=course.id,
        course_version=course.version,
        decision=Decision(decision),
        reasons=reasons,
        note=note,
        checks=[c.as_record() for c in checks],
        scheme_name=scheme.name,
        scheme_version=scheme.version,
        scheme_hash=schemes.file_hash(scheme.name),
        inputs_hash=facts.inputs_hash(),
        officer_id=officer.id,
        created_at=now,
    )
    repository.add(session, record)
    course.status = CourseStatus(decision)
    suspended: list[uuid.UUID] = []
    if decision == Decision.approved:
        course.approved_at = now
        suspended = repository.suspend_listings_above(session, course.id, course.price, now)
    session.flush()
    audit.record(
        session,
        officer,
        "catalog.course_curated",
        "course",
        course.id,
        reason=note,
        data={
            "decision": decision,
            "reasons": reasons,
            "version": course.version,
            "scheme": scheme.name,
            "scheme_version": scheme.version,
            "inputs_hash": record.inputs_hash,
            "failing_checks": failing,
            "listings_suspended": [str(p) for p in suspended],
        },
    )
    return record


# -- links between platforms and institutions -------------------------------------------------------------------


def record_link(
    session: Session,
    *,
    platform_id: uuid.UUID,
    institution_id: uuid.UUID,
    kind: str,
    evidence: str,
    actor: audit.Actor,
) -> PartnerLink:
    """An officer records that a platform and an institution are linked (ownership or a shared person)."""
    evidence = " ".join(evidence.split())
    platform = organisations.get(session, platform_id)
    institution = organisations.get(session, institution_id)
    problems = {}
    if platform is None or platform.role != organisations.PLATFORM:
        problems["platform_id"] = "a platform"
    if institution is None or institution.role != organisations.INSTITUTION:
        problems["institution_id"] = "an institution"
    if kind not in LinkKind.__members__:
        problems["kind"] = f"one of {', '.join(LinkKind)}"
    if not 5 <= len(evidence) <= 2_000:
        problems["evidence"] = "5-2000 characters"
    if problems:
        raise LinkInvalid(details={"fields": problems})
    if repository.active_link(session, platform_id, institution_id, kind) is not None:
        raise LinkExists()
    link = PartnerLink(
        platform_id=platform_id,
        institution_id=institution_id,
        kind=LinkKind(kind),
        evidence=evidence,
        recorded_by=actor.id,
    )
    repository.add(session, link)
    audit.record(
        session,
        actor,
        "catalog.partner_link_recorded",
        "partner_link",
        link.id,
        data={"platform_id": str(platform_id), "institution_id": str(institution_id), "kind": kind},
    )
    return link


def remove_link(session: Session, *, link_id: uuid.UUID, reason: str, actor: audit.Actor) -> PartnerLink:
    link = repository.link(session, link_id, lock=True)
    if link is None or link.removed_at is not None:
        raise LinkNotFound()
    link.removed_at, link.removed_by = utcnow(), actor.id
    session.flush()
    audit.record(session, actor, "catalog.partner_link_removed", "partner_link", link.id, reason=reason.strip()[:500])
    return link


@dataclass(frozen=True)
class LinkView:
    id: uuid.UUID
    platform_id: uuid.UUID
    platform: str
    institution_id: uuid.UUID
    institution: str
    kind: str
    evidence: str


def links(session: Session) -> list[LinkView]:
    names = organisations.names(session)
    return [
        LinkView(
            lnk.id,
            lnk.platform_id,
            names.get(lnk.platform_id, "?"),
            lnk.institution_id,
            names.get(lnk.institution_id, "?"),
            lnk.kind.value,
            lnk.evidence,
        )
        for lnk in repository.active_links(session)
    ]


@dataclass(frozen=True)
class Conflict:
    """A platform linked to an institution, and the institution's courses the platform lists."""

    platform_id: uuid.UUID
    platform: str
    institution_id: uuid.UUID
    institution: str
    kinds: tuple[str, ...]
    listed_courses: tuple[tuple[uuid.UUID, str], ...]
    """(course id, title) of the institution's courses this platform lists."""

    @property
    def listing(self) -> bool:
        return bool(self.listed_courses)


def conflicts(session: Session, partner_ids: Sequence[uuid.UUID]) -> list[Conflict]:
    """Every link touching these partners, with the listings that make it a conflict of interest."""
    found = repository.links_touching(session, partner_ids)
    if not found:
        return []
    names = organisations.names(session)
    kinds: dict[tuple[uuid.UUID, uuid.UUID], set[str]] = {}
    for lnk in found:
        kinds.setdefault((lnk.platform_id, lnk.institution_id), set()).add(lnk.kind.value)
    result = []
    for (platform_id, institution_id), linked in sorted(kinds.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        own = {c.id: c for c in repository.courses_of_institution(session, institution_id)}
        listed = tuple(
            (lst.course_id, own[lst.course_id].title)
            for lst in repository.listings_of_platform(session, platform_id)
            if lst.course_id in own
        )
        result.append(
            Conflict(
                platform_id=platform_id,
                platform=names.get(platform_id, "?"),
                institution_id=institution_id,
                institution=names.get(institution_id, "?"),
                kinds=tuple(sorted(linked)),
                listed_courses=listed,
            )
        )
    return result


def linked(session: Session, platform_id: uuid.UUID, institution_id: uuid.UUID) -> bool:
    return any(
        lnk.platform_id == platform_id and lnk.institution_id == institution_id
        for lnk in repository.links_touching(session, [platform_id])
    )


@dataclass(frozen=True)
class PartnerPage:
    organisation: organisations.Organisation
    courses: list[Course]
    """The institution's courses (empty for a platform)."""
    listings: list[Listing]
    """The platform's listings (empty for an institution)."""
    course_titles: dict[uuid.UUID, str]
    conflicts: list[Conflict]


def partner_page(session: Session, partner_id: uuid.UUID) -> PartnerPage:
    """What the program office sees of one partner in the catalogue: courses or listings, and conflicts."""
    found = organisations.get(session, partner_id)
    if found is None:
        raise PartnerUnknown()
    own = repository.courses_of_institution(session, partner_id) if found.role == organisations.INSTITUTION else []
    listings = repository.listings_of_platform(session, partner_id) if found.role == organisations.PLATFORM else []
    titles = {c.id: c.title for c in repository.courses(session, [lst.course_id for lst in listings])}
    return PartnerPage(found, own, listings, titles, conflicts(session, [partner_id]))


def listing_is_sellable(course: Course, listing: Listing) -> bool:
    return course.status == CourseStatus.approved and listing.status == ListingStatus.listed


def institution_courses(session: Session, institution_id: uuid.UUID) -> list[Course]:
    return repository.courses_of_institution(session, institution_id)
