"""Talking to payment partners over the interface of docs/payouts-partner-interface.md: request signing and
callback verification (``signing``); the HTTP calls live in one module per concern next to it."""
