"""Stored responses of requests made with an ``Idempotency-Key`` (generic: any money-moving or partner route)."""
