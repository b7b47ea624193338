"""Group commit for writes of any kind: jobs that arrive together share one transaction.

A job is a function of the open unit of work and the transaction's :class:`Recorder`; the
writer thread takes everything queued, locks the ledger once, runs each job in its own savepoint
and commits once, so N concurrent messages cost one durable commit instead of N. A job refused
with a :class:`DeconflictionError` rolls back alone (its savepoint, and its ledger entries are
dropped); the others are kept. A failure of the whole transaction fails every job in it, and
nothing of it is stored.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from deconfliction.errors import DeconflictionError
from deconfliction.service.background import take_batch
from deconfliction.service.ports import UnitOfWork
from deconfliction.service.recorder import OPERATOR, Recorder

T = TypeVar("T")
Job = Callable[[UnitOfWork, Recorder], T]
MAX_BATCH = 128


@dataclass(frozen=True, slots=True)
class _Request:
    job: Job[Any]
    done: Future[Any] = field(default_factory=Future)


class Writer:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        clock: Callable[[], datetime],
        *,
        on_commit: Callable[[], None] = lambda: None,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._uow, self._clock, self._on_commit = uow, clock, on_commit
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="writer", daemon=True)
        self._thread.start()

    def run(self, job: Job[T]) -> T:
        """Run ``job`` in a shared transaction; its result once committed, or its error."""
        request = _Request(job)
        self._queue.put(request)
        return request.done.result()  # type: ignore[no-any-return]

    def _run(self) -> None:
        while True:
            batch = take_batch(self._queue, self._max_batch)
            self._write(batch)

    def _write(self, batch: list[_Request]) -> None:
        outcome: list[tuple[Any, BaseException | None]] = []
        try:
            uow = self._uow()
            with uow:
                log = Recorder(uow.lock_ledger(), at=self._clock(), actor=OPERATOR)
                for r in batch:
                    mark = log.mark()
                    try:
                        with uow.savepoint():
                            outcome.append((r.job(uow, log), None))
                    except DeconflictionError as exc:  # refused: this job alone
                        log.rewind(mark)
                        outcome.append((None, exc))
                uow.ledger.add(log.entries)
                uow.commit()
        except BaseException as exc:  # the transaction failed: every job in it failed
            for r in batch:
                r.done.set_exception(exc)
            return
        self._on_commit()
        for r, (value, error) in zip(batch, outcome, strict=True):
            if error is None:
                r.done.set_result(value)
            else:
                r.done.set_exception(error)


def alone(uow: UnitOfWork, now: datetime, job: Job[T]) -> T:
    """Run ``job`` in a transaction of its own (the command line, tests, anything not batched)."""
    with uow:
        log = Recorder(uow.lock_ledger(), at=now, actor=OPERATOR)
        value = job(uow, log)
        uow.ledger.add(log.entries)
        uow.commit()
    return value
