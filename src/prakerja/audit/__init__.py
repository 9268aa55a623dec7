"""Append-only, hash-chained log of who did what, when and why."""
