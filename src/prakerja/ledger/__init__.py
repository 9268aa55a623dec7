"""Double-entry ledger (TigerBeetle's model in PostgreSQL): accounts with running totals, immutable
transfers, two-phase transfers. The only writer of money rows."""
