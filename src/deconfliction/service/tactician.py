"""The detection clock of a service process: a thread that runs one tactical cycle a second.

Only the process holding the lease (in the store) detects; the others try again each cycle and
take over within :data:`deconfliction.service.tactical.LEASE_TTL_S` when it stops.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable
from datetime import datetime

from deconfliction.agreement import Agreement
from deconfliction.errors import DeconflictionError
from deconfliction.service.ports import UnitOfWork
from deconfliction.service.tactical import Conformance, run_cycle

CYCLE_S = 1.0
log = logging.getLogger("deconfliction.tactician")


class Tactician:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        agreement: Callable[[], Agreement],
        clock: Callable[[], datetime],
        on_change: Callable[[], None],
    ) -> None:
        self._uow, self._agreement, self._clock, self._on_change = uow, agreement, clock, on_change
        self.holder = f"{os.getpid()}-{secrets.token_hex(4)}"
        self._conformance: Conformance = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tactician", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def cycle(self) -> int:
        """Run one cycle now (if this process holds the lease); returns the entries written."""
        entries = run_cycle(
            self._uow(),
            self._agreement(),
            now=self._clock(),
            holder=self.holder,
            conformance=self._conformance,
        )
        if entries:
            self._on_change()
        return len(entries)

    def _run(self) -> None:
        while not self._stop.wait(CYCLE_S):
            try:
                self.cycle()
            except DeconflictionError as exc:  # the store is away: try again next cycle
                log.warning("tactical cycle failed: %s", exc)
