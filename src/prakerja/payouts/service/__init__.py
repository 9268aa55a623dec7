"""The payouts domain's use cases, one module per concern (``runs``: payout runs; ``results``: what partners
report). Takes a session and never commits, except where a module says otherwise (``runs.execute``: ADR 0015)."""
