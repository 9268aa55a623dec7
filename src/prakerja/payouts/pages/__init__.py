"""The payouts pages, one module per journey or audience: the participant's payout accounts and incentives
(``participant``), the program office's payout runs (``runs``), repayment demands (``clawbacks``) and reconciliation
(``reconciliation``: statements and differences), provider settlement (``settlements``), and the payment partner's
portal (``partner``)."""

from fastapi import APIRouter

from prakerja.payouts.pages import clawbacks, participant, partner, reconciliation, runs, settlements

router = APIRouter(include_in_schema=False)
router.include_router(participant.router)
router.include_router(clawbacks.router)
router.include_router(reconciliation.router)  # before runs: /pmo/pembayaran/rekonsiliasi is not a run's id
router.include_router(settlements.router)  # before runs too: /pmo/pembayaran/penyelesaian
router.include_router(runs.router)
router.include_router(partner.router)
