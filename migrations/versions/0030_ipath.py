"""jobs: no NOTIFY per inserted job (ADR 0019). procrastinate's trigger notified the workers of every new job; a
transaction that sends a NOTIFY takes a database-wide lock at commit and holds it through its WAL flush, so every
transaction that wrote a job (an identity submission, a purchase, a payout step) committed one at a time. Workers now
look for new jobs every ``job_poll_interval`` seconds (0.2 by default) and after each job they finish. The trigger
that wakes a worker to abort a running job stays.

Revision ID: 0030_ipath
Revises: 0029_mfast
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0030_ipath"
down_revision: str | Sequence[str] | None = "0029_mfast"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS procrastinate_jobs_notify_queue_job_inserted_v1 ON procrastinate_jobs")


def downgrade() -> None:
    # as procrastinate's schema creates it
    op.execute(
        "CREATE TRIGGER procrastinate_jobs_notify_queue_job_inserted_v1 AFTER INSERT ON procrastinate_jobs "
        "FOR EACH ROW WHEN ((new.status = 'todo'::procrastinate_job_status)) "
        "EXECUTE PROCEDURE procrastinate_notify_queue_job_inserted_v1()"
    )
