"""Every query on the payouts tables, one module per concern: accounts, entitlements, clawbacks, ``runs`` (runs,
batches, instructions, results) and ``reconciliation`` (statements, differences and what the partner portal reads)."""
