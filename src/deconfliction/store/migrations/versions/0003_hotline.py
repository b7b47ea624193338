"""The hotline: the state of messages that escalation needs, and suspended channels.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UTC_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "message",
        sa.Column("id", sa.Integer),
        sa.Column("channel", sa.Text, nullable=True),
        sa.Column("from_party", sa.Text, nullable=True),
        sa.Column("to_party", sa.Text, nullable=False),
        sa.Column("precedence", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("sent_by", sa.Integer, nullable=True),
        sa.Column("sent_at", UTC_TIME, nullable=False),
        sa.Column("level", sa.Integer, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("deadline", UTC_TIME, nullable=True),
        sa.Column("received_at", UTC_TIME, nullable=True),
        sa.Column("acked_at", UTC_TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_message"),
        sa.ForeignKeyConstraint(["to_party"], ["party.id"], name="fk_message_to_party_party"),
    )
    op.create_index("ix_message_deadline", "message", ["deadline"])
    op.create_table(
        "channel_state",
        sa.Column("party_a", sa.Text),
        sa.Column("party_b", sa.Text),
        sa.Column("name", sa.Text),
        sa.Column("suspended_by", sa.Text, nullable=True),
        sa.Column("changed_at", UTC_TIME, nullable=False),
        sa.PrimaryKeyConstraint("party_a", "party_b", "name", name="pk_channel_state"),
    )


def downgrade() -> None:
    op.drop_table("channel_state")
    op.drop_index("ix_message_deadline", "message")
    op.drop_table("message")
