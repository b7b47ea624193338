"""Engines, set up so that concurrent writers take turns instead of failing.

SQLite: every connection runs in WAL mode (readers never wait for the writer) with
``synchronous=FULL`` (a committed filing survives a power cut), enforced foreign keys and a 30 s
busy timeout. A write transaction starts with ``BEGIN IMMEDIATE``, taking the write lock before it
reads anything: with a plain ``BEGIN``, two writers could each read a snapshot and then fail to
upgrade it (``SQLITE_BUSY``, which no timeout cures); with ``IMMEDIATE`` the second one waits.
This is SQLAlchemy's documented pysqlite recipe: the driver's own BEGIN handling is switched off
and SQLAlchemy emits ours.

PostgreSQL: READ COMMITTED, stated rather than assumed, because the filing lock (a row of
``ledger_head``, see :mod:`deconfliction.store.tables`) relies on each statement seeing what was
committed before it got the lock.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from deconfliction.errors import StoreError

READ_ONLY = "deconfliction_read_only"
"""Execution option: a transaction that only reads (plain ``BEGIN`` on SQLite, no write lock)."""

SENT_AHEAD = "deconfliction_sent_ahead"
"""Key, in a connection's ``info``, of the writes a thread is sending ahead on it (see
:func:`deconfliction.store.bulk.send_ahead`): until they are in, nothing else may run on it."""

_ITSELF = "deconfliction_postgresql_itself"

SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
    "PRAGMA cache_size=-262144",  # 256 MiB of page cache per connection (the default is 2 MiB)
    "PRAGMA mmap_size=17179869184",  # read pages through a memory map, up to 16 GiB of file
)


def create_engine(url: str | URL) -> Engine:
    """An engine for ``url``: ``sqlite:///file`` or ``postgresql+psycopg://...``.

    ``postgresql://`` is taken to mean psycopg 3 (the driver this package depends on). The
    directory of a SQLite file is created if missing.
    """
    parsed = _parse(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(parsed)
    try:
        engine = sa.create_engine(parsed, isolation_level="READ COMMITTED", pool_pre_ping=True)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(f"no driver for {parsed.drivername!r}: {exc}") from None
    event.listen(engine, "before_execute", not_while_sending_ahead)
    return engine


def _parse(url: str | URL) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"not a database URL: {url!r}") from None
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_engine(url: URL) -> Engine:
    if url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        try:
            Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"cannot create the directory of {url.database}: {exc}") from None
    engine = sa.create_engine(url)
    event.listen(engine, "connect", _sqlite_connect)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


def _sqlite_connect(dbapi_connection: Any, _record: object) -> None:
    """Take BEGIN away from the driver and set the pragmas (outside any transaction)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
    finally:
        cursor.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    """Write transactions take the write lock at once; read-only ones take none."""
    read_only = conn.get_execution_options().get(READ_ONLY, False)
    conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def not_while_sending_ahead(conn: sa.Connection, *_: object) -> None:
    """A statement while writes are being sent ahead would see them (a read must not) and
    share the driver's connection with another thread: a mistake in the caller, refused."""
    if SENT_AHEAD in conn.info:
        raise RuntimeError("no statement after send_ahead() until the commit")


def postgresql_itself(conn: sa.Connection) -> bool:
    """Whether ``conn`` is PostgreSQL itself through psycopg, not another server that speaks its
    wire protocol (CockroachDB names itself in its ``crdb_version`` parameter): what ``COPY`` and
    the statement triggers of migration 0006 need."""
    if conn.dialect.name != "postgresql" or conn.dialect.driver != "psycopg":
        return False
    itself = conn.info.get(_ITSELF)  # once per connection: a thread may be sending on it
    if itself is None:
        raw = conn.connection.driver_connection
        crdb = raw.info.parameter_status("crdb_version")  # type: ignore[union-attr]
        itself = conn.info[_ITSELF] = crdb is None
    return bool(itself)
