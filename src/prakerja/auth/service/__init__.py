"""The auth domain's use cases: the one way in for other domains. Takes a session; never commits.

Accounts and sign-in sessions (``accounts``), sign-up, e-mail verification and password reset (``signup``), and
the rate limits shared by every process (``ratelimits``), re-exported here."""

from prakerja.auth.service.accounts import (
    SESSION_LIFETIME,
    CurrentAccount,
    SessionLookup,
    account_by_email,
    authenticate,
    create_account,
    email_index,
    email_of,
    email_sql,
    end_session,
    get_account,
    resolve_session,
    resolve_session_on_loop,
    session_lookup,
    start_session,
)
from prakerja.auth.service.ratelimits import (
    LIMITS,
    Limit,
    account_key,
    check_account_not_locked,
    check_not_locked,
    count_attempt,
    count_attempt_within,
    count_failure,
)
from prakerja.auth.service.signup import (
    request_password_reset,
    reset_password,
    send_email_verification,
    sign_up,
    token_valid,
    verify_email,
)

__all__ = [
    "LIMITS",
    "SESSION_LIFETIME",
    "CurrentAccount",
    "Limit",
    "SessionLookup",
    "account_by_email",
    "account_key",
    "authenticate",
    "check_account_not_locked",
    "check_not_locked",
    "count_attempt",
    "count_attempt_within",
    "count_failure",
    "create_account",
    "email_index",
    "email_of",
    "email_sql",
    "end_session",
    "get_account",
    "request_password_reset",
    "reset_password",
    "resolve_session",
    "resolve_session_on_loop",
    "send_email_verification",
    "session_lookup",
    "sign_up",
    "start_session",
    "token_valid",
    "verify_email",
]
