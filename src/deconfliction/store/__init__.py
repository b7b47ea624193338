"""SQL tables, repositories, migrations: SQLite by default, PostgreSQL by URL.

>>> from deconfliction.store import create_engine, SqlUnitOfWork
"""

from deconfliction.store.engine import create_engine
from deconfliction.store.migrate import upgrade
from deconfliction.store.unit_of_work import SqlUnitOfWork

__all__ = ["SqlUnitOfWork", "create_engine", "upgrade"]
