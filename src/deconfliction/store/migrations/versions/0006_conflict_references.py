"""On PostgreSQL, a conflict's two volumes are checked per statement, not per row.

PostgreSQL checks a foreign key with a trigger that runs a query for every row: a busy cell's
filing writes a hundred conflict rows, each naming two volumes, and those two hundred queries
took a quarter of the filing's time under the ledger lock (in process, 500 busy-cell filings in
batches of 8: 1.65–1.70 s of wall time with the foreign keys, 1.29–1.31 s with these triggers;
`COPY` of the conflict rows alone was 0.6 s). Here the two foreign keys of ``conflict`` give
way to triggers that refuse the same things: an ``INSERT`` or ``COPY`` naming a volume that is
not stored (one query over all of the statement's rows), an update that would, and deleting a
volume a conflict names. SQLite keeps its foreign keys, whose checks are index lookups (the
same busy-cell filings in process took 1.08–1.26 s with them and 1.06–1.07 s without, within
the noise); so do servers that only speak PostgreSQL's protocol (:func:`postgresql_itself`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from alembic import op

from deconfliction.store.engine import postgresql_itself

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

REFUSED = "a conflict names a volume that is not stored"

UPGRADE = f"""
ALTER TABLE conflict DROP CONSTRAINT fk_conflict_volume_a_volume;
ALTER TABLE conflict DROP CONSTRAINT fk_conflict_volume_b_volume;

CREATE FUNCTION conflict_volumes_stored() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (
    SELECT 1 FROM new_conflicts n
    WHERE NOT EXISTS (SELECT 1 FROM volume v WHERE v.id = n.volume_a)
       OR NOT EXISTS (SELECT 1 FROM volume v WHERE v.id = n.volume_b)
  ) THEN
    RAISE foreign_key_violation USING MESSAGE = '{REFUSED}';
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER conflict_inserted AFTER INSERT ON conflict
  REFERENCING NEW TABLE AS new_conflicts
  FOR EACH STATEMENT EXECUTE FUNCTION conflict_volumes_stored();
CREATE TRIGGER conflict_updated AFTER UPDATE ON conflict
  REFERENCING NEW TABLE AS new_conflicts
  FOR EACH STATEMENT EXECUTE FUNCTION conflict_volumes_stored();

CREATE FUNCTION volume_not_in_conflict() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM conflict c WHERE c.volume_a = OLD.id OR c.volume_b = OLD.id) THEN
    RAISE foreign_key_violation USING MESSAGE = 'a conflict names this volume';
  END IF;
  RETURN OLD;
END $$;
CREATE TRIGGER volume_deleted BEFORE DELETE ON volume
  FOR EACH ROW EXECUTE FUNCTION volume_not_in_conflict();
"""

DOWNGRADE = """
DROP TRIGGER volume_deleted ON volume;
DROP FUNCTION volume_not_in_conflict();
DROP TRIGGER conflict_updated ON conflict;
DROP TRIGGER conflict_inserted ON conflict;
DROP FUNCTION conflict_volumes_stored();
ALTER TABLE conflict ADD CONSTRAINT fk_conflict_volume_a_volume
  FOREIGN KEY (volume_a) REFERENCES volume (id);
ALTER TABLE conflict ADD CONSTRAINT fk_conflict_volume_b_volume
  FOREIGN KEY (volume_b) REFERENCES volume (id);
"""


def upgrade() -> None:
    if postgresql_itself(op.get_bind()):
        op.execute(UPGRADE)


def downgrade() -> None:
    if postgresql_itself(op.get_bind()):
        op.execute(DOWNGRADE)
