"""One base error for every domain: an HTTP status, a stable code, messages in Indonesian and English."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class DomainError(Exception):
    """A refusal the caller can act on. Rendered as JSON ``{code, message, message_en, details}`` or a page."""

    status_code: int = 400
    code: str = "bad_request"
    message: str = "Permintaan tidak dapat diproses."
    message_en: str = "The request cannot be processed."

    def __init__(
        self,
        message: str | None = None,
        message_en: str | None = None,
        *,
        code: str | None = None,
        status_code: int | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        if message is not None:
            self.message = message
        if message_en is not None:
            self.message_en = message_en
        if code is not None:
            self.code = code
        if status_code is not None:
            self.status_code = status_code
        self.details: dict[str, Any] = details or {}
        super().__init__(f"{self.code}: {self.message_en}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "message_en": self.message_en,
            "details": self.details,
        }


def words_for_code(code: str) -> tuple[str, str] | None:
    """The (Indonesian, English) message of the refusal class that owns ``code``, for pages that list refusals
    by code (the partner refusal log); None for a code no class declares (one built at run time)."""
    todo, seen = list(DomainError.__subclasses__()), set()
    while todo:
        kind = todo.pop()
        if kind in seen:
            continue
        seen.add(kind)
        if vars(kind).get("code") == code:
            return kind.message, kind.message_en
        todo.extend(kind.__subclasses__())
    return None


DEFAULT_RETRY_AFTER = 60
"""Seconds a 429 asks the caller to wait when the refusal does not say (``details["retry_after"]``)."""


def response_headers(error: DomainError) -> dict[str, str] | None:
    """HTTP headers a refusal carries: ``Retry-After`` on every 429, for pages and API callers alike."""
    if error.status_code != 429:
        return None
    seconds = error.details.get("retry_after", DEFAULT_RETRY_AFTER)
    return {"Retry-After": str(max(1, int(seconds)) if isinstance(seconds, int) else DEFAULT_RETRY_AFTER)}


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    message = "Data tidak ditemukan."
    message_en = "Not found."


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    message = "Permintaan bertentangan dengan keadaan data saat ini."
    message_en = "The request conflicts with the current state."


class ValidationFailed(DomainError):
    status_code = 422
    code = "validation_failed"
    message = "Data yang dikirim tidak valid."
    message_en = "The submitted data is not valid."


class Unauthenticated(DomainError):
    status_code = 401
    code = "unauthenticated"
    message = "Silakan masuk terlebih dahulu."
    message_en = "Please sign in first."


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"
    message = "Anda tidak memiliki akses ke halaman ini."
    message_en = "You do not have access to this."


class RateLimited(DomainError):
    status_code = 429
    code = "rate_limited"
    message = "Terlalu banyak percobaan. Coba lagi nanti."
    message_en = "Too many attempts. Try again later."


class FieldProblem(Protocol):
    """One field's problem in a form or payload: which field, a stable code, messages in both languages."""

    field: str
    code: str
    message_id: str
    message_en: str


class Problem:
    """The plain :class:`FieldProblem`."""

    __slots__ = ("code", "field", "message_en", "message_id")

    def __init__(self, field: str, code: str, message_id: str, message_en: str) -> None:
        self.field, self.code, self.message_id, self.message_en = field, code, message_id, message_en

    def __repr__(self) -> str:
        return f"Problem({self.field!r}, {self.code!r})"


def field_details(problems: Sequence[FieldProblem]) -> dict[str, Any]:
    """``details["fields"]`` as ``[{field, code, message, message_en}]``: what pages show next to each field."""
    return {
        "fields": [
            {"field": p.field, "code": p.code, "message": p.message_id, "message_en": p.message_en} for p in problems
        ]
    }


class InvalidInput(DomainError):
    """A form or payload with field problems (422); pages show each message next to its field."""

    status_code = 422
    code = "invalid_input"
    message = "Periksa kembali isian yang ditandai."
    message_en = "Check the marked fields."

    def __init__(self, problems: Sequence[FieldProblem], *, code: str | None = None) -> None:
        super().__init__(code=code, details=field_details(problems))


def one_field(field: str, code: str, message_id: str, message_en: str, *, status: int = 422) -> InvalidInput:
    """One field's problem as the whole refusal (its message is the error's message)."""
    error = InvalidInput([Problem(field, code, message_id, message_en)], code=code)
    error.status_code = status
    error.message, error.message_en = message_id, message_en
    return error
