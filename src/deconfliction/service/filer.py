"""Group commit for a service process: filings that arrive together share one transaction.

Each request validates its own notices (:func:`prepare_filing`) and queues them; one writer
thread takes everything queued, files it with :func:`file_each` (one lock, one candidate query,
one durable commit) and hands each request its own result, through a future that a thread waits
on (:meth:`Filer.file`) or the event loop awaits (:meth:`Filer.submit`). Under load that turns N
commits into one; alone, a filing waits for nobody. Once it holds the ledger lock it takes what
queued up meanwhile as well: with several processes on one database the lock is what everyone
waits for, and the wait, spent batching, makes each turn under it serve more filings. A failure
of the whole transaction (the database gone, say) is every waiting filing's failure, and nothing
of it is stored.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from deconfliction.agreement import Agreement
from deconfliction.geo.readback import read_backs
from deconfliction.service.background import take_batch, take_queued
from deconfliction.service.ports import UnitOfWork
from deconfliction.service.use_cases import Filed, Filing, file_each

MAX_BATCH = 64


@dataclass(frozen=True, slots=True)
class _Request:
    filing: Filing
    done: Future[Filed] = field(default_factory=Future)


class Filer:
    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        agreement: Callable[[], Agreement],
        clock: Callable[[], datetime],
        *,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._uow, self._agreement, self._clock = uow, agreement, clock
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[_Request] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="filer", daemon=True)
        self._thread.start()

    def file(self, filing: Filing) -> Filed:
        """Store ``filing`` (in a shared transaction) and return what it stored, or raise."""
        return self.submit(filing).result()

    def submit(self, filing: Filing) -> Future[Filed]:
        """Queue ``filing``; the future tells what it stored, or raises. Cancelled before the
        filer takes it up (the client went away), it is never filed; once taken up, it can no
        longer be cancelled, so every filing stored gets its result."""
        request = _Request(filing)
        self._queue.put(request)
        return request.done

    def _run(self) -> None:
        while True:
            batch = _live(take_batch(self._queue, self._max_batch))
            if batch:
                self._file(batch)

    def _file(self, batch: list[_Request]) -> None:
        def more() -> tuple[list[Filing], datetime]:
            # the lock is held now: what queued up while this filer waited for it (another
            # process's filing, say) joins this transaction rather than waiting for the next
            extra = _live(take_queued(self._queue, self._max_batch - len(batch)))
            batch.extend(extra)
            return [r.filing for r in extra], self._clock()

        try:
            results = file_each(
                self._uow(),
                [r.filing for r in batch],
                self._agreement(),
                now=self._clock(),
                more=more,
            )
        except BaseException as exc:  # the transaction failed: every filing in it failed
            for r in batch:
                r.done.set_exception(exc)
            return
        backs = _read_backs([r.filing for r in batch])
        for r, result, back in zip(batch, results, backs, strict=True):
            if isinstance(result, Filed):
                r.done.set_result(replace(result, readback=back))
            else:
                r.done.set_exception(result)


def _live(requests: list[_Request]) -> list[_Request]:
    """The requests not cancelled, each marked as taken up (no longer cancellable)."""
    return [r for r in requests if r.done.set_running_or_notify_cancel()]


def _read_backs(filings: list[Filing]) -> list[list[dict[str, Any]]]:
    """The read-back of every volume of the batch, in one vectorized call (after the commit,
    outside the lock): one at a time in each request thread, it cost the service most of its
    filings per second in GIL hand-offs."""
    volumes = [v for f in filings for n in f.notices for v in n.volumes]
    backs = [b.as_dict() for b in read_backs(volumes)] if volumes else []
    out: list[list[dict[str, Any]]] = []
    for f in filings:
        count = sum(len(n.volumes) for n in f.notices)
        out.append(backs[:count])
        backs = backs[count:]
    return out
