"""SQL constructs shared by the store's statements."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.visitors import InternalTraversal

from deconfliction.store.engine import not_while_sending_ahead, postgresql_itself


class OneOf(sa.sql.expression.ColumnElement[bool]):
    """``column IN (…)`` for a list of values bound as ``name``.

    SQLite gets the list as one parameter per value (an expanding ``IN``). PostgreSQL gets it as
    one array, ``column = ANY(:name)``: the statement's text then stays the same whatever the
    list's length, so psycopg has the server prepare it once instead of parsing and planning
    each call anew. ``python benchmarks/id_lists.py`` (a busy cell's store): 300 volume ids took
    1.6–1.8 ms instead of 2.7–2.8 for the candidates' footprints and 0.6–0.7 ms instead of 1.8
    for their sharing; 10 ids cost the same either way.
    """

    inherit_cache = True
    type = sa.Boolean()
    _is_implicitly_boolean = True  # on SQLite, not `(… IN …) = 1`, which no index serves
    _traverse_internals: ClassVar[list[tuple[str, Any]]] = [
        ("listed", InternalTraversal.dp_clauseelement),
        ("array", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: sa.ColumnElement[Any], name: str) -> None:
        self.listed = column.in_(sa.bindparam(name, expanding=True))
        self.array = column == sa.any_(sa.bindparam(name, type_=postgresql.ARRAY(column.type)))


@compiles(OneOf)
def _listed(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.listed, **kw)


@compiles(OneOf, "postgresql")
def _array(element: OneOf, compiler: SQLCompiler, **kw: Any) -> str:
    return compiler.process(element.array, **kw)


def one_of(column: sa.ColumnElement[Any], name: str) -> OneOf:
    """``column`` is one of the list bound as ``name`` (see :class:`OneOf`)."""
    return OneOf(column, name)


def read_together(
    conn: sa.Connection, statements: Sequence[sa.Executable]
) -> list[list[tuple[Any, ...]]]:
    """The rows of each statement (none takes parameters), in order. On PostgreSQL itself the
    driver sends them in one pipeline, one round trip: the server still runs each after the one
    before, with a snapshot of its own (READ COMMITTED), so a read that follows a lock sees all
    that committed before the lock was granted. Elsewhere they run one by one."""
    if not postgresql_itself(conn):
        return [[tuple(row) for row in conn.execute(s)] for s in statements]
    not_while_sending_ahead(conn)  # what the engine checks for every statement it runs itself
    sqls = [_inlined(s, conn.dialect) for s in statements]
    raw: Any = conn.connection.driver_connection
    dbapi_error = conn.dialect.loaded_dbapi.Error
    try:
        with raw.pipeline():
            cursors = [raw.execute(sql) for sql in sqls]
        return [cursor.fetchall() for cursor in cursors]
    except dbapi_error as exc:  # leaves as SQLAlchemy's, like every other statement's error
        raise sa.exc.DBAPIError.instance(
            "; ".join(sqls), None, exc, dbapi_error, hide_parameters=True, dialect=conn.dialect
        ) from exc


@lru_cache(maxsize=32)
def _inlined(statement: sa.Executable, dialect: sa.Dialect) -> str:
    """The statement's SQL for the driver, its literal values written in (it has no others)."""
    return str(statement.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
