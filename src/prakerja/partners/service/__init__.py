"""The partner domain's use cases. Takes a session; never commits.

``credentials``: organisations and their signing credentials, and who is calling the signed API (contract
section 1). ``webhooks``: the endpoints partners receive events on, and their delivery (contract section 4).
Every public name is re-exported here: callers import ``prakerja.partners.service``."""

from prakerja.partners.service.credentials import (
    KEY_BYTES,
    CredentialView,
    IssuedKey,
    KeyView,
    PartnerCaller,
    PartnerRole,
    PartnerStatus,
    PartnerView,
    SigningCredential,
    SigningKey,
    authenticate,
    create_partner,
    find_partner,
    issue_key,
    new_client_code,
    new_secret,
    overview,
    precheck,
    purge_seen_signatures,
    remember,
    revoke_credential,
    revoke_key,
    set_status,
    signing_credential,
)

__all__ = [
    "KEY_BYTES",
    "CredentialView",
    "IssuedKey",
    "KeyView",
    "PartnerCaller",
    "PartnerRole",
    "PartnerStatus",
    "PartnerView",
    "SigningCredential",
    "SigningKey",
    "authenticate",
    "create_partner",
    "find_partner",
    "issue_key",
    "new_client_code",
    "new_secret",
    "overview",
    "precheck",
    "purge_seen_signatures",
    "remember",
    "revoke_credential",
    "revoke_key",
    "set_status",
    "signing_credential",
]
