"""The payouts pages, one module per journey: the participant's payout accounts and incentives (``participant``),
the program office's repayment demands (``clawbacks``)."""

from fastapi import APIRouter

from prakerja.payouts.pages import clawbacks, participant

router = APIRouter(include_in_schema=False)
router.include_router(participant.router)
router.include_router(clawbacks.router)
