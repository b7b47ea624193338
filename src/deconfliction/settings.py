"""The one settings object: read once, at start-up, from a mapping (the environment by default).

Tests pass a plain dict instead of patching ``os.environ``; nothing is read at import time.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

APP = "deconfliction"


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the data lives.

    ``database_url`` is a SQLAlchemy URL: ``sqlite:///path`` (the default, in ``data_dir``) or
    ``postgresql+psycopg://user@host/db``.
    """

    database_url: str
    data_dir: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Settings:
        """Settings from ``DECONFLICTION_DATABASE_URL`` and ``DECONFLICTION_DATA_DIR``.

        The data directory falls back to ``$XDG_DATA_HOME/deconfliction``, then
        ``~/.local/share/deconfliction``; the database to a SQLite file in it.

        >>> s = Settings.from_env({"HOME": "/home/ops"})
        >>> s.database_url
        'sqlite:////home/ops/.local/share/deconfliction/deconfliction.db'
        >>> Settings.from_env({"DECONFLICTION_DATABASE_URL": "postgresql+psycopg://db/x"}).database_url
        'postgresql+psycopg://db/x'
        """
        data_dir = _data_dir(env)
        url = env.get("DECONFLICTION_DATABASE_URL") or f"sqlite:///{data_dir / f'{APP}.db'}"
        return cls(database_url=url, data_dir=data_dir)


def _data_dir(env: Mapping[str, str]) -> Path:
    if env.get("DECONFLICTION_DATA_DIR"):
        return Path(env["DECONFLICTION_DATA_DIR"]).expanduser()
    if env.get("XDG_DATA_HOME"):
        return Path(env["XDG_DATA_HOME"]) / APP
    home = Path(env["HOME"]) if env.get("HOME") else Path.home()
    return home / ".local" / "share" / APP
