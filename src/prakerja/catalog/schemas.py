"""Bodies of the marketplace endpoints (contract ``marketplace-api.md`` section 2 and ``PUT /listings``).
Unknown fields are refused; amounts are whole rupiah (JSON integers, never decimals or strings)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    field_validator,
    model_validator,
)

from prakerja.catalog.rules import CATEGORIES

MAX_PRICE = 100_000_000
"""A course above Rp100,000,000 is a typing mistake, not a course."""


def _clean(value: str) -> str:
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        raise ValueError("control characters are not allowed")
    return value.strip()


Text = Annotated[str, AfterValidator(_clean)]


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("a time zone is required (RFC 3339, e.g. 2026-03-02T09:00:00Z)")
    return value


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_max_length=20_000)


class Trainer(_Body):
    name: Text = Field(min_length=2, max_length=200)
    qualification: Text = Field(min_length=2, max_length=300)
    """Certificate, degree or experience that qualifies them."""


class SessionIn(_Body):
    starts_at: Annotated[datetime, AfterValidator(_aware)]
    duration_minutes: StrictInt = Field(gt=0, le=24 * 60)
    training_type: Literal["online", "offline"] | None = None
    """Required for a hybrid course; otherwise follows the format (``offline`` for offline, else ``online``)."""
    place: Text = Field(default="", max_length=300)
    """The venue's address: required for an offline session."""
    province_code: str | None = Field(default=None, pattern=r"^[0-9]{2}$")
    """Kemendagri province code of the venue: required for an offline session."""


class CourseCreate(_Body):
    """``POST /partner/v1/courses``."""

    title: Text = Field(min_length=5, max_length=200)
    category: str = Field(max_length=32)
    competency_standard: Text = Field(min_length=3, max_length=300)
    syllabus: Text = Field(min_length=20, max_length=20_000)
    trainers: list[Trainer] = Field(min_length=1, max_length=100)
    format: Literal["webinar", "self_paced", "offline", "hybrid"]
    hours: StrictInt = Field(gt=0, le=2_000)
    sessions: list[SessionIn] = Field(default_factory=list, max_length=200)
    class_size: StrictInt = Field(gt=0, le=100_000)
    price: StrictInt = Field(gt=0, le=MAX_PRICE)
    outside_price: StrictInt = Field(ge=0, le=MAX_PRICE)
    outside_url: str = Field(default="", max_length=500, pattern=r"^(https?://\S+)?$")
    interactive: StrictBool = False
    """Trainers and participants interact; a course that does not declare it fails the ``not_interactive`` check."""

    @field_validator("category")
    @classmethod
    def _category(cls, value: str) -> str:
        if value not in CATEGORIES:
            raise ValueError(f"one of {', '.join(CATEGORIES)}")
        return value

    @model_validator(mode="after")
    def _sessions(self) -> CourseCreate:
        for index, s in enumerate(self.sessions):
            if self.format == "hybrid" and s.training_type is None:
                raise ValueError(f"sessions[{index}].training_type is required for a hybrid course")
            expected = {"offline": "offline", "webinar": "online", "self_paced": "online"}.get(self.format)
            if expected is not None and s.training_type not in (None, expected):
                raise ValueError(f"sessions[{index}].training_type must be {expected} for a {self.format} course")
            kind = s.training_type or expected
            if kind == "offline" and (not s.place or s.province_code is None):
                raise ValueError(f"sessions[{index}]: an offline session needs place and province_code")
        starts = [s.starts_at for s in self.sessions]
        if len(set(starts)) != len(starts):
            raise ValueError("two sessions start at the same time")
        return self

    def session_type(self, session: SessionIn) -> str:
        if session.training_type is not None:
            return session.training_type
        return "offline" if self.format == "offline" else "online"


class CourseSubmitted(BaseModel):
    course_id: str
    status: str


class SessionOut(BaseModel):
    session_id: str
    starts_at: datetime
    duration_minutes: int
    training_type: str
    place: str
    province_code: str | None


class CurationReason(BaseModel):
    code: str
    message: str
    message_en: str


class CourseOut(BaseModel):
    """``GET /partner/v1/courses/{course_id}``: the course, its curation status and reasons."""

    course_id: str
    status: str
    version: int
    title: str
    category: str
    competency_standard: str
    syllabus: str
    trainers: list[Trainer]
    format: str
    hours: int
    sessions: list[SessionOut]
    class_size: int
    price: int
    outside_price: int
    outside_url: str
    interactive: bool
    scheme: str
    reasons: list[CurationReason]
    """The last decision's reasons (empty while in curation for the first time, and when approved)."""
    note: str
    """The officer's words with the last decision."""
    decided_at: datetime | None


class ListingPut(_Body):
    """``PUT /partner/v1/listings/{course_id}``."""

    url: str = Field(max_length=500, pattern=r"^https://[^\s<>\"]+$")
    price: StrictInt = Field(gt=0, le=MAX_PRICE)


class ListingOut(BaseModel):
    course_id: str
    status: Literal["listed"]
    conflict_of_interest: bool
    """True when the program has recorded a link between this platform and the course's institution: the listing
    is allowed, and shown to the curator and on both partners' pages."""
