"""The portals' pages: ``institution`` (``/portal/lembaga``), ``platform`` (``/portal/platform``) and ``officer``
(the program office's partner page ``/pmo/mitra/{id}``)."""

from fastapi import APIRouter

from prakerja.portals.pages import institution, officer, platform

router = APIRouter(include_in_schema=False)
router.include_router(institution.router)
router.include_router(platform.router)
router.include_router(officer.router)
