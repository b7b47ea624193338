"""Group commit: many filings in one transaction, each kept or refused on its own, with the same
result as filing them one after the other."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta

import sqlalchemy as sa
from support import NOW, T0, circle, notice, random_notices, volume

from deconfliction.agreement import Agreement
from deconfliction.errors import DuplicateNotice
from deconfliction.ledger import verify
from deconfliction.service import file_notices, list_conflicts
from deconfliction.service.filer import Filer
from deconfliction.service.use_cases import Filed, Filing, file_each, prepare_filing
from deconfliction.service.views import events_for, messages_for
from deconfliction.store import SqlUnitOfWork
from deconfliction.store.bulk import COPY_FROM
from deconfliction.strategic.detect import find_conflicts, prepare_many


def test_each_filing_of_a_batch_is_kept_or_refused_on_its_own(
    uow: SqlUnitOfWork, agreement: Agreement
) -> None:
    file_notices(uow, [notice("C-0", "coalition", volume(circle(30.0)))], agreement, now=NOW)
    batch = [
        [notice("C-1", "coalition", volume(circle()))],
        [notice("R-1", "russia", volume(circle()))],
        [notice("R-1", "russia", volume(circle(31.0)))],  # taken earlier in the batch
        [notice("C-0", "coalition", volume(circle(32.0)))],  # already on file
        [notice("T-1", "turkey", volume(circle(38.6)))],
    ]
    filings = [prepare_filing(ns, agreement, now=NOW) for ns in batch]
    first, second, third, fourth, fifth = file_each(uow, filings, agreement, now=NOW)
    assert isinstance(first, Filed) and first.conflicts == []
    assert isinstance(second, Filed)
    assert [(c.a.notice, c.b.notice) for c in second.conflicts] == [("C-1", "R-1")]
    assert isinstance(third, DuplicateNotice) and isinstance(fourth, DuplicateNotice)
    assert isinstance(fifth, Filed)
    assert sorted((c.a.notice, c.b.notice) for c in fifth.conflicts) == [
        ("C-1", "T-1"),
        ("R-1", "T-1"),
    ]
    assert len(list_conflicts(uow)) == 3
    assert verify(events_for(uow, None, 0)).ok


def test_a_batch_finds_what_one_by_one_finds(uow: SqlUnitOfWork, agreement: Agreement) -> None:
    notices = random_notices(5, 90)
    expected = find_conflicts(prepare_many(notices), agreement.separation)
    filings = [prepare_filing([n], agreement, now=NOW) for n in notices]
    found = []
    for lo in range(0, len(filings), 16):
        for result in file_each(uow, filings[lo : lo + 16], agreement, now=NOW):
            assert isinstance(result, Filed)
            found += result.conflicts
    assert set(found) == set(expected) and len(found) == len(expected)


def test_a_batch_whose_writes_go_ahead_messages_every_party_it_concerns(
    uow: SqlUnitOfWork, agreement: Agreement
) -> None:
    """A batch with enough conflict rows for a COPY sends them ahead of its messages (on
    PostgreSQL), having read every addressee's roster first: the parties of its conflicts, and
    for a late notice every other party, turkey here, which is in no conflict."""
    stored = [notice(f"C-{k}", "coalition", volume(circle())) for k in range(COPY_FROM)]
    file_notices(uow, stored, agreement, now=NOW)
    soon = T0 - timedelta(minutes=30)  # inside the agreement's notice period (PT1H) for air
    batch = [
        [notice("R-1", "russia", volume(circle()))],  # conflicts with every stored notice
        [notice("R-2", "russia", volume(circle(30.0)))],
    ]
    filings = [prepare_filing(ns, agreement, now=soon) for ns in batch]
    first, second = file_each(uow, filings, agreement, now=soon)
    assert isinstance(first, Filed) and isinstance(second, Filed)
    assert len(first.conflicts) == COPY_FROM and second.conflicts == []
    assert first.late == second.late == [True]

    def told(party: str) -> list[tuple[str, str]]:
        """Each message to ``party``: its kind, and how many conflicts or which late notice."""
        words = [(m["kind"], m["text"].split()) for m in messages_for(uow, party)]
        return sorted((k, w[2] if k == "late_notice" else w[0]) for k, w in words)

    late = [("late_notice", "R-1"), ("late_notice", "R-2")]
    assert told("turkey") == late
    assert told("coalition") == [("conflict", str(COPY_FROM)), *late]
    assert told("russia") == [("conflict", str(COPY_FROM))]
    assert len(list_conflicts(uow)) == COPY_FROM
    assert verify(events_for(uow, None, 0)).ok


def test_filings_that_arrive_while_the_lock_is_awaited_join_the_batch(
    uow: SqlUnitOfWork, agreement: Agreement
) -> None:
    later = NOW + timedelta(minutes=1)
    asked: list[bool] = []

    def more() -> tuple[list[Filing], datetime]:
        with uow.read_only() as peek:  # called under the lock, before anything is written
            asked.append(peek.notices.on_file({("coalition", "C-1")}) == set())
        joining = notice("R-1", "russia", volume(circle()))
        return [prepare_filing([joining], agreement, now=later)], later

    first = prepare_filing([notice("C-1", "coalition", volume(circle()))], agreement, now=NOW)
    results = file_each(uow, [first], agreement, now=NOW, more=more)
    assert asked == [True]
    assert [type(r) for r in results] == [Filed, Filed]
    joined = results[1]
    assert isinstance(joined, Filed)
    assert [(c.a.notice, c.b.notice) for c in joined.conflicts] == [("C-1", "R-1")]
    assert {e.at for r in results if isinstance(r, Filed) for e in r.entries} == {later}
    assert verify(events_for(uow, None, 0)).ok


def test_the_filer_batches_concurrent_filings_and_loses_none(
    engine: sa.Engine, uow: SqlUnitOfWork, agreement: Agreement
) -> None:
    filer = Filer(lambda: SqlUnitOfWork(engine), lambda: agreement, lambda: NOW)
    parties = ("coalition", "russia")
    results: list[Filed] = []
    barrier = threading.Barrier(16)

    def file(k: int) -> None:
        n = notice(f"N-{k}", parties[k % 2], volume(circle()))
        barrier.wait(10)
        results.append(filer.file(prepare_filing([n], agreement, now=NOW)))

    threads = [threading.Thread(target=file, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 16
    assert len(list_conflicts(uow)) == 8 * 8  # every coalition-russia pair, once
    assert sum(len(r.conflicts) for r in results) == 64
    assert verify(events_for(uow, None, 0)).ok


def test_a_filing_cancelled_before_the_filer_takes_it_up_is_never_filed(
    engine: sa.Engine, uow: SqlUnitOfWork, agreement: Agreement
) -> None:
    # the client of an awaited filing that goes away cancels its future: if the filer has not
    # taken it up yet it files nothing of it; once taken up it cannot be cancelled, and the
    # filer goes on either way
    gate = threading.Event()

    def held_uow() -> SqlUnitOfWork:
        gate.wait(10)
        return SqlUnitOfWork(engine)

    filer = Filer(held_uow, lambda: agreement, lambda: NOW)

    def filing(ref: str, party: str) -> Filing:
        return prepare_filing([notice(ref, party, volume(circle()))], agreement, now=NOW)

    taken = filer.submit(filing("C-1", "coalition"))
    deadline = time.monotonic() + 10
    while not taken.running() and time.monotonic() < deadline:
        time.sleep(0.001)
    assert taken.running() and not taken.cancel()
    dropped = filer.submit(filing("R-1", "russia"))
    assert dropped.cancel()
    kept = filer.submit(filing("R-2", "russia"))
    gate.set()
    assert isinstance(taken.result(10), Filed) and isinstance(kept.result(10), Filed)
    assert dropped.cancelled()
    with uow.read_only() as tx:
        assert tx.notices.on_file({("russia", "R-1"), ("russia", "R-2")}) == {("russia", "R-2")}
    assert [(c.a.notice, c.b.notice) for c in list_conflicts(uow)] == [("C-1", "R-2")]
