"""The detection clock of a service process: a thread that runs one tactical cycle a second.

Only the process holding the lease (in the store) detects; the others try again each cycle and
take over within :data:`deconfliction.service.tactical.LEASE_TTL_S` when it stops.
"""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable
from datetime import datetime

from deconfliction.agreement import Agreement
from deconfliction.service.background import Periodic
from deconfliction.service.ports import UnitOfWork
from deconfliction.service.tactical import Conformance, run_cycle
from deconfliction.tactical.detect import warm_up

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
        self.stop = self._thread.stop

    def start(self) -> None:
        """Start the cycle, and compile detection at once in a thread of its own (a cycle that
        comes first waits for it): the first run after an install compiles for seconds."""
        threading.Thread(target=warm_up, name="tactical-warm-up", daemon=True).start()
        self._thread.start()

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
