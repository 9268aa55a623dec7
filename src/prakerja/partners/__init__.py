"""The partner API (``/partner/v1``): signed requests from ministries, platforms, institutions and payment
partners (contract: ``shared/contracts/partner-api.md``); webhooks out come later."""
