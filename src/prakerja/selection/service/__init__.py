"""Selection use cases: commit, seed and draw, fairness, disqualify/promote, announce, outcomes, proofs. Never
commits. The lottery itself (files, Merkle tree, tickets, verification) is :mod:`prakerja.selection.lottery`.

Everything callers use is re-exported here (``from prakerja.selection import service``, then ``service.x``):
:mod:`.draw` (entries, publication, commitment, draw, fairness), :mod:`.outcomes` (disqualification and the
family-card cap before the decree, telling those not selected), :mod:`.announcement` (announcing, then each
applicant's outcome), :mod:`.applicants` (recipients, proofs, the dashboard).

Other domains call: :func:`new_entry` (waves, at joining), :func:`recipient_for_account`,
:func:`recipient_by_card`, :func:`is_recipient`, :func:`public_waves`.
"""

from prakerja.selection.service.announcement import (
    announce,
    apply_kk_cap,
    changed_results,
    process_outcomes,
    remaining_outcomes,
)
from prakerja.selection.service.applicants import (
    dashboard_lines,
    is_recipient,
    proof_for_account,
    recipient_by_card,
    recipient_for_account,
    recipient_statuses,
    recipients_per_kk,
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
    new_entry,
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
    "PublicWave",
    "announce",
    "apply_kk_cap",
    "changed_results",
    "commit",
    "dashboard_lines",
    "disqualify",
    "fairness",
    "is_recipient",
    "new_entry",
    "process_outcomes",
    "proof_for_account",
    "public_waves",
    "publications_root",
    "published_file",
    "published_files",
    "recipient_by_card",
    "recipient_for_account",
    "recipient_statuses",
    "recipients_per_kk",
    "record_fairness",
    "remaining_outcomes",
    "seed",
    "verify_folder",
]
