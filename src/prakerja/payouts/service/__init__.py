"""The payouts domain's use cases, one module each. Takes a session; never commits.

``reconciliation``: partner statements in (camt.053, CSV), differences out, resolved by officers.
``partner_portal``: what a payment partner's people see of their own runs, instructions, results and statements."""

from prakerja.payouts.service import partner_portal, reconciliation

__all__ = ["partner_portal", "reconciliation"]
