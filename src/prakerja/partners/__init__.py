"""Partner organisations (ministries, platforms, institutions, payment partners), their signing credentials, and
the signed partner API (``/partner/v1``, contract ``shared/contracts/partner-api.md``); and the webhooks
sent to partners (contract section 4)."""
