"""The unit of work over SQL: one connection, one transaction, errors translated at the edge.

Errors from SQLAlchemy or the driver never leave this module: a missing table becomes
:class:`NotInitialised` (run ``deconfliction init``), anything else a :class:`StoreError` with the
database's first line of explanation, the original chained as ``__cause__``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Self

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from deconfliction.errors import NotInitialised, StoreError
from deconfliction.service.ports import Head, UnitOfWork
from deconfliction.store import migrate
from deconfliction.store.bulk import (
    DEFERRED,
    defer_writes,
    forget_deferred,
    send_ahead,
    send_deferred,
)
from deconfliction.store.candidates import PreparedCache
from deconfliction.store.engine import READ_ONLY
from deconfliction.store.keys import SqlKeyRepository
from deconfliction.store.ledger import SqlLedgerRepository
from deconfliction.store.messages import SqlMessageRepository
from deconfliction.store.officers import SqlOfficerRepository
from deconfliction.store.repository import (
    STORE_STATE,
    SqlAgreementRepository,
    SqlConflictRepository,
    SqlNoticeRepository,
    StoreState,
)
from deconfliction.store.sql import read_together
from deconfliction.store.tables import ledger_head
from deconfliction.store.tracks import SqlTrackRepository

LOCK_LEDGER = (  # takes the row lock and reads the head in one statement
    ledger_head.update()
    .where(ledger_head.c.id == 1)
    .values(seq=ledger_head.c.seq)
    .returning(ledger_head.c.seq, ledger_head.c.hash)
)
NOT_INITIALISED = "the database has no deconfliction schema yet: run `deconfliction init` first"


class SqlUnitOfWork(UnitOfWork):
    """A unit of work on ``engine``; each ``with`` block is a new connection and transaction."""

    def __init__(
        self,
        engine: sa.Engine,
        *,
        read_only: bool = False,
        cache: PreparedCache | None = None,
    ) -> None:
        self.engine = engine
        self._read_only = read_only
        self.cache = cache if cache is not None else PreparedCache()
        self._conn: sa.Connection | None = None
        self._tx: sa.RootTransaction | None = None

    def __enter__(self) -> Self:
        try:
            conn = self.engine.connect()
            if self._read_only:
                conn.execution_options(**_read_only_options(conn))
            self._tx = conn.begin()
        except SQLAlchemyError as exc:
            raise translate(exc) from exc
        self._conn = conn
        self.agreements = SqlAgreementRepository(conn)
        state = self._state = StoreState(conn)
        self.notices = SqlNoticeRepository(conn, self.cache, state)
        self.conflicts = SqlConflictRepository(conn, state)
        self.officers = SqlOfficerRepository(conn)
        self.ledger = SqlLedgerRepository(conn)
        self.messages = SqlMessageRepository(conn, state)
        self.keys = SqlKeyRepository(conn)
        self.tracks = SqlTrackRepository(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        conn, self._conn, self._tx = self._conn, None, None
        try:
            if conn is not None:
                with contextlib.suppress(SQLAlchemyError):  # an invalidated connection has none
                    forget_deferred(conn)
                conn.close()  # rolls back whatever was not committed
        except SQLAlchemyError as close_exc:
            if exc is None:
                raise translate(close_exc) from close_exc
        if isinstance(exc, SQLAlchemyError):
            raise translate(exc) from exc

    @property
    def connection(self) -> sa.Connection:
        """The connection of the open transaction (for the store's own helpers and tests)."""
        if self._conn is None:
            raise RuntimeError("no transaction: use `with uow:`")
        return self._conn

    def commit(self) -> None:
        if self._tx is None:
            raise RuntimeError("no transaction: use `with uow:`")
        try:
            send_deferred(self.connection, self._tx.commit)
        except SQLAlchemyError as exc:
            raise translate(exc) from exc

    def defer_writes(self) -> None:
        """Hold inserts and the ledger's head back and send them with the commit: on PostgreSQL
        one round trip for all of them while the ledger lock is held, instead of one each."""
        defer_writes(self.connection)

    def send_ahead(self) -> None:
        """Start sending the held-back writes while the caller computes what follows (on
        PostgreSQL; see :func:`deconfliction.store.bulk.send_ahead`)."""
        self.ledger.ready()
        send_ahead(self.connection)

    def rollback(self) -> None:
        if self._tx is not None and self._tx.is_active:
            self._tx.rollback()

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        if DEFERRED in self.connection.info:  # a held-back write cannot be undone by it
            raise RuntimeError("no savepoint after defer_writes()")
        with self.connection.begin_nested():
            yield

    def read_only(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, read_only=True, cache=self.cache)

    def migrate(self) -> None:
        migrate.upgrade(self.connection)

    def lock_ledger(self) -> Head:
        """Update the one row of ``ledger_head``, reading the head back (``RETURNING``): the
        row lock is held until the transaction ends. (On SQLite ``BEGIN IMMEDIATE`` already
        holds the write lock.)

        Under CockroachDB's SERIALIZABLE the same update serializes as well. What a write under
        the lock needs of the store besides (:class:`StoreState`) is read with it: on
        PostgreSQL in the same round trip, once the lock is granted.
        """
        head, state = read_together(self.connection, [LOCK_LEDGER, STORE_STATE])
        if not head:
            raise NotInitialised(NOT_INITIALISED)
        self._state.load(state)
        seq, hash_ = head[0]
        return Head(int(seq), hash_)


def _read_only_options(conn: sa.Connection) -> dict[str, bool]:
    if conn.dialect.name == "postgresql":
        return {READ_ONLY: True, "postgresql_readonly": True}
    return {READ_ONLY: True}


def translate(exc: SQLAlchemyError) -> StoreError:
    """The package's error for a database error."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    reason = text[0] if text else type(exc).__name__
    if "no such table" in reason or getattr(orig, "sqlstate", None) == "42P01":
        return NotInitialised(NOT_INITIALISED)
    if isinstance(exc, sa.exc.IntegrityError):
        return StoreError(f"the database refused the change: {reason}")
    if isinstance(exc, sa.exc.OperationalError):
        return StoreError(f"the database is unavailable: {reason}")
    return StoreError(f"database error: {reason}")
