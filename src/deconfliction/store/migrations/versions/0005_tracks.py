"""Live tracks: their latest state, encounters between them, and the detection lease.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "track_state",
        sa.Column("track", sa.Text),
        sa.Column("party", sa.Text, nullable=True),
        sa.Column("reporter", sa.Text, nullable=False),
        sa.Column("heard_s", sa.Double, nullable=False),
        sa.Column("position_s", sa.Double, nullable=True),
        sa.Column("lat", sa.Double, nullable=True),
        sa.Column("lon", sa.Double, nullable=True),
        sa.Column("altitude_s", sa.Double, nullable=True),
        sa.Column("altitude_m", sa.Double, nullable=True),
        sa.Column("speed_mps", sa.Double, nullable=True),
        sa.Column("track_deg", sa.Double, nullable=True),
        sa.Column("vertical_rate_mps", sa.Double, nullable=True),
        sa.Column("on_ground", sa.Boolean, nullable=True),
        sa.PrimaryKeyConstraint("track", name="pk_track_state"),
    )
    op.create_table(
        "encounter",
        sa.Column("id", sa.Integer),
        sa.Column("a", sa.Text, nullable=False),
        sa.Column("b", sa.Text, nullable=False),
        sa.Column("a_party", sa.Text, nullable=False),
        sa.Column("b_party", sa.Text, nullable=False),
        sa.Column("opened_s", sa.Double, nullable=False),
        sa.Column("seen_s", sa.Double, nullable=False),
        sa.Column("recorded_s", sa.Double, nullable=False),
        sa.Column("tcpa_s", sa.Double, nullable=False),
        sa.Column("dcpa_m", sa.Double, nullable=False),
        sa.Column("tin_s", sa.Double, nullable=False),
        sa.Column("los", sa.Boolean, nullable=False),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("closed_s", sa.Double, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_encounter"),
    )
    op.create_index("ix_encounter_closed_s", "encounter", ["closed_s"])
    op.create_table(
        "tactical_lease",
        sa.Column("id", sa.Integer, autoincrement=False),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("until_s", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tactical_lease"),
    )


def downgrade() -> None:
    op.drop_table("tactical_lease")
    op.drop_index("ix_encounter_closed_s", "encounter")
    op.drop_table("encounter")
    op.drop_table("track_state")
