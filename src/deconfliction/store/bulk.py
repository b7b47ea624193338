"""Bulk inserts straight to the database driver.

SQLAlchemy's ``executemany`` processes every parameter of every row in Python (the compiled
statement's parameter lists, then each column type's bind processor): for the small rows of a
busy cell's filing, a hundred conflict rows and their ledger audience, that cost more than the
database's own work (measured with py-spy on ``benchmarks/api.py --scenario busy``: about a
fifth of a filing). Here each column's bind processor still runs, so values are stored exactly
as through SQLAlchemy, but column by column and once per distinct value (a batch's rows share
their times), and the rows go to the driver's ``executemany`` as tuples.

On PostgreSQL (psycopg), a batch of :data:`COPY_FROM` rows or more goes as a binary ``COPY``
instead, typed from the table's columns: psycopg's ``executemany`` adapts every value of every row
in Python, ``COPY`` in C (60,000 conflict rows in batches of 1,000: 1.1 s of client CPU against
0.1 s, and 1.24 s against 0.47 s of wall time). A smaller batch goes as one ``INSERT … SELECT
FROM unnest(…)`` with an array per column, sent in binary: ``executemany`` would send each row as
a statement of its own (a busy cell's batch of filings writes some sixty audience rows and sixteen
messages). Other PostgreSQL-wire servers (CockroachDB says so in its ``crdb_version`` parameter)
and SQLite take the ``INSERT``.

A transaction that has computed everything it writes may hold its writes back
(:func:`defer_writes`) and send them all with its commit (:func:`send_deferred`): on PostgreSQL
that is one pipeline, one round trip for every insert and the commit instead of one each (a
``COPY``, which a pipeline cannot carry, goes between two). A filing holds the ledger lock from
its first read to its commit, and every process waits for that lock, so each round trip saved
under it is saved for all of them.

Once it has read all it needs, such a transaction may also start sending what it has held back so
far (:func:`send_ahead`) while it goes on computing the rest (its ledger entries): on PostgreSQL,
when a ``COPY`` is among them, a thread of the process sends those writes on the same connection,
and the server stores a busy cell's thousand conflict rows (about 10 ms with their three indexes
and their check) while Python builds the entries, instead of after. Nothing may run on the
connection from then on (a statement would see those writes, and share the driver's connection
with that thread): the engines of :func:`create_engine` refuse it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain, islice
from operator import itemgetter
from typing import Any

import sqlalchemy as sa

from deconfliction.store.engine import SENT_AHEAD, postgresql_itself

BATCH = 20_000
"""Rows per ``executemany``: bounds memory on imports of millions of rows."""

COPY_FROM = 100
"""Rows from which an insert on PostgreSQL goes as ``COPY`` (below, the pipelined ``INSERT``
costs less than the round trip of its own that a ``COPY`` takes)."""

DEFERRED = "deconfliction_deferred_writes"
"""Key of the held-back writes in the connection's ``info`` (popped at commit or close)."""

_senders = ThreadPoolExecutor(max_workers=2, thread_name_prefix="send-ahead")
"""The threads that send writes ahead (:func:`send_ahead`), shared by the process."""

Processor = Callable[[Any], Any]

_COPY_TYPES = {
    "INTEGER": "int4",
    "BIGINT": "int8",
    "DOUBLE PRECISION": "float8",
    "TEXT": "text",
    "BOOLEAN": "bool",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "BYTEA": "bytea",
}
"""PostgreSQL's names of the column types the tables use, for a binary ``COPY``."""


@dataclass(frozen=True, slots=True)
class Copy:
    """A binary ``COPY … FROM STDIN`` and the PostgreSQL type of each of its columns."""

    sql: str
    types: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Arrays:
    """An ``INSERT`` whose rows go as one array per column (``unnest``), in one statement."""

    sql: str


Statement = str | Copy | Arrays


def insert_rows(
    conn: sa.Connection,
    table: sa.Table,
    rows: Iterable[Any],
    *,
    columns: Sequence[str] | None = None,
    on_batch: Callable[[int], None] | None = None,
) -> int:
    """Insert ``rows`` into ``table``, telling ``on_batch`` the size of each batch sent; the
    number inserted. Rows are dicts with the same keys (column names), or, with ``columns``,
    tuples in that order (for the many small rows of a hot path: no dict to build and read)."""
    it = iter(rows)
    first = next(it, None)
    if first is None:
        return 0
    names = tuple(first) if columns is None else tuple(columns)
    sql, processors = _statement(table, names, conn.dialect)
    copy = arrays = None
    if postgresql_itself(conn):
        copy = _copy_statement(table, names, conn.dialect)
        arrays = _arrays(table, names, conn.dialect)
    get = None if columns is not None else itemgetter(*names)
    done = 0
    for batch in _batches(chain([first], it)):
        if get is None:
            params = batch
        else:
            params = list(map(get, batch)) if len(names) > 1 else [(get(r),) for r in batch]
        if any(processors):
            values = list(zip(*params, strict=True))
            for k, process in enumerate(processors):
                if process is not None:
                    values[k] = _processed(process, values[k])
            params = list(zip(*values, strict=True))
        if copy is not None and len(params) >= COPY_FROM:
            write(conn, copy, params)
        else:
            write(conn, arrays or sql, params)
        done += len(batch)
        if on_batch is not None:
            on_batch(len(batch))
    return done


def write(conn: sa.Connection, sql: Statement, params: Sequence[Any] | None = None) -> None:
    """Run a statement that returns nothing (SQL with ``params`` a list of rows for
    ``executemany`` or None, or a :class:`Copy` with its rows), or hold it back until the commit
    when :func:`defer_writes` asked for that (rows for the same :class:`Arrays` insert as the
    write held back last join it: one statement for a batch's messages, say)."""
    deferred: list[tuple[Statement, Sequence[Any] | None]] | None = conn.info.get(DEFERRED)
    if deferred is not None:
        if isinstance(sql, Arrays) and deferred and deferred[-1][0] == sql:
            deferred[-1] = (sql, [*(deferred[-1][1] or ()), *(params or ())])
        else:
            deferred.append((sql, params))
    else:
        _send(conn, sql, params)


def _send(conn: sa.Connection, sql: Statement, params: Sequence[Any] | None) -> None:
    if isinstance(sql, Copy):
        _copy(conn, sql, params or ())
    elif isinstance(sql, Arrays):
        conn.exec_driver_sql(sql.sql, _columns(params))
    elif params is None:
        conn.exec_driver_sql(sql)
    else:
        conn.exec_driver_sql(sql, params)  # type: ignore[arg-type]


def _columns(params: Sequence[Any] | None) -> tuple[list[Any], ...]:
    """Rows as one list per column: the arrays of an :class:`Arrays` insert."""
    return tuple(list(c) for c in zip(*params or (), strict=True))


def defer_writes(conn: sa.Connection) -> None:
    """From now until :func:`send_deferred`, :func:`write` (and so :func:`insert_rows`) only
    queues. What the transaction reads meanwhile must not depend on what it queued."""
    conn.info.setdefault(DEFERRED, [])


def send_ahead(conn: sa.Connection) -> None:
    """Start sending the writes held back so far, on PostgreSQL in a thread of its own, and go
    on holding back what follows (see the module). Only when a ``COPY`` is among them: a few
    small inserts cost the server less than the round trip and the thread hop they would add.
    Elsewhere everything waits for the commit."""
    deferred = conn.info.get(DEFERRED)
    if not deferred or SENT_AHEAD in conn.info or not postgresql_itself(conn):
        return
    if not any(isinstance(sql, Copy) for sql, _ in deferred):
        return
    conn.info[DEFERRED] = []
    raw = conn.connection.driver_connection
    conn.info[SENT_AHEAD] = _senders.submit(_send_runs, raw, _runs(deferred), conn.dialect, None)


def send_deferred(conn: sa.Connection, commit: Callable[[], None]) -> None:
    """Send the queued writes in order, then ``commit``: on PostgreSQL in one pipeline (the
    driver sends everything, the commit included, before it waits for an answer), after those
    sent ahead are in. A failure anywhere raises from here with the transaction rolled back and
    the connection clean."""
    ahead: Future[None] | None = conn.info.pop(SENT_AHEAD, None)
    deferred = conn.info.pop(DEFERRED, None)
    if conn.dialect.name != "postgresql":
        for sql, params in deferred or ():
            _send(conn, sql, params)
        commit()
        return
    raw = conn.connection.driver_connection
    try:
        if ahead is not None:
            ahead.result()
        if deferred:
            _send_runs(raw, _runs(deferred), conn.dialect, commit)
        else:
            commit()
    except BaseException:
        with contextlib.suppress(Exception):  # the connection may be gone: the error says so
            raw.rollback()  # type: ignore[union-attr]  # an aborted pipeline leaves it in error
        raise


def _send_runs(
    raw: Any,
    runs: list[list[tuple[Statement, Sequence[Any] | None]]],
    dialect: sa.Dialect,
    commit: Callable[[], None] | None,
) -> None:
    """Send ``runs`` on the driver's connection, each in a pipeline or as a ``COPY``, then
    ``commit`` (in the last pipeline, when it is one). Straight to the driver, so that a thread
    sending ahead never touches the SQLAlchemy connection; its errors leave as SQLAlchemy's,
    like those of every other statement."""
    dbapi_error = dialect.loaded_dbapi.Error
    try:
        for k, run in enumerate(runs, start=1):
            if isinstance(run[0][0], Copy):  # a pipeline cannot carry it: it goes between two
                _copy_raw(raw, run[0][0], run[0][1] or ())
                if k == len(runs) and commit is not None:
                    commit()
                continue
            with raw.pipeline(), raw.cursor() as cursor:
                for sql, params in run:
                    _execute_raw(cursor, sql, params)
                if k == len(runs) and commit is not None:
                    commit()
    except dbapi_error as exc:
        raise sa.exc.DBAPIError.instance(
            "(held-back writes)", None, exc, dbapi_error, hide_parameters=True, dialect=dialect
        ) from exc


def _execute_raw(cursor: Any, sql: Statement, params: Sequence[Any] | None) -> None:
    if isinstance(sql, Arrays):
        cursor.execute(sql.sql, _columns(params))
    elif isinstance(sql, Copy):
        raise TypeError("a COPY goes on its own")
    elif params is None:
        cursor.execute(sql)
    else:
        cursor.executemany(sql, params)


def _copy(conn: sa.Connection, sql: Copy, rows: Sequence[Any]) -> None:
    """Send ``rows`` by ``COPY`` on the driver's connection, in the open transaction; the
    driver's errors leave as SQLAlchemy's, like those of every other statement."""
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        _copy_raw(conn.connection.driver_connection, sql, rows)
    except dbapi_error as exc:
        raise sa.exc.DBAPIError.instance(
            sql.sql, None, exc, dbapi_error, hide_parameters=True, dialect=conn.dialect
        ) from exc


def _copy_raw(raw: Any, sql: Copy, rows: Sequence[Any]) -> None:
    with raw.cursor() as cursor, cursor.copy(sql.sql) as copy:
        copy.set_types(sql.types)
        for row in rows:
            copy.write_row(row)


def _runs(
    deferred: list[tuple[Statement, Sequence[Any] | None]],
) -> list[list[tuple[Statement, Sequence[Any] | None]]]:
    """The queued writes in order, as runs of statements a pipeline can carry and each
    :class:`Copy` on its own."""
    runs: list[list[tuple[Statement, Sequence[Any] | None]]] = []
    for item in deferred:
        if isinstance(item[0], Copy) or not runs or isinstance(runs[-1][0][0], Copy):
            runs.append([item])
        else:
            runs[-1].append(item)
    return runs


def _types(table: sa.Table, columns: Sequence[str], dialect: sa.Dialect) -> list[str] | None:
    """PostgreSQL's name of each column's type, or None when one is not in :data:`_COPY_TYPES`."""
    types = [_COPY_TYPES.get(table.c[c].type.compile(dialect=dialect)) for c in columns]
    return None if None in types else [t for t in types if t is not None]


@lru_cache(maxsize=256)
def _copy_statement(table: sa.Table, columns: Sequence[str], dialect: sa.Dialect) -> Copy | None:
    """The binary ``COPY`` into these columns, or None when one has a type it cannot name."""
    types = _types(table, columns, dialect)
    if types is None:
        return None
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    sql = f"COPY {quote(table.name)} ({names}) FROM STDIN (FORMAT BINARY)"
    return Copy(sql, tuple(types))


@lru_cache(maxsize=256)
def _arrays(table: sa.Table, columns: Sequence[str], dialect: sa.Dialect) -> Arrays | None:
    """The ``INSERT`` of these columns from one binary array each, or None when one has a type
    it cannot name."""
    types = _types(table, columns, dialect)
    if types is None:
        return None
    quote = dialect.identifier_preparer.quote
    names = ", ".join(quote(c) for c in columns)
    arrays = ", ".join(f"%b::{t}[]" for t in types)
    return Arrays(f"INSERT INTO {quote(table.name)} ({names}) SELECT * FROM unnest({arrays})")


def forget_deferred(conn: sa.Connection) -> None:
    """Drop writes still queued (the transaction is being abandoned), once those being sent
    ahead are in or failed: the connection is free again for its rollback."""
    conn.info.pop(DEFERRED, None)
    ahead: Future[None] | None = conn.info.pop(SENT_AHEAD, None)
    if ahead is not None:
        with contextlib.suppress(Exception):  # the rollback that follows undoes them anyway
            ahead.result()


def _batches(rows: Iterator[Any]) -> Iterator[list[Any]]:
    while batch := list(islice(rows, BATCH)):
        yield batch


def _processed(process: Processor, values: Sequence[Any]) -> tuple[Any, ...]:
    """``process`` applied to a column's values, once per distinct value where they hash."""
    try:
        once = {v: process(v) for v in set(values)}
    except TypeError:  # unhashable values
        return tuple(map(process, values))
    return tuple(map(once.__getitem__, values))


@lru_cache(maxsize=256)
def _statement(
    table: sa.Table, columns: Sequence[str], dialect: sa.Dialect
) -> tuple[str, list[Processor | None]]:
    quote = dialect.identifier_preparer.quote
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    names = ", ".join(quote(c) for c in columns)
    marks = ", ".join(mark for _ in columns)
    sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({marks})"
    processors = [table.c[c].type.dialect_impl(dialect).bind_processor(dialect) for c in columns]
    return sql, processors
