"""Checking a ledger, or a party's view of it, without trusting whoever handed it over.

What the chain proves, and what it cannot yet:

- a full entry whose content changed, by a single byte, no longer matches its own hash;
- an entry removed, repeated or moved breaks the run of sequence numbers, and an entry rewritten
  with a fresh hash breaks the ``prev`` of the entry after it;
- a stub is only linked: its ``prev`` must be the hash before it and the next ``prev`` its hash,
  but what it hides cannot be recomputed, so a stub's own hash is taken on trust. So is the tail:
  entries cut off the end, or a whole chain rebuilt from some entry on, leave a chain that
  verifies. The service's countersignature of the head (issue 4) is what closes both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from deconfliction.ledger.entry import GENESIS, Entry, Stub, entry_hash


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer of :func:`verify`: whether the chain holds and, if not, where it first breaks.

    ``entries`` and ``stubs`` count the items given; ``first_broken`` is the sequence number of
    the first entry that fails (for a line out of place, the number expected on that line) and
    ``reason`` says what broke in words.
    """

    ok: bool
    entries: int
    stubs: int
    first_broken: int | None
    reason: str


def verify(items: Sequence[Entry | Stub], *, partial: bool = False) -> Verdict:
    """Check that ``items`` are one unbroken run of the chain, from entry 1.

    With ``partial=True`` the run may start later, at the first item's sequence number (a feed
    read ``after=N``); the first item's ``prev`` is then taken on trust, to be compared with the
    hash of entry N that the reader already holds.

    >>> from datetime import UTC, datetime
    >>> from deconfliction.ledger.entry import append, view
    >>> t = datetime(2015, 10, 21, 6, tzinfo=UTC)
    >>> first = append(None, at=t, actor="service", kind="ledger.opened", payload={},
    ...                audience=["a"])
    >>> second = append(first, at=t, actor="officer:12", kind="notice.filed",
    ...                 payload={"notice": "C-0142"}, audience=["b"])
    >>> verify([view(first, "b"), second])
    Verdict(ok=True, entries=1, stubs=1, first_broken=None, reason='entries 1 to 2 hold: 1 in full, 1 stub')
    >>> verify([second]).reason
    'line 1: expected entry 1, found 2'
    """  # noqa: E501
    entries = sum(isinstance(item, Entry) for item in items)
    stubs = len(items) - entries
    broken = _first_break(items, partial=partial)
    if broken is not None:
        seq, reason = broken
        return Verdict(ok=False, entries=entries, stubs=stubs, first_broken=seq, reason=reason)
    reason = _held(items, entries, stubs)
    return Verdict(ok=True, entries=entries, stubs=stubs, first_broken=None, reason=reason)


def _first_break(items: Sequence[Entry | Stub], *, partial: bool) -> tuple[int, str] | None:
    start = max(items[0].seq, 1) if partial and items else 1
    link: str | None = GENESIS if start == 1 else None  # None: the first prev is unknown
    for line, expected, item in zip(count(1), count(start), items, strict=False):
        reason = _problem(item, expected, line, link)
        if reason is not None:
            return expected, reason
        link = item.hash
    return None


def _problem(item: Entry | Stub, expected: int, line: int, link: str | None) -> str | None:
    """What is wrong with ``item`` on ``line``, where entry ``expected`` should be."""
    if item.seq != expected:
        return f"line {line}: expected entry {expected}, found {item.seq}"
    if isinstance(item, Entry):
        reason = _content(item)
        if reason is not None:
            return reason
    if link is not None and item.prev != link:
        if expected == 1:
            return "entry 1: prev is not the genesis hash"
        return f"entry {expected}: prev does not match the hash of entry {expected - 1}"
    return None


def _content(entry: Entry) -> str | None:
    try:
        recomputed = entry_hash(entry)
    except ValueError as exc:
        return f"entry {entry.seq}: content cannot be hashed ({exc})"
    if recomputed != entry.hash:
        return f"entry {entry.seq}: hash does not match its content"
    return None


def _held(items: Sequence[Entry | Stub], entries: int, stubs: int) -> str:
    if not items:
        return "no entries to check"
    plural = "stub" if stubs == 1 else "stubs"
    return f"entries {items[0].seq} to {items[-1].seq} hold: {entries} in full, {stubs} {plural}"
