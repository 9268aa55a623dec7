"""Every time a page shows carries its zone (the house convention: times with WIB/WITA/WIT), and every day is the
day in Jakarta. A template that formats a moment itself (``strftime``) shows the stored UTC moment with no zone, or
the UTC day (a completion at 02:00 WIB on 1 January shown on 31 December), unless its author remembered both; the
filters ``waktu`` (participants' ``31-12-2026 09:00 WIB``), ``wib`` (officers' ``2026-12-31 09:00 WIB``) and
``tanggal`` (``31-12-2026``) convert to Jakarta time and say so, so templates format nothing themselves."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from pathlib import Path

from prakerja.web.templating import env

SRC = Path(__file__).resolve().parents[2] / "src" / "prakerja"
FORMATS_ITSELF = re.compile(r"strftime\(")


def test_no_template_formats_a_moment_itself() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{number}"
        for path in sorted(SRC.glob("*/templates/**/*.html"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if FORMATS_ITSELF.search(line)
    ]
    assert offenders == []


def test_the_filters_show_jakarta_time_with_its_zone() -> None:
    moment = datetime(2026, 12, 31, 17, 30, tzinfo=UTC)  # 1 January 2027, 00:30 in Jakarta
    assert env.filters["waktu"](moment) == "01-01-2027 00:30 WIB"
    assert env.filters["wib"](moment) == "2027-01-01 00:30 WIB"
    assert env.filters["tanggal"](moment) == "01-01-2027"
    assert env.filters["tanggal"](date(2026, 12, 31)) == "31-12-2026"  # a calendar date stays as it is
    assert env.filters["waktu"](None) == env.filters["wib"](None) == env.filters["tanggal"](None) == "-"
