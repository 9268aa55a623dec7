"""The payouts domain's HTML pages, one module per audience (``runs``: officers)."""
