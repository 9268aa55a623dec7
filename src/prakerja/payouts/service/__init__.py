"""The payouts domain's use cases. Other domains call only what is re-exported here.

- ``accounts``: payment providers (``register_provider``) and participants' payout accounts (inquiry + OTP);
- ``entitlements``: incentives from the scheme, ``refresh``/``refresh_many``, ``grant_survey_incentive``, the
  participant's timeline;
- ``clawbacks``: repayment demands to recipients found ineligible, repayments, overdue after 60 days."""

from prakerja.payouts.service import accounts, clawbacks, entitlements
from prakerja.payouts.service.entitlements import grant_survey_incentive, refresh

__all__ = ["accounts", "clawbacks", "entitlements", "grant_survey_incentive", "refresh"]
