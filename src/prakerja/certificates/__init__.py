"""Certificates: W3C Verifiable Credentials 2.0 that are Open Badges 3.0 ``OpenBadgeCredential``s, secured with an
``eddsa-rdfc-2022`` Data Integrity proof, issued by the program's ``did:web`` and revocable through a Bitstring
Status List (../shared/contracts/marketplace-api.md section 4; ADR 0010)."""
