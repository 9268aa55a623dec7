"""Curation rules as code: the scheme's training rules and the program's course criteria, checked automatically.
Pure: plain data in, :class:`Check` results out; no database, no clock."""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import date, datetime

from prakerja.kit.clock import JAKARTA
from prakerja.schemes.rules import Scheme

CATEGORIES: dict[str, tuple[str, str]] = {
    "marketing": ("Pemasaran", "Marketing"),
    "sales": ("Penjualan", "Sales"),
    "entrepreneurship": ("Kewirausahaan", "Entrepreneurship"),
    "technology": ("Teknologi informasi", "Information technology"),
    "language": ("Bahasa asing", "Foreign languages"),
    "finance": ("Keuangan", "Finance"),
    "management": ("Manajemen", "Management"),
    "food": ("Makanan dan minuman", "Food and drink"),
    "creative": ("Industri kreatif", "Creative industries"),
    "agriculture": ("Pertanian", "Agriculture"),
    "hospitality": ("Pariwisata dan perhotelan", "Tourism and hospitality"),
    "manufacturing": ("Manufaktur dan teknik", "Manufacturing and engineering"),
}
"""Course categories: code -> (Indonesian, English)."""

FORMAT_MODE = {"webinar": "online", "self_paced": "online", "offline": "offline", "hybrid": "hybrid"}
FORMAT_WORDS = {
    "webinar": ("daring langsung (webinar)", "live online (webinar)"),
    "self_paced": ("daring mandiri", "self-paced online"),
    "offline": ("luring (tatap muka)", "offline (classroom)"),
    "hybrid": ("campuran (daring dan luring)", "hybrid (online and offline)"),
}
"""Each format in words for the checks' messages (Bahasa Indonesia, English)."""
MODE_WORDS = {"online": ("daring", "online"), "offline": ("luring", "offline"), "hybrid": ("campuran", "hybrid")}
"""Each scheme mode in words (Bahasa Indonesia, English)."""
"""The scheme's ``modes`` a course format needs."""

LIVE_ONLINE_FORMATS = frozenset({"webinar", "hybrid"})
"""Formats whose online sessions are live classes: the webinar class-size and trainer rules apply."""

OFFICER_REASONS: dict[str, tuple[str, str]] = {
    "syllabus_insufficient": (
        "Silabus atau rencana pembelajaran kurang lengkap.",
        "The syllabus or lesson plan is incomplete.",
    ),
    "competency_unclear": ("Standar kompetensi tidak jelas.", "The competency standard is unclear."),
    "trainers_unqualified": ("Kualifikasi pelatih tidak memadai.", "The trainers are not qualified enough."),
    "evaluation_missing": ("Tidak ada evaluasi pembelajaran.", "There is no learning evaluation."),
    "price_unjustified": ("Harga tidak sebanding dengan isi pelatihan.", "The price does not match the content."),
    "other": ("Alasan lain (lihat catatan).", "Another reason (see the note)."),
}
"""Reasons an officer may give besides the automatic checks: code -> (Indonesian, English)."""


@dataclass(frozen=True)
class SessionPlan:
    """What the checks read of one session."""

    starts_at: datetime
    duration_minutes: int
    training_type: str
    """``online`` or ``offline``."""


@dataclass(frozen=True)
class CourseFacts:
    """What the checks read of a course."""

    format: str
    hours: int
    class_size: int
    trainer_count: int
    price: int
    outside_price: int
    interactive: bool
    sessions: tuple[SessionPlan, ...]

    def inputs_hash(self) -> str:
        """SHA-256 of the facts, recorded with each decision."""
        data = asdict(self)
        data["sessions"] = [{**s, "starts_at": s["starts_at"].isoformat()} for s in data["sessions"]]
        return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@dataclass(frozen=True)
class Check:
    """One automatic check: its reason code, whether it passed, and why in both languages."""

    code: str
    passed: bool
    message: str
    message_en: str
    applicable: bool = True
    """False when the scheme has no such rule (the check passes)."""

    def as_record(self) -> dict[str, object]:
        return {"code": self.code, "passed": self.passed, "applicable": self.applicable}


CHECK_CODES = (
    "format_not_in_scheme",
    "sessions_missing",
    "hours_below_minimum",
    "online_hours_per_day_exceeded",
    "offline_hours_per_day_exceeded",
    "class_size_above_maximum",
    "too_few_trainers",
    "price_above_outside_price",
    "free_elsewhere",
    "not_interactive",
)
"""Every automatic check, in the order they are shown."""


def scheme_in_force(schemes: Iterable[Scheme], today: date) -> Scheme | None:
    """The scheme whose dates include ``today``; the latest to start when several do."""
    current = [s for s in schemes if s.effective_from <= today and (s.effective_to is None or today <= s.effective_to)]
    return max(current, key=lambda s: s.effective_from) if current else None


def hours_per_day(sessions: Sequence[SessionPlan], training_type: str) -> dict[date, float]:
    """Hours of sessions of one type on each Jakarta calendar day."""
    days: dict[date, int] = defaultdict(int)
    for s in sessions:
        if s.training_type == training_type:
            days[s.starts_at.astimezone(JAKARTA).date()] += s.duration_minutes
    return {day: minutes / 60 for day, minutes in days.items()}


def _fmt(value: float) -> str:
    return f"{value:g}"


def check_course(facts: CourseFacts, scheme: Scheme) -> list[Check]:
    """Every check of :data:`CHECK_CODES`, in that order."""
    t = scheme.training
    mode = FORMAT_MODE[facts.format]
    checks = [
        Check(
            "format_not_in_scheme",
            mode in t.modes,
            f"Format {FORMAT_WORDS[facts.format][0]} harus termasuk moda skema"
            f" ({', '.join(MODE_WORDS[m][0] for m in t.modes)}).",
            f"The {FORMAT_WORDS[facts.format][1]} format must be one of the scheme's modes"
            f" ({', '.join(MODE_WORDS[m][1] for m in t.modes)}).",
        ),
        Check(
            "sessions_missing",
            facts.format == "self_paced" or bool(facts.sessions),
            "Pelatihan selain mandiri harus memiliki jadwal sesi.",
            "A course that is not self-paced must have scheduled sessions.",
        ),
    ]
    minimum = t.min_course_hours
    checks.append(
        Check(
            "hours_below_minimum",
            minimum is None or facts.hours >= minimum,
            f"Durasi {facts.hours} jam; minimal {minimum} jam.",
            f"{facts.hours} hours; at least {minimum} hours required.",
            applicable=minimum is not None,
        )
    )
    for training_type, limit, word, word_en in (
        ("online", t.max_online_hours_per_day, "daring", "online"),
        ("offline", t.max_offline_hours_per_day, "luring", "offline"),
    ):
        busiest = max(hours_per_day(facts.sessions, training_type).values(), default=0.0)
        checks.append(
            Check(
                f"{training_type}_hours_per_day_exceeded",
                limit is None or busiest <= limit,
                f"Sesi {word} paling lama {_fmt(busiest)} jam sehari; maksimal {limit} jam.",
                f"Up to {_fmt(busiest)} {word_en} hours in a day; at most {limit} allowed.",
                applicable=limit is not None,
            )
        )
    live = facts.format in LIVE_ONLINE_FORMATS
    most = t.webinar_max_participants
    checks.append(
        Check(
            "class_size_above_maximum",
            not live or most is None or facts.class_size <= most,
            f"Kelas webinar {facts.class_size} peserta; maksimal {most}.",
            f"Webinar class of {facts.class_size}; at most {most} allowed.",
            applicable=live and most is not None,
        )
    )
    per_trainer = t.webinar_participants_per_trainer
    needed = math.ceil(facts.class_size / per_trainer) if per_trainer else 0
    checks.append(
        Check(
            "too_few_trainers",
            not live or per_trainer is None or facts.trainer_count >= needed,
            f"{facts.trainer_count} pelatih untuk {facts.class_size} peserta; perlu 1 pelatih per {per_trainer} "
            f"peserta ({needed}).",
            f"{facts.trainer_count} trainers for {facts.class_size} participants; 1 per {per_trainer} needed "
            f"({needed}).",
            applicable=live and per_trainer is not None,
        )
    )
    checks += [
        Check(
            "price_above_outside_price",
            facts.price <= facts.outside_price,
            "Harga di Prakerja tidak boleh melebihi harga di luar Prakerja.",
            "The price in the program must not exceed the price outside it.",
        ),
        Check(
            "free_elsewhere",
            facts.outside_price > 0,
            "Pelatihan tidak boleh gratis di tempat lain.",
            "The course must not be free elsewhere.",
        ),
        Check(
            "not_interactive",
            facts.interactive,
            "Pelatihan harus interaktif (ada interaksi pelatih dan peserta).",
            "The course must be interactive (trainers and participants interact).",
        ),
    ]
    return checks


def failed(checks: Iterable[Check]) -> list[str]:
    return [c.code for c in checks if not c.passed]


def reason_text(code: str, language: str) -> str:
    """Words for an officer's reason code (a rule code's words come with its :class:`Check`)."""
    found = OFFICER_REASONS.get(code)
    if found is None:
        return code
    return found[0] if language == "id" else found[1]


def category_label(code: str, language: str) -> str:
    found = CATEGORIES.get(code)
    if found is None:
        return code
    return found[0] if language == "id" else found[1]
