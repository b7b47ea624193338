"""Alembic environment: migrate on the connection handed over in ``config.attributes``.

Run from :func:`deconfliction.store.migrate.upgrade`. For writing a new revision by hand, the
``sqlalchemy.url`` main option may name a database instead.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context
from alembic.config import Config

from deconfliction.store.tables import metadata


def run(connection: sa.Connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def main(config: Config) -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = sa.create_engine(config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        run(conn)
    engine.dispose()


# Alembic sets ``context.config`` only while it runs this script; anything else that imports it
# (``pytest --doctest-modules`` walks the package) finds no config and runs nothing.
_config = getattr(context, "config", None)
if _config is not None:
    main(_config)
