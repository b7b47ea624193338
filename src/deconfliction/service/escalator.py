"""The escalation clock of a service process: a thread that escalates messages past deadline.

Deadlines live in the store, so this thread keeps no state: every :data:`POLL_S` it asks the store
for the earliest deadline (one index lookup) and escalates what is due under the ledger lock.
Several processes on one database may all run it; each due message is escalated once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

from deconfliction.agreement import Agreement
from deconfliction.errors import DeconflictionError
from deconfliction.service.hotline import escalate_due
from deconfliction.service.ports import UnitOfWork

POLL_S = 0.1
"""How often the earliest deadline is looked at: a deadline fires within this (plus a sweep)."""

log = logging.getLogger("deconfliction.escalator")


class Escalator:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        agreement: Callable[[], Agreement],
        clock: Callable[[], datetime],
        on_change: Callable[[], None],
    ) -> None:
        self._uow, self._agreement, self._clock, self._on_change = uow, agreement, clock, on_change
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="escalator", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def sweep(self) -> int:
        """Escalate everything due now; returns how many entries that wrote."""
        written = 0
        while entries := escalate_due(self._uow(), self._agreement(), now=self._clock()):
            written += len(entries)
            self._on_change()  # after each commit: under a steady stream of deadlines the
            # loop may not end for a while, and the parties must not wait for it
        return written

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            try:
                self.sweep()
            except DeconflictionError as exc:  # the store is away: try again next time
                log.warning("escalation sweep failed: %s", exc)
