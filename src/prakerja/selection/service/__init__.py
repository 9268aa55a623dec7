"""Selection use cases: commit, seed and draw, fairness, disqualify/promote, announce, outcomes, proofs. Never
commits. The lottery itself (files, Merkle tree, tickets, verification) is the pure :mod:`prakerja.lottery`; who
became a recipient is the register :mod:`prakerja.recipients` (selection writes to it through its service).

Everything callers use is re-exported here (``from prakerja.selection import service``, then ``service.x``):
:mod:`.draw` (publication, commitment, draw, fairness), :mod:`.outcomes` (disqualification and the
family-card cap before the decree, telling those not selected), :mod:`.announcement` (announcing, then each
applicant's outcome, recipients registered), :mod:`.applicants` (proofs, the dashboard).

Selection sits above waves and the recipient register in the wave lifecycle: no domain below calls it.
"""

from prakerja.selection.service.announcement import (
    AnnouncementPlan,
    announce,
    announcement_plan,
    apply_kk_cap,
    changed_results,
    process_outcomes,
    remaining_outcomes,
)
from prakerja.selection.service.applicants import (
    dashboard_lines,
    proof_for_account,
    verify_folder,
)
from prakerja.selection.service.draw import (
    COMMITMENT_FILES,
    DRAW_FILES,
    FAIRNESS_TASK,
    RESULT_FILES,
    PublicWave,
    commit,
    fairness,
    public_waves,
    publications_root,
    published_file,
    published_files,
    record_fairness,
    seed,
)
from prakerja.selection.service.outcomes import disqualify

__all__ = [
    "COMMITMENT_FILES",
    "DRAW_FILES",
    "FAIRNESS_TASK",
    "RESULT_FILES",
    "AnnouncementPlan",
    "PublicWave",
    "announce",
    "announcement_plan",
    "apply_kk_cap",
    "changed_results",
    "commit",
    "dashboard_lines",
    "disqualify",
    "fairness",
    "process_outcomes",
    "proof_for_account",
    "public_waves",
    "publications_root",
    "published_file",
    "published_files",
    "record_fairness",
    "remaining_outcomes",
    "seed",
    "verify_folder",
]
