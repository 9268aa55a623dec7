"""Every query on the payouts tables, one module per concern: accounts, entitlements, clawbacks, and
``reconciliation`` (statements, differences and what the partner portal reads)."""
