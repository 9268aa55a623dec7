"""The publicly verifiable lottery, ``prakerja-lottery-v1`` (contract: ``shared/contracts/lottery.md``).

Pure functions over plain data and a folder of published files, one module per section of the contract:
:mod:`.entries` (section 1, ``eligible.csv``'s rows), :mod:`.names` and :mod:`.files` (section 2),
:mod:`.commitment` (section 3), :mod:`.merkle` (section 4), :mod:`.drawing` (section 5) and :mod:`.verify`
(section 6, with the applicants' proof files). No database, no settings, no clock and no timers: callers pass
keys, times and seeds in (import-linter and ``tests/lottery/test_purity.py`` hold it to that).
"""

from prakerja.lottery.commitment import ALGORITHM, commitment_json, format_timestamp, public_key_pem, signature_file
from prakerja.lottery.drawing import (
    RESULTS_HEADER,
    SELECTED,
    WAITLIST,
    Drawn,
    ResultRow,
    TierDraw,
    draw,
    probability,
    results_csv,
    ticket,
)
from prakerja.lottery.entries import (
    ELIGIBLE_HEADER,
    MAX_JSON_INT,
    Entry,
    eligible_csv,
    eligible_lines,
    entry_hash,
    is_stratum,
    new_entry_secret,
    sorted_entries,
)
from prakerja.lottery.errors import LotteryError
from prakerja.lottery.files import Commitment, seed_json, write_commitment_files, write_draw_files
from prakerja.lottery.merkle import MerkleTree, audit_path, merkle_root, root_from_path
from prakerja.lottery.names import (
    COMMITMENT_FILE,
    ELIGIBLE_FILE,
    PUBLIC_KEY_FILE,
    RESULTS_FILE,
    SEED_FILE,
    SIGNATURE_FILE,
)
from prakerja.lottery.verify import ProofReport, VerifyResult, proof_for, proof_json, verify_folder

__all__ = [
    "ALGORITHM",
    "COMMITMENT_FILE",
    "ELIGIBLE_FILE",
    "ELIGIBLE_HEADER",
    "MAX_JSON_INT",
    "PUBLIC_KEY_FILE",
    "RESULTS_FILE",
    "RESULTS_HEADER",
    "SEED_FILE",
    "SELECTED",
    "SIGNATURE_FILE",
    "WAITLIST",
    "Commitment",
    "Drawn",
    "Entry",
    "LotteryError",
    "MerkleTree",
    "ProofReport",
    "ResultRow",
    "TierDraw",
    "VerifyResult",
    "audit_path",
    "commitment_json",
    "draw",
    "eligible_csv",
    "eligible_lines",
    "entry_hash",
    "format_timestamp",
    "is_stratum",
    "merkle_root",
    "new_entry_secret",
    "probability",
    "proof_for",
    "proof_json",
    "public_key_pem",
    "results_csv",
    "root_from_path",
    "seed_json",
    "signature_file",
    "sorted_entries",
    "ticket",
    "verify_folder",
    "write_commitment_files",
    "write_draw_files",
]
