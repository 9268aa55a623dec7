"""Payouts: money leaving the program. Participants' payout accounts (bank or e-wallet) linked through the payment
partner's account inquiry and OTP; entitlements (post-training and survey incentives) from the scheme; payout runs
that turn due entitlements and providers' settlements into per-partner batches of instructions (bulk API or ISO
20022 pain.001), applied exactly once from callbacks and status files; reconciliation against partner statements
(camt.053, CSV); clawback of money paid to someone later found ineligible. The ledger holds the money; this domain
holds who is owed what, and where each instruction is."""
