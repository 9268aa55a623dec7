"""The catalogue's use cases: the one way in for other domains (the ``training`` domain builds on them).
Takes a session; never commits.

- ``courses``: institutions submit and change courses (a change sends a course back to curation);
- ``curation``: officers' decisions, platform-institution links and conflicts of interest;
- ``listings``: platforms list approved courses;
- ``search``: the participants' catalogue;
- ``organisations``: the one module that reads partner organisations."""

from prakerja.catalog.service import courses, curation, listings, organisations, search
from prakerja.catalog.service.courses import (
    cancel_session,
    course_sessions,
    course_sessions_on_loop,
    get_course,
    get_session,
    sessions_lateral_sql,
    sessions_of_row,
    set_rating_summary,
)
from prakerja.catalog.service.listings import (
    SellableCourse,
    sellable_course,
    sellable_course_of,
    sellable_course_source,
    sellable_listing,
)

__all__ = [
    "SellableCourse",
    "cancel_session",
    "course_sessions",
    "course_sessions_on_loop",
    "courses",
    "curation",
    "get_course",
    "get_session",
    "listings",
    "organisations",
    "search",
    "sellable_course",
    "sellable_course_of",
    "sellable_course_source",
    "sellable_listing",
    "sessions_lateral_sql",
    "sessions_of_row",
    "set_rating_summary",
]
