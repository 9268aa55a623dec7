"""Loading and validating scheme files (``schemes/NAME.toml``). Pure: no database."""

from __future__ import annotations

import hashlib
import tomllib
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator


class SchemeError(Exception):
    """A scheme file is missing or malformed; the message names the file, the field and the problem."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class Training(_Section):
    balance: int = Field(gt=0)
    """Training balance per recipient, whole rupiah."""
    first_purchase_days: int = Field(gt=0, le=365)
    """Days after selection to make the first purchase, or membership is revoked."""
    expiry_month: int = Field(ge=1, le=12)
    expiry_day: int = Field(ge=1, le=31)
    """Unused balance returns to the state treasury on this day each year."""
    modes: list[Literal["online", "offline", "hybrid"]] = Field(min_length=1)
    min_course_hours: int | None = Field(default=None, ge=0)
    max_online_hours_per_day: int | None = Field(default=None, gt=0, le=24)
    max_offline_hours_per_day: int | None = Field(default=None, gt=0, le=24)
    webinar_max_participants: int | None = Field(default=None, gt=0)
    webinar_participants_per_trainer: int | None = Field(default=None, gt=0)
    redeem_window_minutes: int = Field(gt=0, le=24 * 60)
    """A session's redeem code is valid from this long before to this long after the start."""
    reference: str = Field(min_length=3)


class Incentive(_Section):
    amount: int = Field(gt=0)
    count: int = Field(ge=1, le=12)
    interval_days: int = Field(ge=0)
    """Days between instalments (0 when paid once)."""
    reference: str = Field(min_length=3)


class SurveyIncentive(_Section):
    amount: int = Field(ge=0)
    count: int = Field(ge=0, le=12)
    reference: str = Field(min_length=3)


class Eligibility(_Section):
    age_min: int = Field(ge=15, le=100)
    age_max: int | None = Field(default=None, ge=15, le=120)
    age_max_from_wave: int = Field(default=1, ge=1)
    """The upper age limit applies to waves numbered from this one on."""
    kk_cap: int | None = Field(default=None, ge=1)
    """At most this many recipients per family card (KK)."""
    kk_cap_from_wave: int = Field(default=1, ge=1)
    """The KK cap applies to waves numbered from this one on."""
    exclude_other_aid: bool
    """Refuse people receiving other aid (DTKS, BSU, BPUM)."""
    exclude_other_aid_from_wave: int = Field(default=1, ge=1)
    """The other-aid exclusion applies to waves numbered from this one on."""
    once_per_lifetime: bool = True
    ability_test_affects_selection: bool = False
    ability_test_required: bool = False
    """Whether an applicant must finish the wave's basic ability and motivation test before joining it."""
    reference: str = Field(min_length=3)

    @model_validator(mode="after")
    def _ages(self) -> Eligibility:
        if self.age_max is not None and self.age_max < self.age_min:
            raise ValueError("age_max must not be below age_min")
        return self


class Scheme(_Section):
    name: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{1,63}$")
    title: str = Field(min_length=3)
    version: str = Field(min_length=1)
    effective_from: date
    effective_to: date | None = None
    reference: str = Field(min_length=3)
    """The regulations this scheme implements."""
    training: Training
    incentive: Incentive
    survey_incentive: SurveyIncentive
    eligibility: Eligibility

    @model_validator(mode="after")
    def _dates(self) -> Scheme:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError("effective_to must not be before effective_from")
        return self

    def age_max_for_wave(self, wave_number: int) -> int | None:
        if wave_number >= self.eligibility.age_max_from_wave:
            return self.eligibility.age_max
        return None

    def kk_cap_for_wave(self, wave_number: int) -> int | None:
        if wave_number >= self.eligibility.kk_cap_from_wave:
            return self.eligibility.kk_cap
        return None

    def exclude_other_aid_for_wave(self, wave_number: int) -> bool:
        return self.eligibility.exclude_other_aid and wave_number >= self.eligibility.exclude_other_aid_from_wave


def schemes_dir() -> Path:
    here = Path(__file__).resolve()
    source = here.parents[3] / "schemes"
    if source.is_dir():
        return source
    return here.parents[1] / "_schemes"


def _describe(error: ValidationError, path: Path) -> str:
    first = error.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "(file)"
    return f"{path}: {field}: {first['msg']}"


def parse(path: Path) -> tuple[Scheme, str]:
    """Returns the scheme and the SHA-256 of its file (recorded with every decision that uses it)."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise SchemeError(f"{path}: cannot read ({error.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise SchemeError(f"{path}: (file): not valid TOML ({error})") from None
    try:
        scheme = Scheme.model_validate(data)
    except ValidationError as error:
        raise SchemeError(_describe(error, path)) from None
    if scheme.name != path.stem:
        raise SchemeError(f"{path}: name: must equal the file name {path.stem!r}, got {scheme.name!r}")
    return scheme, hashlib.sha256(raw).hexdigest()


def available() -> list[str]:
    return sorted(p.stem for p in schemes_dir().glob("*.toml"))


@lru_cache(maxsize=32)
def load(name: str) -> Scheme:
    if name not in available():
        raise SchemeError(f"scheme {name!r} not found; available: {', '.join(available()) or 'none'}")
    return parse(schemes_dir() / f"{name}.toml")[0]


def file_hash(name: str) -> str:
    return parse(schemes_dir() / f"{name}.toml")[1]
