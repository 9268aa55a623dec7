"""audit: the chain's link in a narrow table of its own (ADR 0039, superseding parts of ADR 0012 and 0029).

An entry is written once, in the caller's transaction, and never updated: the deferred constraint trigger at COMMIT
(``prakerja_audit_link``) moves the head on and INSERTs the entry's link (``audit_links``: position, entry id,
previous hash, hash) instead of UPDATEing the wide entry (a second row version of it with four index entries: not
HOT, ``seq`` was indexed). The head row's lock is still the chain lock (ADR 0029), taken and moved in one statement
(``UPDATE ... RETURNING`` with the old hash, PostgreSQL 18). Every link already written moves to ``audit_links``
unchanged (the same positions and hashes; the formula of each row is told by its entry's ``body_digest`` as
before), so old rows verify and the chain goes on from the last one.

``audit_entries`` then refuses every UPDATE and DELETE (there is no link step on it any more), ``audit_links``
refuses UPDATE, DELETE and TRUNCATE.

Revision ID: 0039_maudit
Revises: 0038_subpg
Create Date: 2026-12-06
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0039_maudit"
down_revision: str | Sequence[str] | None = "0038_subpg"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LINK_FUNCTION = r"""
CREATE OR REPLACE FUNCTION prakerja_audit_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    genesis CONSTANT bytea := '\x0000000000000000000000000000000000000000000000000000000000000000';
BEGIN
    IF NEW.body_digest IS NULL OR length(NEW.body_digest) <> 32 THEN
        RAISE EXCEPTION 'audit entry % has no content digest: cannot link it', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    -- the chain lock is the head row's, taken by this UPDATE and held to the commit (a linker committing meanwhile
    -- is waited for, and the row it committed is the one moved on: READ COMMITTED re-reads it)
    WITH head AS (
        UPDATE audit_head SET seq = seq + 1, hash = sha256(hash || int8send(seq + 1) || NEW.body_digest)
        WHERE id = 1
        RETURNING WITH (OLD AS o, NEW AS n) n.seq, o.hash AS prev_hash, n.hash
    )
    INSERT INTO audit_links (seq, entry_id, prev_hash, hash) SELECT seq, NEW.id, prev_hash, hash FROM head;
    IF NOT FOUND THEN
        -- no head yet (the first entry ever): two first entries take turns on 0021's advisory lock
        PERFORM pg_advisory_xact_lock(7301001);
        WITH head AS (
            UPDATE audit_head SET seq = seq + 1, hash = sha256(hash || int8send(seq + 1) || NEW.body_digest)
            WHERE id = 1
            RETURNING WITH (OLD AS o, NEW AS n) n.seq, o.hash AS prev_hash, n.hash
        )
        INSERT INTO audit_links (seq, entry_id, prev_hash, hash) SELECT seq, NEW.id, prev_hash, hash FROM head;
        IF NOT FOUND THEN
            INSERT INTO audit_head (id, seq, hash)
                VALUES (1, 1, sha256(genesis || int8send(1::bigint) || NEW.body_digest));
            INSERT INTO audit_links (seq, entry_id, prev_hash, hash)
                VALUES (1, NEW.id, genesis, sha256(genesis || int8send(1::bigint) || NEW.body_digest));
        END IF;
    END IF;
    RETURN NULL;
END;
$$;
"""

# 0036's, for the downgrade
OLD_LINK_FUNCTION = r"""
CREATE OR REPLACE FUNCTION prakerja_audit_link() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    head_seq bigint;
    head_hash bytea;
    new_seq bigint;
    new_hash bytea;
BEGIN
    IF NEW.hash IS NOT NULL THEN
        RETURN NULL;  -- written already linked (entries from before 0021, restores)
    END IF;
    IF NEW.body_digest IS NULL OR length(NEW.body_digest) <> 32 THEN
        RAISE EXCEPTION 'audit entry % has no content digest: cannot link it', NEW.id
            USING ERRCODE = 'check_violation';
    END IF;
    -- the chain lock: the head row's, held to the commit (a linker committing meanwhile is waited for, and the
    -- row it committed is the one read)
    SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        -- no head yet (the first entry ever): two first entries take turns on 0021's advisory lock
        PERFORM pg_advisory_xact_lock(7301001);
        SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1 FOR UPDATE;
    END IF;
    new_seq := coalesce(head_seq, 0) + 1;
    head_hash := coalesce(head_hash, '\x0000000000000000000000000000000000000000000000000000000000000000'::bytea);
    new_hash := sha256(head_hash || int8send(new_seq) || NEW.body_digest);
    UPDATE audit_entries SET seq = new_seq, prev_hash = head_hash, hash = new_hash
        WHERE id = NEW.id AND hash IS NULL;
    IF NOT FOUND THEN
        RETURN NULL;  -- removed again by its own transaction before the commit
    END IF;
    IF head_seq IS NULL THEN
        INSERT INTO audit_head (id, seq, hash) VALUES (1, new_seq, new_hash)
            ON CONFLICT (id) DO UPDATE SET seq = EXCLUDED.seq, hash = EXCLUDED.hash;
    ELSE
        UPDATE audit_head SET seq = new_seq, hash = new_hash WHERE id = 1;
    END IF;
    RETURN NULL;
END;
$$;
"""


def upgrade() -> None:
    op.execute("LOCK TABLE audit_entries, audit_head IN ACCESS EXCLUSIVE MODE")
    op.create_table(
        "audit_links",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.BigInteger(), nullable=False),
        sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_links"),
        sa.UniqueConstraint("entry_id", name="uq_audit_links_entry_id"),
    )
    # every link written so far, as it is (an unlinked row committed past the trigger stays unlinked: verification
    # reports it, as before)
    op.execute(
        "INSERT INTO audit_links (seq, entry_id, prev_hash, hash) SELECT seq, id, prev_hash, hash FROM audit_entries"
        " WHERE seq IS NOT NULL AND prev_hash IS NOT NULL AND hash IS NOT NULL ORDER BY seq"
    )
    op.execute(
        "CREATE TRIGGER audit_links_append_only BEFORE UPDATE OR DELETE ON audit_links "
        "FOR EACH ROW EXECUTE FUNCTION prakerja_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_links_no_truncate BEFORE TRUNCATE ON audit_links "
        "FOR EACH STATEMENT EXECUTE FUNCTION prakerja_refuse_change()"
    )
    op.execute("DROP TRIGGER audit_entries_link ON audit_entries")
    op.execute("DROP TRIGGER audit_entries_linked_only_once ON audit_entries")
    op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
    op.drop_index("uq_audit_entries_seq", table_name="audit_entries")
    op.drop_column("audit_entries", "seq")
    op.drop_column("audit_entries", "prev_hash")
    op.drop_column("audit_entries", "hash")
    op.execute(
        "CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE ON audit_entries "
        "FOR EACH ROW EXECUTE FUNCTION prakerja_refuse_change()"
    )
    op.execute(LINK_FUNCTION)
    op.execute(
        "CREATE CONSTRAINT TRIGGER audit_entries_link AFTER INSERT ON audit_entries "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION prakerja_audit_link()"
    )


def downgrade() -> None:
    op.execute("LOCK TABLE audit_entries, audit_links, audit_head IN ACCESS EXCLUSIVE MODE")
    op.execute("DROP TRIGGER audit_entries_link ON audit_entries")
    op.execute("DROP TRIGGER audit_entries_append_only ON audit_entries")
    op.add_column("audit_entries", sa.Column("seq", sa.BigInteger(), nullable=True))
    op.add_column("audit_entries", sa.Column("prev_hash", sa.LargeBinary(length=32), nullable=True))
    op.add_column("audit_entries", sa.Column("hash", sa.LargeBinary(length=32), nullable=True))
    # the links back into their entries (no trigger on audit_entries at this point)
    op.execute(
        "UPDATE audit_entries e SET seq = l.seq, prev_hash = l.prev_hash, hash = l.hash FROM audit_links l"
        " WHERE l.entry_id = e.id"
    )
    op.create_index("uq_audit_entries_seq", "audit_entries", ["seq"], unique=True)
    op.execute(
        "CREATE TRIGGER audit_entries_append_only BEFORE DELETE ON audit_entries "
        "FOR EACH ROW WHEN (OLD.hash IS NOT NULL) EXECUTE FUNCTION prakerja_refuse_change()"
    )
    op.execute(
        "CREATE TRIGGER audit_entries_linked_only_once BEFORE UPDATE ON audit_entries "
        "FOR EACH ROW WHEN (OLD.hash IS NOT NULL OR OLD.body_digest IS DISTINCT FROM NEW.body_digest) "
        "EXECUTE FUNCTION prakerja_refuse_change()"
    )
    op.execute(OLD_LINK_FUNCTION)
    op.execute(
        "CREATE CONSTRAINT TRIGGER audit_entries_link AFTER INSERT ON audit_entries "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION prakerja_audit_link()"
    )
    op.execute("DROP TABLE audit_links")
