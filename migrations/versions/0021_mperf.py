"""audit: entries are linked into the hash chain at commit (docs/adr/0012). A row is written in the caller's
transaction with an insertion id and the digest of its content; a deferred constraint trigger gives it its chain
position, previous hash and hash right before the transaction commits, under the chain lock, which is therefore
held only for that final step and the commit itself (it was held from the first append to the commit).

Revision ID: 0021_mperf
Revises: 0020_payouts
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_mperf"
down_revision: str | Sequence[str] | None = "0020_payouts"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The link step: same advisory lock number as before (audit/repository.py), so a server running the old code
# during the upgrade still appends in turn with it.
LINK_FUNCTION = r"""
CREATE FUNCTION prakerja_audit_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash bytea;
    new_seq bigint;
    new_hash bytea;
BEGIN
    IF NEW.hash IS NOT NULL THEN
        RETURN NULL;  -- written already linked (entries from before the upgrade, restores)
    END IF;
    IF NEW.body_digest IS NULL OR length(NEW.body_digest) <> 32 THEN
        RAISE EXCEPTION 'audit entry % has no content digest: cannot link it', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    PERFORM pg_advisory_xact_lock(7301001);
    SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1;
    new_seq := coalesce(head_seq, 0) + 1;
    head_hash := coalesce(head_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
    new_hash := sha256(head_hash || int8send(new_seq) || NEW.body_digest);
    UPDATE audit_entries SET seq = new_seq, prev_hash = head_hash, hash = new_hash
        WHERE id = NEW.id AND hash IS NULL;
    IF NOT FOUND THEN
        RETURN NULL;  -- removed again by its own transaction before the commit
    END IF;
    INSERT INTO audit_head (id, seq, hash) VALUES (1, new_seq, new_hash)
        ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash;
    RETURN NULL;
END;
$$;
"""


def upgrade() -> None:
    op.execute("LOCK TABLE audit_entries IN ACCESS EXCLUSIVE MODE")
    op.execute("CREATE SEQUENCE audit_entries_id_seq AS bigint")
    op.add_column("audit_entries", sa.Column("id", sa.BigInteger(), nullable=True))
    op.add_column("audit_entries", sa.Column("body_digest", sa.LargeBinary(length=32), nullable=True))
    op.execute("ALTER TABLE audit_entries DISABLE TRIGGER audit_entries_append_only")
    op.execute("UPDATE audit_entries SET id = seq")
    op.execute("ALTER TABLE audit_entries ENABLE TRIGGER audit_entries_append_only")
    op.execute("SELECT setval('audit_entries_id_seq', coalesce((SELECT max(id) FROM audit_entries), 0) + 1, false)")
    op.execute("ALTER SEQUENCE audit_entries_id_seq OWNED BY audit_entries.id")
    op.alter_column("audit_entries", "id", nullable=False, server_default=sa.text("nextval('audit_entries_id_seq')"))
    op.drop_constraint("pk_audit_entries", "audit_entries", type_="primary")
    op.create_primary_key("pk_audit_entries", "audit_entries", ["id"])
    op.alter_column("audit_entries", "seq", nullable=True)
    op.alter_column("audit_entries", "prev_hash", nullable=True)
    op.alter_column("audit_entries", "hash", nullable=True)
    op.create_index("uq_audit_entries_seq", "audit_entries", ["seq"], unique=True)
    # linked rows never change; an entry may only be linked, once, before its transaction commits
    op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
    op.execute(
        "CREATE TRIGGER audit_entries_append_only BEFORE DELETE ON audit_entries "
        "FOR EACH ROW WHEN (OLD.hash IS NOT NULL) EXECUTE FUNCTION prakerja_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_entries_linked_only_once BEFORE UPDATE ON audit_entries "
        "FOR EACH ROW WHEN (OLD.hash IS NOT NULL OR OLD.body_digest IS DISTINCT FROM NEW.body_digest) "
        "EXECUTE FUNCTION prakerja_refuse_change()"
    )
    op.execute(LINK_FUNCTION)
    op.execute(
        "CREATE CONSTRAINT TRIGGER audit_entries_link AFTER INSERT ON audit_entries "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION prakerja_audit_link()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_entries_link ON audit_entries")
    op.execute("DROP FUNCTION prakerja_audit_link()")
    op.execute("DROP TRIGGER audit_entries_linked_only_once ON audit_entries")
    op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
    op.execute(
        "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
        "FOR EACH ROW EXECUTE FUNCTION prakerja_refuse_change()"
    )
    # entries linked by the new scheme keep their hashes, but the old code cannot verify them: downgrade only a
    # database that has none
    op.drop_index("uq_audit_entries_seq", table_name="audit_entries")
    op.drop_constraint("pk_audit_entries", "audit_entries", type_="primary")
    op.alter_column("audit_entries", "hash", nullable=False)
    op.alter_column("audit_entries", "prev_hash", nullable=False)
    op.alter_column("audit_entries", "seq", nullable=False)
    op.create_primary_key("pk_audit_entries", "audit_entries", ["seq"])
    op.drop_column("audit_entries", "body_digest")
    op.drop_column("audit_entries", "id")
