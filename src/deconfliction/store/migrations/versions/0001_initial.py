"""The initial schema: agreement, parties, notices, volumes, the candidate index, conflicts.

Revision ID: 0001
Revises:
Create Date: 2026-11-24

Written by hand to match ``deconfliction/store/tables.py`` as it was then; plain SQLAlchemy types
only, so that the migration never changes when the application code does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def _double(name: str) -> sa.Column[float]:
    return sa.Column(name, sa.Double, nullable=False)


def _id() -> sa.Column[int]:
    """Notice and volume ids are allocated by the filing transaction: no sequence."""
    return sa.Column("id", sa.Integer, autoincrement=False)


def upgrade() -> None:
    op.create_table(
        "agreement",
        _id(),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.CheckConstraint("id = 1", name="ck_agreement_single_row"),
        sa.PrimaryKeyConstraint("id", name="pk_agreement"),
    )
    op.create_table(
        "party",
        sa.Column("id", sa.Text),
        sa.Column("name", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_party"),
    )
    op.create_table(
        "notice",
        _id(),
        sa.Column("party_id", sa.Text, nullable=False),
        sa.Column("ref", sa.Text, nullable=False),
        sa.Column("activity", sa.Text, nullable=False),
        sa.Column("remarks", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="active"),
        sa.Column("filed_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notice"),
        sa.ForeignKeyConstraint(["party_id"], ["party.id"], name="fk_notice_party_id_party"),
        sa.UniqueConstraint("party_id", "ref", name="uq_notice_party_id_ref"),
    )
    op.create_table(
        "volume",
        _id(),
        sa.Column("notice_id", sa.Integer, nullable=False),
        sa.Column("idx", sa.Integer, nullable=False),
        sa.Column("outline", sa.Text, nullable=False),
        _double("lower_m"),
        _double("upper_m"),
        sa.Column("start_at", UTC_TIME, nullable=False),
        sa.Column("end_at", UTC_TIME, nullable=False),
        sa.Column("is_circle", sa.Boolean, nullable=False),
        _double("lon"),
        _double("lat"),
        _double("outer_m"),
        _double("inner_m"),
        sa.Column("ring", sa.LargeBinary, nullable=False),
        _double("south"),
        _double("north"),
        _double("west"),
        _double("east"),
        sa.PrimaryKeyConstraint("id", name="pk_volume"),
        sa.ForeignKeyConstraint(["notice_id"], ["notice.id"], name="fk_volume_notice_id_notice"),
        sa.UniqueConstraint("notice_id", "idx", name="uq_volume_notice_id_idx"),
    )
    op.create_table(
        "volume_cell",
        sa.Column("cell", sa.BigInteger, autoincrement=False),
        sa.Column("volume_id", sa.Integer, autoincrement=False),
        sa.Column("party_id", sa.Text, nullable=False),
        _double("start_s"),
        _double("end_s"),
        _double("lower_m"),
        _double("upper_m"),
        _double("south"),
        _double("north"),
        sa.PrimaryKeyConstraint("cell", "volume_id", name="pk_volume_cell"),
        sa.ForeignKeyConstraint(
            ["volume_id"], ["volume.id"], name="fk_volume_cell_volume_id_volume"
        ),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "index_level",
        sa.Column("space", sa.Integer, autoincrement=False),
        sa.Column("time", sa.Integer, autoincrement=False),
        sa.PrimaryKeyConstraint("space", "time", name="pk_index_level"),
    )
    op.create_table(
        "conflict",
        sa.Column("id", sa.Integer, autoincrement=True),
        sa.Column("volume_a", sa.Integer, nullable=False),
        sa.Column("volume_b", sa.Integer, nullable=False),
        sa.Column("start_at", UTC_TIME, nullable=False),
        sa.Column("end_at", UTC_TIME, nullable=False),
        _double("horizontal_m"),
        _double("vertical_m"),
        _double("time_gap_s"),
        sa.Column("found_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_conflict"),
        sa.ForeignKeyConstraint(["volume_a"], ["volume.id"], name="fk_conflict_volume_a_volume"),
        sa.ForeignKeyConstraint(["volume_b"], ["volume.id"], name="fk_conflict_volume_b_volume"),
        sa.UniqueConstraint("volume_a", "volume_b", name="uq_conflict_volume_a_volume_b"),
    )
    op.create_index("ix_conflict_volume_b", "conflict", ["volume_b"])
    lock = op.create_table(
        "filing_lock",
        _id(),
        sa.Column("filings", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_filing_lock"),
    )
    op.bulk_insert(lock, [{"id": 1, "filings": 0}])


def downgrade() -> None:
    for table in (
        "filing_lock",
        "conflict",
        "index_level",
        "volume_cell",
        "volume",
        "notice",
        "party",
        "agreement",
    ):
        op.drop_table(table)
