"""The basic ability and motivation test: an item bank and automatic scoring. Pure data and functions.

Verbal and numeric items have one right option; motivation items are statements scored on agreement
(0-3 points, some reversed). Each attempt draws a fixed number of items per section, shuffled by the attempt id."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta

TIME_LIMIT = timedelta(minutes=15)
PER_SECTION = {"verbal": 4, "numeric": 4, "motivation": 3}
LIKERT = (
    ("Sangat tidak setuju", "Strongly disagree"),
    ("Tidak setuju", "Disagree"),
    ("Setuju", "Agree"),
    ("Sangat setuju", "Strongly agree"),
)


@dataclass(frozen=True)
class Item:
    id: str
    section: str
    question_id: str
    question_en: str
    options: tuple[tuple[str, str], ...]
    """(Indonesian, English) for each option."""
    answer: int | None = None
    """Index of the right option (verbal and numeric)."""
    reversed: bool = False
    """Motivation: agreement scores low."""


def _choice(item_id: str, section: str, q_id: str, q_en: str, options: list[tuple[str, str]], answer: int) -> Item:
    return Item(item_id, section, q_id, q_en, tuple(options), answer=answer)


ITEMS: tuple[Item, ...] = (
    _choice(
        "v1",
        "verbal",
        "Lawan kata 'rajin' adalah ...",
        "The opposite of 'diligent' is ...",
        [("malas", "lazy"), ("pintar", "clever"), ("cepat", "fast"), ("tekun", "persistent")],
        0,
    ),
    _choice(
        "v2",
        "verbal",
        "Sinonim 'bekerja sama' adalah ...",
        "A synonym of 'work together' is ...",
        [("bersaing", "compete"), ("berkolaborasi", "collaborate"), ("berdebat", "argue"), ("menunda", "delay")],
        1,
    ),
    _choice(
        "v3",
        "verbal",
        "Buku : membaca = pisau : ...",
        "Book : read = knife : ...",
        [("dapur", "kitchen"), ("tajam", "sharp"), ("memotong", "cut"), ("besi", "iron")],
        2,
    ),
    _choice(
        "v4",
        "verbal",
        "Kata yang ejaannya benar adalah ...",
        "The correctly spelt word is ...",
        [
            ("aktifitas", "aktifitas"),
            ("aktivitas", "aktivitas"),
            ("aktipitas", "aktipitas"),
            ("aktivitass", "aktivitass"),
        ],
        1,
    ),
    _choice(
        "v5",
        "verbal",
        "Petani : sawah = nelayan : ...",
        "Farmer : rice field = fisher : ...",
        [("laut", "sea"), ("jaring", "net"), ("ikan", "fish"), ("perahu", "boat")],
        0,
    ),
    _choice(
        "v6",
        "verbal",
        "Lawan kata 'hemat' adalah ...",
        "The opposite of 'thrifty' is ...",
        [("boros", "wasteful"), ("kaya", "rich"), ("murah", "cheap"), ("cermat", "careful")],
        0,
    ),
    _choice(
        "n1",
        "numeric",
        "12 + 15 x 2 = ...",
        "12 + 15 x 2 = ...",
        [("54", "54"), ("42", "42"), ("39", "39"), ("27", "27")],
        1,
    ),
    _choice(
        "n2",
        "numeric",
        "Deret 2, 4, 8, 16, ... berikutnya?",
        "Series 2, 4, 8, 16, ... next?",
        [("18", "18"), ("24", "24"), ("32", "32"), ("20", "20")],
        2,
    ),
    _choice(
        "n3",
        "numeric",
        "25% dari 600.000 adalah ...",
        "25% of 600,000 is ...",
        [("150.000", "150,000"), ("125.000", "125,000"), ("240.000", "240,000"), ("60.000", "60,000")],
        0,
    ),
    _choice(
        "n4",
        "numeric",
        "Harga Rp80.000 diskon 10%, dibayar ...",
        "A Rp80,000 price with 10% off costs ...",
        [("Rp70.000", "Rp70,000"), ("Rp72.000", "Rp72,000"), ("Rp78.000", "Rp78,000"), ("Rp8.000", "Rp8,000")],
        1,
    ),
    _choice(
        "n5",
        "numeric",
        "3 jam 45 menit = ... menit",
        "3 hours 45 minutes = ... minutes",
        [("225", "225"), ("345", "345"), ("195", "195"), ("245", "245")],
        0,
    ),
    _choice(
        "n6",
        "numeric",
        "Deret 5, 10, 20, 35, ... berikutnya?",
        "Series 5, 10, 20, 35, ... next?",
        [("50", "50"), ("55", "55"), ("45", "45"), ("60", "60")],
        1,
    ),
    Item(
        "m1",
        "motivation",
        "Saya ingin belajar keterampilan baru untuk pekerjaan saya.",
        "I want to learn new skills for my work.",
        LIKERT,
    ),
    Item("m2", "motivation", "Saya menyelesaikan apa yang sudah saya mulai.", "I finish what I start.", LIKERT),
    Item(
        "m3",
        "motivation",
        "Pelatihan tidak akan mengubah apa pun bagi saya.",
        "Training will not change anything for me.",
        LIKERT,
        reversed=True,
    ),
    Item(
        "m4",
        "motivation",
        "Saya siap meluangkan waktu setiap minggu untuk belajar.",
        "I am ready to set aside time every week to learn.",
        LIKERT,
    ),
)
BY_ID = {item.id: item for item in ITEMS}


def draw(seed: str) -> list[str]:
    """The items of one attempt: ``PER_SECTION`` per section, shuffled by ``seed`` (the attempt id)."""
    rng = random.Random(seed)
    chosen: list[str] = []
    for section, count in PER_SECTION.items():
        pool = [item.id for item in ITEMS if item.section == section]
        chosen.extend(rng.sample(pool, count))
    return chosen


@dataclass(frozen=True)
class Score:
    verbal: int
    numeric: int
    motivation: int
    total: int
    """Percentage of available points over the whole attempt."""


def score(item_ids: list[str], answers: dict[str, int]) -> Score:
    """Right answers score 1 (verbal, numeric); motivation scores 0-3 by agreement. Missing answers score 0."""
    points = {"verbal": 0, "numeric": 0, "motivation": 0}
    available = 0
    for item_id in item_ids:
        item = BY_ID[item_id]
        given = answers.get(item_id)
        if item.section == "motivation":
            available += 3
            if given is not None and 0 <= given <= 3:
                points["motivation"] += (3 - given) if item.reversed else given
        else:
            available += 1
            if given is not None and given == item.answer:
                points[item.section] += 1
    total = round(100 * sum(points.values()) / available) if available else 0
    return Score(points["verbal"], points["numeric"], points["motivation"], total)
