"""The escalation clock of a service process: a thread that escalates messages past deadline.

Deadlines live in the store; this thread only remembers the earliest one it last read. Every
:data:`POLL_S` it compares that with the clock, and reads it again (one index lookup) when it has
passed, when this process wrote a message (:meth:`Escalator.poke`), or every :data:`RECHECK_S`
for messages other processes wrote; what is due is escalated under the ledger lock. Several
processes on one database may all run it; each due message is escalated once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime

from deconfliction.agreement import Agreement
from deconfliction.service.background import Periodic
from deconfliction.service.hotline import escalate_due, next_deadline
from deconfliction.service.ports import UnitOfWork

POLL_S = 0.1
"""How often the remembered earliest deadline is compared with the clock."""
RECHECK_S = 0.5
"""How often the earliest deadline is read again without a reason (other processes' messages)."""


class Escalator:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        agreement: Callable[[], Agreement],
        clock: Callable[[], datetime],
        on_change: Callable[[], None],
    ) -> None:
        self._uow, self._agreement, self._clock, self._on_change = uow, agreement, clock, on_change
        self._poked = threading.Event()
        self._due: datetime | None = None  # the earliest deadline, as last read
        self._read_at = float("-inf")
        self._thread = Periodic(self._look, POLL_S, name="escalator")
        self.start, self.stop = self._thread.start, self._thread.stop

    def poke(self) -> None:
        """A message was written here: read the earliest deadline again at the next look."""
        self._poked.set()

    def sweep(self) -> int:
        """Escalate everything due now; returns how many entries that wrote."""
        written = 0
        while entries := escalate_due(self._uow(), self._agreement(), now=self._clock()):
            written += len(entries)
            self._on_change()  # after each commit: under a steady stream of deadlines the
            # loop may not end for a while, and the parties must not wait for it
        return written

    def _look(self) -> None:
        stale = time.monotonic() - self._read_at >= RECHECK_S or self._poked.is_set()
        if stale or (self._due is not None and self._due <= self._clock()):
            self._poked.clear()
            self.sweep()
            self._due, self._read_at = next_deadline(self._uow()), time.monotonic()
