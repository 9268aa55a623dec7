"""The payouts pages, one module per audience: ``reconciliation`` (officers: statements and differences) and
``partner`` (the payment partner's portal)."""

from fastapi import APIRouter

from prakerja.payouts.pages import partner, reconciliation

router = APIRouter(include_in_schema=False)
router.include_router(reconciliation.router)
router.include_router(partner.router)
