"""Institutions submit and change courses; what the partner API shows them. Takes a session; never commits."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
from sqlalchemy.orm import Session

from prakerja.audit import service as audit
from prakerja.catalog import repository, rules
from prakerja.catalog.errors import CourseInvalid, CourseNotFound, NoSchemeInForce
from prakerja.catalog.models import Course, CourseFormat, CourseSession, CourseStatus, TrainingType
from prakerja.catalog.schemas import CourseCreate, CourseOut, CurationReason, SessionOut, Trainer
from prakerja.kit.clock import clock, utcnow
from prakerja.kit.loop import Later
from prakerja.registration.service.regions import province_name
from prakerja.schemes import rules as schemes


def scheme_in_force() -> schemes.Scheme:
    today = clock.today_jakarta().date()
    found = rules.scheme_in_force((schemes.load(name) for name in schemes.available()), today)
    if found is None:
        raise NoSchemeInForce(details={"date": today.isoformat()})
    return found


def _check_provinces(data: CourseCreate) -> None:
    problems = [
        {"field": f"sessions.{i}.province_code", "problem": "unknown province code"}
        for i, s in enumerate(data.sessions)
        if s.province_code is not None and province_name(s.province_code) is None
    ]
    if problems:
        raise CourseInvalid(details={"fields": problems})


def _apply(course: Course, data: CourseCreate) -> None:
    course.title = data.title
    course.category = data.category
    course.competency_standard = data.competency_standard
    course.syllabus = data.syllabus
    course.format = CourseFormat(data.format)
    course.hours = data.hours
    course.class_size = data.class_size
    course.trainer_count = len(data.trainers)
    course.trainers = json.dumps([t.model_dump() for t in data.trainers], ensure_ascii=False)
    course.price = data.price
    course.outside_price = data.outside_price
    course.outside_url = data.outside_url
    course.interactive = data.interactive


def _session_rows(course_id: uuid.UUID, data: CourseCreate) -> list[CourseSession]:
    ordered = sorted(data.sessions, key=lambda s: s.starts_at)
    return [
        CourseSession(
            course_id=course_id,
            position=position,
            starts_at=s.starts_at,
            duration_minutes=s.duration_minutes,
            training_type=TrainingType(data.session_type(s)),
            place=s.place,
            province_code=s.province_code if data.session_type(s) == "offline" else None,
        )
        for position, s in enumerate(ordered, start=1)
    ]


def submit(session: Session, *, institution_id: uuid.UUID, data: CourseCreate, actor: audit.Actor) -> Course:
    """A new course, in curation, checked against the scheme in force today."""
    _check_provinces(data)
    scheme = scheme_in_force()
    now = utcnow()
    course = Course(
        institution_id=institution_id,
        status=CourseStatus.in_curation,
        version=1,
        scheme_name=scheme.name,
        updated_at=now,
        rating_count=0,
    )
    _apply(course, data)
    repository.add(session, course)
    for row in _session_rows(course.id, data):
        session.add(row)
    session.flush()
    failing = rules.failed(rules.check_course(facts(course, repository.sessions_of(session, course.id)), scheme))
    audit.record(
        session,
        actor,
        "catalog.course_submitted",
        "course",
        course.id,
        data={"institution_id": str(institution_id), "version": 1, "scheme": scheme.name, "failing_checks": failing},
    )
    return course


def content(course: Course, sessions: list[CourseSession]) -> CourseCreate:
    """The course as the institution would send it again: a change is a difference here."""
    return CourseCreate(
        title=course.title,
        category=course.category,
        competency_standard=course.competency_standard,
        syllabus=course.syllabus,
        trainers=[Trainer(**t) for t in json.loads(course.trainers)],
        format=course.format.value,
        hours=course.hours,
        sessions=[
            {
                "starts_at": s.starts_at,
                "duration_minutes": s.duration_minutes,
                "training_type": s.training_type.value,
                "place": s.place,
                "province_code": s.province_code,
            }
            for s in sessions
        ],
        class_size=course.class_size,
        price=course.price,
        outside_price=course.outside_price,
        outside_url=course.outside_url,
        interactive=course.interactive,
    )


def _normalised(data: CourseCreate) -> dict[str, Any]:
    dumped = data.model_dump(mode="json")
    ordered = sorted(data.sessions, key=lambda s: s.starts_at)
    dumped["sessions"] = [
        {
            **s.model_dump(mode="json"),
            "starts_at": s.starts_at.astimezone(UTC).isoformat(),
            "training_type": data.session_type(s),
            "province_code": s.province_code if data.session_type(s) == "offline" else None,
        }
        for s in ordered
    ]
    return dumped


def edit(
    session: Session, *, course_id: uuid.UUID, institution_id: uuid.UUID, data: CourseCreate, actor: audit.Actor
) -> tuple[Course, bool]:
    """Change a course. Any change sends it back to curation (an approved course stops being sellable until it is
    approved again); sending the same course again changes nothing. Returns the course and whether it changed."""
    course = repository.course(session, course_id, lock=True)
    if course is None or course.institution_id != institution_id:
        raise CourseNotFound()
    _check_provinces(data)
    sessions = repository.sessions_of(session, course.id)
    before = _normalised(content(course, sessions))
    after = _normalised(data)
    if before == after:
        return course, False
    previous = course.status
    _apply(course, data)
    course.version += 1
    course.status = CourseStatus.in_curation
    course.approved_at = None
    course.updated_at = utcnow()
    course.scheme_name = scheme_in_force().name
    _replace_sessions(session, course.id, sessions, _session_rows(course.id, data))
    session.flush()
    audit.record(
        session,
        actor,
        "catalog.course_changed",
        "course",
        course.id,
        data={
            "version": course.version,
            "previous_status": previous.value,
            "returned_to_curation": previous != CourseStatus.in_curation,
            "changed": sorted(k for k in after if after[k] != before.get(k)),
        },
    )
    return course, True


def _replace_sessions(
    session: Session, course_id: uuid.UUID, old: list[CourseSession], new: list[CourseSession]
) -> None:
    """Sessions keep their ids when they keep their start time (the training domain's redeem codes point at
    them); the others are removed and added."""
    kept = {s.starts_at: s for s in old}
    for s in old:
        s.position = -s.position  # out of the way of the unique (course, position) while renumbering
    session.flush()
    survivors = set()
    for row in new:
        match = kept.get(row.starts_at)
        if match is not None:
            match.position, match.duration_minutes, match.training_type = (
                row.position,
                row.duration_minutes,
                row.training_type,
            )
            match.place, match.province_code = row.place, row.province_code
            survivors.add(match.id)
        else:
            session.add(row)
    for s in old:
        if s.id not in survivors:
            session.delete(s)
    session.flush()


def get_course(session: Session, course_id: uuid.UUID) -> Course:
    found = repository.course(session, course_id)
    if found is None:
        raise CourseNotFound()
    return found


def course_sessions(session: Session, course_id: uuid.UUID) -> list[CourseSession]:
    """The course's sessions in order (cancelled ones too: see ``cancelled_at``)."""
    return repository.sessions_of(session, course_id)


@dataclass(frozen=True)
class SessionSlot:
    """A course session as a purchase sees it (its codes are valid around ``starts_at``)."""

    id: uuid.UUID
    starts_at: datetime
    training_type: TrainingType
    cancelled_at: datetime | None


async def course_sessions_on_loop(conn: asyncpg.Connection, course_id: uuid.UUID) -> Later[list[SessionSlot]]:
    """:func:`course_sessions` on a loop connection (``db.on_loop``, ADR 0014): the same sessions, in order."""
    rows = await repository.sessions_of_on_loop(conn, course_id)

    async def slots() -> list[SessionSlot]:
        return [SessionSlot(i, starts, TrainingType(kind), cancelled) for i, starts, kind, cancelled in await rows()]

    return slots


def sessions_lateral_sql(course_id: str) -> str:
    """A subquery for a ``LATERAL`` join of a statement another domain composes (ADR 0032): a course's sessions as
    :func:`course_sessions_on_loop` reads them, ``course_id`` an SQL expression of that statement; its columns
    (``session_ids``, ``session_starts``, ``session_types``, ``session_cancelled``) read back by
    :func:`sessions_of_row`."""
    return repository.SESSIONS_LATERAL_SQL.format(course_id=course_id)


def sessions_of_row(row: Mapping[str, Any]) -> list[SessionSlot]:
    """The sessions of a row with :func:`sessions_lateral_sql`'s columns, as :func:`course_sessions_on_loop`
    answers: the same sessions, in order."""
    ids = row["session_ids"]
    if ids is None:
        return []
    return [
        SessionSlot(i, starts, TrainingType(kind), cancelled)
        for i, starts, kind, cancelled in zip(
            ids, row["session_starts"], row["session_types"], row["session_cancelled"], strict=True
        )
    ]


def facts(course: Course, sessions: list[CourseSession]) -> rules.CourseFacts:
    return rules.CourseFacts(
        format=course.format.value,
        hours=course.hours,
        class_size=course.class_size,
        trainer_count=course.trainer_count,
        price=course.price,
        outside_price=course.outside_price,
        interactive=course.interactive,
        sessions=tuple(
            rules.SessionPlan(s.starts_at, s.duration_minutes, s.training_type.value)
            for s in sessions
            if s.cancelled_at is None
        ),
    )


def checks(session: Session, course: Course) -> list[rules.Check]:
    """The automatic checks of the course as it is now, against its scheme."""
    return rules.check_course(
        facts(course, repository.sessions_of(session, course.id)), schemes.load(course.scheme_name)
    )


def trainers(course: Course) -> list[Trainer]:
    return [Trainer(**t) for t in json.loads(course.trainers)]


@dataclass(frozen=True)
class Reason:
    code: str
    message: str
    message_en: str


def reasons_of(session: Session, course: Course) -> tuple[list[Reason], str, Any]:
    """The last decision's reasons (with words), note and time; nothing before the first decision."""
    decisions = repository.decisions_of(session, course.id)
    if not decisions:
        return [], "", None
    last = decisions[0]
    words = {
        c.code: c
        for c in rules.check_course(
            facts(course, repository.sessions_of(session, course.id)), schemes.load(course.scheme_name)
        )
    }
    found = []
    for code in last.reasons:
        if code in words:
            found.append(Reason(code, words[code].message, words[code].message_en))
        else:
            found.append(Reason(code, rules.reason_text(code, "id"), rules.reason_text(code, "en")))
    return found, last.note, last.created_at


def institution_course(session: Session, *, course_id: uuid.UUID, institution_id: uuid.UUID) -> CourseOut:
    """``GET /partner/v1/courses/{course_id}``: an institution sees its own courses only."""
    course = repository.course(session, course_id)
    if course is None or course.institution_id != institution_id:
        raise CourseNotFound()
    sessions = repository.sessions_of(session, course.id)
    reasons, note, decided_at = reasons_of(session, course)
    return CourseOut(
        course_id=str(course.id),
        status=course.status.value,
        version=course.version,
        title=course.title,
        category=course.category,
        competency_standard=course.competency_standard,
        syllabus=course.syllabus,
        trainers=trainers(course),
        format=course.format.value,
        hours=course.hours,
        sessions=[
            SessionOut(
                session_id=str(s.id),
                starts_at=s.starts_at,
                duration_minutes=s.duration_minutes,
                training_type=s.training_type.value,
                place=s.place,
                province_code=s.province_code,
            )
            for s in sessions
        ],
        class_size=course.class_size,
        price=course.price,
        outside_price=course.outside_price,
        outside_url=course.outside_url,
        interactive=course.interactive,
        scheme=course.scheme_name,
        reasons=[CurationReason(code=r.code, message=r.message, message_en=r.message_en) for r in reasons],
        note=note,
        decided_at=decided_at,
    )


def set_rating_summary(session: Session, course_id: uuid.UUID, *, average: float | None, count: int) -> None:
    """For the training domain: the participants' average stars and how many rated."""
    course = repository.course(session, course_id, lock=True)
    if course is None:
        raise CourseNotFound()
    course.rating_average = None if average is None else round(average, 2)  # type: ignore[assignment]
    course.rating_count = count
    session.flush()


def get_session(session: Session, session_id: uuid.UUID) -> CourseSession | None:
    """For the training domain: one session (cancelled ones too)."""
    return repository.course_session(session, session_id)


def cancel_session(session: Session, *, session_id: uuid.UUID, actor: audit.Actor, reason: str) -> CourseSession | None:
    """The program cancels a session (e.g. a public holiday); the training domain refunds it to the balances.
    None when there is no such session; a session already cancelled keeps its first time."""
    found = repository.course_session(session, session_id, lock=True)
    if found is None:
        return None
    if found.cancelled_at is None:
        found.cancelled_at = utcnow()
        session.flush()
        audit.record(
            session,
            actor,
            "catalog.session_cancelled",
            "course_session",
            found.id,
            reason=reason,
            data={"course_id": str(found.course_id)},
        )
    return found


def categories(language: str) -> list[tuple[str, str]]:
    """(code, label) of every course category in the reader's language, for forms."""
    return [(code, rules.category_label(code, language)) for code in rules.CATEGORIES]
