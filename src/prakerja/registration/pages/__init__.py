"""Registration pages, one module per journey: the profile wizard with phone OTP and KTP photo (``profile``), the
ability test (``ability``), and the program office's applicant pages (``pmo``). Thin: every decision is in the
service. Sign-up, e-mail verification and password reset are ``auth``'s pages."""

from fastapi import APIRouter

from prakerja.registration.pages import pmo, profile

router = APIRouter(include_in_schema=False)
router.include_router(profile.router)
router.include_router(pmo.router)

__all__ = ["router"]
