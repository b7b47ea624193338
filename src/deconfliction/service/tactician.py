"""The detection clock of a service process: a thread that runs one tactical cycle a second.

Only the process holding the lease (in the store) detects; the others try again each cycle and
take over within :data:`deconfliction.service.tactical.LEASE_TTL_S` when it stops.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import datetime

from deconfliction.agreement import Agreement
from deconfliction.service.background import Periodic
from deconfliction.service.ports import UnitOfWork
from deconfliction.service.tactical import Conformance, run_cycle

CYCLE_S = 1.0


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
        self._thread = Periodic(self.cycle, CYCLE_S, name="tactician")
        self.start, self.stop = self._thread.start, self._thread.stop

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
