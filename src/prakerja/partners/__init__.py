"""Partner organisations (ministries, platforms, institutions, payment partners), their signing credentials, and
the signed partner API (``/partner/v1``, contract ``shared/contracts/partner-api.md``); webhooks out come later."""
