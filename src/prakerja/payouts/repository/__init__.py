"""Every query on the payouts tables, one module per concern (accounts, entitlements, clawbacks ...)."""
