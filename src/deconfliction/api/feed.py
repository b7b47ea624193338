"""Waking the live feeds when the ledger grows.

Writers in this process wake every waiting feed at once after they commit. Entries committed by
another service process on the same database arrive through PostgreSQL's ``LISTEN``/``NOTIFY``
(every ledger write notifies :data:`CHANNEL` in its transaction, so the notice is sent at commit)
where the store is PostgreSQL; feeds also look again every :data:`POLL_S` seconds, the portable
fallback (SQLite, or a listening connection that is down).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

from sqlalchemy.engine import make_url

POLL_S = 1.0
CHANNEL = "deconfliction_ledger"
log = logging.getLogger("deconfliction.feed")


class Feed:
    def __init__(self, database_url: str | None = None) -> None:
        self.generation = 0
        """How many times the feeds were woken: a reader notes it before it reads the ledger and
        passes it to :meth:`wait`, so a wake that came while it was busy is not lost."""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._stop = threading.Event()
        self._listener: threading.Thread | None = None
        url = make_url(database_url) if database_url else None
        if url is not None and url.get_backend_name() == "postgresql":
            conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
            self._listener = threading.Thread(
                target=self._listen, args=(conninfo,), name="feed-listen", daemon=True
            )

    def start(self) -> None:
        """Start listening for other processes' commits (PostgreSQL only)."""
        if self._listener is not None and not self._listener.is_alive():
            self._listener.start()

    def stop(self) -> None:
        self._stop.set()
        if self._listener is not None and self._listener.is_alive():
            self._listener.join(timeout=5)

    async def wait(self, since: int, timeout_s: float = POLL_S) -> None:
        """Return when woken after generation ``since`` (at once if that already happened), or
        after ``timeout_s``."""
        if self.generation != since:
            return
        if self._event is None:
            self._loop = asyncio.get_running_loop()
            self._event = asyncio.Event()
        event = self._event
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout_s)

    def wake(self) -> None:
        """Wake every waiting feed (callable from any thread)."""
        if self._loop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._set)

    def _set(self) -> None:
        self.generation += 1
        if self._event is not None:
            self._event.set()
            self._event = asyncio.Event()

    def _listen(self, conninfo: str) -> None:
        """Wake the feeds on every notification; reconnect after a failure (polling covers the
        gap)."""
        import psycopg  # only with PostgreSQL, whose driver is then installed

        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as conn:
                    conn.execute(f"LISTEN {CHANNEL}")
                    while not self._stop.is_set():
                        if any(True for _ in conn.notifies(timeout=0.5)):
                            self.wake()
            except psycopg.Error as exc:
                log.warning("feed listener: %s; polling until it is back", exc)
                self._stop.wait(POLL_S)
