"""Signatures: parties' public keys, used nonces, the service's key and entry countersignatures.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "party_key",
        sa.Column("key_id", sa.Text),
        sa.Column("party_id", sa.Text, nullable=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("registered_at", UTC_TIME, nullable=False),
        sa.Column("revoked_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_party_key"),
        sa.ForeignKeyConstraint(["party_id"], ["party.id"], name="fk_party_key_party_id_party"),
    )
    op.create_index("ix_party_key_party_id", "party_key", ["party_id"])
    op.create_table(
        "used_nonce",
        sa.Column("key_id", sa.Text),
        sa.Column("nonce", sa.Text),
        sa.Column("at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("key_id", "nonce", name="pk_used_nonce"),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "service_key",
        sa.Column("id", sa.Integer, autoincrement=False),
        sa.Column("private_key", sa.LargeBinary, nullable=False),
        sa.Column("public_key", sa.Text, nullable=False),
        sa.Column("created_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_service_key"),
    )
    with op.batch_alter_table("ledger_entry") as batch:
        batch.add_column(sa.Column("countersig", sa.Text, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("ledger_entry") as batch:
        batch.drop_column("countersig")
    op.drop_table("service_key")
    op.drop_table("used_nonce")
    op.drop_index("ix_party_key_party_id", "party_key")
    op.drop_table("party_key")
