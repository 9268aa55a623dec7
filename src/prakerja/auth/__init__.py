"""Accounts, roles, sessions."""
