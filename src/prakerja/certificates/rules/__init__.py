"""Pure certificate rules: the credential's shape, the Data Integrity proof, the status list. No I/O but reading the
JSON-LD context files shipped in the package."""
