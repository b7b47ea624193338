"""Waking the live feeds when the ledger grows.

Writers in this process wake every waiting feed at once after they commit; feeds also look again
every :data:`POLL_S` seconds, which is how entries committed by another service process on the same
database arrive (the portable fallback; LISTEN/NOTIFY could shorten it on PostgreSQL).
"""

from __future__ import annotations

import asyncio
import contextlib

POLL_S = 1.0


class Feed:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None

    async def wait(self, timeout_s: float = POLL_S) -> None:
        """Return when woken, or after ``timeout_s``."""
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
        if self._event is not None:
            self._event.set()
            self._event = asyncio.Event()
