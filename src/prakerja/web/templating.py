"""Jinja2 for every domain's pages: one environment, templates found in each domain's ``templates/``."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader, select_autoescape

from prakerja.kit.clock import JAKARTA
from prakerja.kit.money import format_rupiah
from prakerja.kit.pii import mask
from prakerja.registration.service import region_name
from prakerja.web import i18n

_ROOT = Path(__file__).resolve().parent.parent
_DOMAINS_WITH_TEMPLATES = sorted(p.parent.name for p in _ROOT.glob("*/templates") if p.parent.name != "web")

env = Environment(
    loader=ChoiceLoader(
        [
            FileSystemLoader(str(_ROOT / "web" / "templates")),
            PrefixLoader({name: FileSystemLoader(str(_ROOT / name / "templates")) for name in _DOMAINS_WITH_TEMPLATES}),
        ]
    ),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
env.filters["rupiah"] = format_rupiah
env.filters["mask"] = mask


def _page_path(request: Request) -> str:
    """The address the language switch comes back to. A page that answers a form (a POST) has no address of its
    own to come back to, so the switch goes to the page the form was on (same site only), else home."""
    if request.method in ("GET", "HEAD"):
        return request.url.path
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.path.startswith("/") and (not referer.netloc or referer.netloc == request.url.netloc):
        return referer.path
    return "/"


def _jakarta_time(value: datetime | None) -> str:
    """A moment as officers read it: Jakarta time with its zone, e.g. ``2026-12-06 09:00 WIB``."""
    if value is None:
        return "-"
    return value.astimezone(JAKARTA).strftime("%Y-%m-%d %H:%M") + " WIB"


def _participant_time(value: datetime | None) -> str:
    """A moment as participants and partners read it: Jakarta time with its zone, e.g. ``31-12-2026 09:00 WIB``."""
    if value is None:
        return "-"
    return value.astimezone(JAKARTA).strftime("%d-%m-%Y %H:%M") + " WIB"


def _jakarta_date(value: date | None) -> str:
    """A day as everyone reads it, e.g. ``31-12-2026``: a moment's day in Jakarta (a completion at 02:00 WIB on
    1 January is on 01-01, not on the UTC day before), a calendar date as it is."""
    if value is None:
        return "-"
    if isinstance(value, datetime):
        value = value.astimezone(JAKARTA)
    return value.strftime("%d-%m-%Y")


def _region(code: object) -> str:
    """A region code with its official name, e.g. ``1271 Kota Medan`` (the code alone when unknown)."""
    text = str(code)
    name = region_name(text) if text.isdigit() else None
    return f"{text} {name}" if name else text


env.filters["wib"] = _jakarta_time
env.filters["waktu"] = _participant_time
env.filters["tanggal"] = _jakarta_date
env.filters["region"] = _region


def render(
    request: Request, template: str, context: dict[str, Any] | None = None, status_code: int = 200
) -> HTMLResponse:
    state = request.state
    ctx = {
        "request": request,
        "lang": i18n.current_language.get(),
        "csrf_token": getattr(state, "csrf_token", ""),
        "user": getattr(state, "user", None),
        "path": _page_path(request),
    }
    ctx.update(context or {})
    html = env.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code)
