"""The auth domain's use cases: the one way in for other domains. Takes a session; never commits.

Accounts and sign-in sessions live in ``accounts`` and are re-exported here; partner organisations and their
signing credentials live in ``partner_credentials`` and are reached as ``auth.service.partner_credentials``."""

from prakerja.auth.service import partner_credentials
from prakerja.auth.service.accounts import (
    SESSION_LIFETIME,
    CurrentAccount,
    authenticate,
    create_account,
    email_index,
    end_session,
    get_account,
    resolve_session,
    start_session,
)

__all__ = [
    "SESSION_LIFETIME",
    "CurrentAccount",
    "authenticate",
    "create_account",
    "email_index",
    "end_session",
    "get_account",
    "partner_credentials",
    "resolve_session",
    "start_session",
]
