"""Where each role without its own portal yet lands (institutions and platforms have theirs in
``prakerja.portals``) after signing in: what it can do here today (real links),
what comes later, and whom to ask. Simple on purpose: each page is replaced when the role's portal exists."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from prakerja.auth.models import Role
from prakerja.auth.service import CurrentAccount
from prakerja.web.deps import require_role
from prakerja.web.templating import render

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Portal:
    role: Role
    slug: str
    title: str
    """English msgid; the template translates."""
    today: list[tuple[str, str]] = field(default_factory=list)
    """(href, English msgid of what the link lets the person do)."""
    later: list[str] = field(default_factory=list)


PORTALS = [
    Portal(
        Role.payment_partner,
        "mitra",
        "Partner portal",
        today=[
            (
                "/portal/mitra/pembayaran",
                "Your payout batches and instructions, the results you reported, statements and reconciliation",
            ),
            ("/openapi.json", "Read the partner API description (OpenAPI): signed requests under /partner/v1"),
            ("/undian", "See the published lottery results of every wave"),
        ],
        later=[
            "Your organisation's API credentials and webhook deliveries",
        ],
    ),
    Portal(
        Role.auditor,
        "auditor",
        "Auditor portal",
        today=[
            ("/audit", "Read the audit log (people as pseudonyms) and verify its hash chain"),
            ("/undian", "Download every wave's published lottery files and check them"),
        ],
        later=[
            "Money: the ledger's program totals and its integrity check",
            "Reports on selection, training and payouts",
        ],
    ),
    Portal(
        Role.researcher,
        "peneliti",
        "Researcher portal",
        today=[
            ("/undian", "Download every wave's published lottery files (commitment, seed, eligible list, results)"),
        ],
        later=[
            "Pseudonymised evaluation datasets and impact estimates",
            "Open data: aggregate figures per region and wave",
        ],
    ),
]

LANDINGS = {
    **{portal.role: f"/portal/{portal.slug}" for portal in PORTALS},
    Role.institution: "/portal/lembaga",
    Role.platform: "/portal/platform",
}
"""Where each role lands after signing in (auth's sign-in redirects here). Institutions and platforms have their
own portals (``prakerja.portals``)."""


def _route(portal: Portal) -> None:
    def page(request: Request, account: CurrentAccount = Depends(require_role(portal.role))) -> Response:
        return render(request, "portal.html", {"portal": portal})

    router.add_api_route(f"/portal/{portal.slug}", page, methods=["GET"], name=f"portal_{portal.slug}")


for _portal in PORTALS:
    _route(_portal)
