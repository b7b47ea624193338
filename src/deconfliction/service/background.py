"""What the service's background threads share: a periodic step, and taking a batch off a queue.

The escalation clock and the tactical cycle run a step every so often until stopped; a store
that is away is logged and tried again at the next step, never fatal. The group-commit writers
(filings, hotline writes) take whatever is queued, up to a limit, as one batch.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from typing import TypeVar

from deconfliction.errors import DeconflictionError

T = TypeVar("T")


class Periodic:
    """Runs ``step`` every ``every_s`` seconds in a daemon thread, from :meth:`start` to
    :meth:`stop`."""

    def __init__(self, step: Callable[[], object], every_s: float, *, name: str) -> None:
        self._step, self._every_s = step, every_s
        self._log = logging.getLogger(f"deconfliction.{name}")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stop.wait(self._every_s):
            try:
                self._step()
            except DeconflictionError as exc:  # the store is away: try again next time
                self._log.warning("%s failed: %s", self._thread.name, exc)


def take_batch(q: queue.SimpleQueue[T], most: int) -> list[T]:
    """Wait for one item, then take whatever else is queued, up to ``most`` in all."""
    first = q.get()
    return [first, *take_queued(q, most - 1)]


def take_queued(q: queue.SimpleQueue[T], most: int) -> list[T]:
    """Whatever is queued, up to ``most``, without waiting."""
    taken: list[T] = []
    while len(taken) < most:
        try:
            taken.append(q.get_nowait())
        except queue.Empty:
            break
    return taken
