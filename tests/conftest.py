"""Fixtures shared by every test directory: a fresh database on each backend.

``database_url`` runs a test once on SQLite (a file in ``tmp_path``) and once on PostgreSQL: a new
database with a random name on the server at ``DECONFLICTION_TEST_POSTGRESQL_URL`` (default
``postgresql+psycopg://postgres@127.0.0.1:5432/test``), dropped afterwards. Without a reachable
server the PostgreSQL run is skipped, saying why.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

DEFAULT_POSTGRESQL_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def postgresql_url() -> str:
    return os.environ.get("DECONFLICTION_TEST_POSTGRESQL_URL") or DEFAULT_POSTGRESQL_URL


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database (no schema), on each backend in turn."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'deconfliction.db'}"
    else:
        yield from _postgresql_database(postgresql_url())


def _postgresql_database(server_url: str) -> Iterator[str]:
    name = f"deconfliction_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.SQLAlchemyError as exc:
        admin.dispose()
        reason = str(getattr(exc, "orig", exc)).strip().splitlines()[0]
        pytest.skip(f"PostgreSQL at {server_url} is not usable: {reason}")
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
