"""The auth domain's use cases: the one way in for other domains. Takes a session; never commits."""

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
    "resolve_session",
    "start_session",
]
