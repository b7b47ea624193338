"""The service: officers and their tokens, the ledger, notice versions, conflict acknowledgements.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24

``ledger_head`` replaces ``filing_lock`` as the row every write transaction locks first; notices
gain versions (amending makes a new one), sharing and lateness; conflicts gain one acknowledgement
per side. Batch mode rebuilds ``notice`` on SQLite, which cannot alter a constraint in place.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)
GENESIS = "0" * 64


def upgrade() -> None:
    with op.batch_alter_table("notice") as batch:
        batch.add_column(sa.Column("version", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("supersedes", sa.Integer, nullable=True))
        batch.add_column(sa.Column("shared_with", sa.Text, nullable=False, server_default="null"))
        batch.add_column(sa.Column("late", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("filed_by", sa.Integer, nullable=True))
        batch.drop_constraint("uq_notice_party_id_ref", type_="unique")
        batch.create_unique_constraint(
            "uq_notice_party_id_ref_version", ["party_id", "ref", "version"]
        )
        batch.create_foreign_key("fk_notice_supersedes_notice", "notice", ["supersedes"], ["id"])
    with op.batch_alter_table("conflict") as batch:
        for side in ("a", "b"):
            batch.add_column(sa.Column(f"ack_{side}_at", UTC_TIME, nullable=True))
            batch.add_column(sa.Column(f"ack_{side}_by", sa.Integer, nullable=True))
    op.create_table(
        "officer",
        sa.Column("id", sa.Integer),
        sa.Column("party_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("role", sa.Text, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("token_hash", sa.Text, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.Column("revoked_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_officer"),
        sa.ForeignKeyConstraint(["party_id"], ["party.id"], name="fk_officer_party_id_party"),
        sa.UniqueConstraint("token_hash", name="uq_officer_token_hash"),
    )
    op.create_table(
        "ledger_entry",
        sa.Column("seq", sa.BigInteger, autoincrement=False),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("audience", sa.Text, nullable=False),
        sa.Column("prev", sa.Text, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_ledger_entry"),
    )
    op.create_table(
        "entry_audience",
        sa.Column("party_id", sa.Text),
        sa.Column("seq", sa.BigInteger, autoincrement=False),
        sa.PrimaryKeyConstraint("party_id", "seq", name="pk_entry_audience"),
        sqlite_with_rowid=False,
    )
    head = op.create_table(
        "ledger_head",
        sa.Column("id", sa.Integer, autoincrement=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ledger_head"),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "hash": GENESIS}])
    op.drop_table("filing_lock")


def downgrade() -> None:
    lock = op.create_table(
        "filing_lock",
        sa.Column("id", sa.Integer, autoincrement=False),
        sa.Column("filings", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_filing_lock"),
    )
    op.bulk_insert(lock, [{"id": 1, "filings": 0}])
    for table in ("ledger_head", "entry_audience", "ledger_entry", "officer"):
        op.drop_table(table)
    with op.batch_alter_table("conflict") as batch:
        for column in ("ack_a_at", "ack_a_by", "ack_b_at", "ack_b_by"):
            batch.drop_column(column)
    with op.batch_alter_table("notice") as batch:
        batch.drop_constraint("fk_notice_supersedes_notice", type_="foreignkey")
        batch.drop_constraint("uq_notice_party_id_ref_version", type_="unique")
        batch.create_unique_constraint("uq_notice_party_id_ref", ["party_id", "ref"])
        for column in ("version", "supersedes", "shared_with", "late", "filed_by"):
            batch.drop_column(column)
