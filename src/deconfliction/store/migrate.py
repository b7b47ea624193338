"""Schema migrations with Alembic, run from code: the scripts ship inside the package.

``deconfliction init`` calls :func:`upgrade` on the connection of its own transaction, so creating
the schema and storing the agreement commit together (both backends have transactional DDL).
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(connection: sa.Connection | None = None) -> Config:
    """An Alembic configuration pointing at the packaged scripts (no ``alembic.ini`` needed).

    With ``connection``, ``env.py`` migrates on it, inside the transaction already begun there.
    """
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def upgrade(connection: sa.Connection, revision: str = "head") -> None:
    """Bring the schema to ``revision``; nothing happens when it is there already."""
    command.upgrade(alembic_config(connection), revision)
