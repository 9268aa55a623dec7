"""The payouts domain's use cases. Other domains call only what is re-exported here. Takes a session and never
commits, except where a module says otherwise (``runs.execute``: ADR 0015).

- ``accounts``: payment providers (``register_provider``) and participants' payout accounts (inquiry + OTP);
- ``entitlements``: incentives from the scheme, ``refresh``/``refresh_many``, ``grant_survey_incentive``, the
  participant's timeline;
- ``runs``: payout runs (due entitlements or settlements -> batches per partner -> ledger -> partners), the year-end
  return; ``payees``: what differs between paying a participant and paying an organisation (ADR 0016);
- ``settlements``: institutions' and platforms' settlement accounts and their payables per period (ADR 0016);
- ``results``: what partners report (callbacks, pain.002, status answers), each applied once;
- ``receivables``: purchases refunded after the institution's settlement was paid, owed back and deducted from
  its next settlements (ADR 0026);
- ``clawbacks``: repayment demands to recipients found ineligible, repayments, overdue after 60 days;
- ``reconciliation``: partner statements in (camt.053, CSV), differences out, resolved by officers;
- ``partner_portal``: what a payment partner's people see of their own runs, instructions, results and statements."""

from prakerja.payouts.service import (
    accounts,
    clawbacks,
    entitlements,
    partner_portal,
    payees,
    receivables,
    reconciliation,
    results,
    runs,
    settlements,
)
from prakerja.payouts.service.entitlements import grant_survey_incentive, refresh

__all__ = [
    "accounts",
    "clawbacks",
    "entitlements",
    "grant_survey_incentive",
    "partner_portal",
    "payees",
    "receivables",
    "reconciliation",
    "refresh",
    "results",
    "runs",
    "settlements",
]
