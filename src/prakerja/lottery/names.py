"""The file names of a wave's folder (contract section 2)."""

from __future__ import annotations

ELIGIBLE_FILE = "eligible.csv"
COMMITMENT_FILE = "commitment.json"
SIGNATURE_FILE = "commitment.sig"
PUBLIC_KEY_FILE = "public-key.pem"
SEED_FILE = "seed.json"
RESULTS_FILE = "results.csv"
