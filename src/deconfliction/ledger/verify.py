"""Checking a ledger, or a party's view of it, without trusting whoever handed it over.

What the chain proves, and what it cannot yet:

- a full entry whose content changed, by a single byte, no longer matches its own hash;
- an entry removed, repeated or moved breaks the run of sequence numbers, and an entry rewritten
  with a fresh hash breaks the ``prev`` of the entry after it;
- a stub is only linked: its ``prev`` must be the hash before it and the next ``prev`` its hash,
  but what it hides cannot be recomputed, so a stub's own hash is taken on trust — unless it is
  countersigned: from the ``service.key`` entry on, every entry and stub carries the service's
  Ed25519 signature of its hash, so a rebuilt chain needs the service's key, not only its data;
- an entry whose payload carries a party's ``signature`` holds the document the party signed and
  the signature, checked against the key the ledger recorded for that party (``key.registered``):
  neither the service nor anyone else can make a party say what it did not sign. For messages and
  answers the signed text, addressee and reply must also be the ones recorded.

Entries cut off the end still leave a chain that verifies: compare the head with the one the
service last countersigned to you.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from deconfliction import signing
from deconfliction.ledger.canonical import canonical
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
    countersigned: int = 0
    signatures: int = 0


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
    Verdict(ok=True, entries=1, stubs=1, first_broken=None, reason='entries 1 to 2 hold: 1 in full, 1 stub', countersigned=0, signatures=0)
    >>> verify([second]).reason
    'line 1: expected entry 1, found 2'
    """  # noqa: E501
    entries = sum(isinstance(item, Entry) for item in items)
    stubs = len(items) - entries
    keys = _Keys()
    broken = _first_break(items, keys, partial=partial)
    counts = {"countersigned": keys.countersigned, "signatures": keys.signatures}
    if broken is not None:
        seq, reason = broken
        return Verdict(False, entries, stubs, seq, reason, **counts)
    return Verdict(True, entries, stubs, None, _held(items, entries, stubs), **counts)


class _Keys:
    """The keys the ledger has recorded so far, and how many signatures checked out."""

    def __init__(self) -> None:
        self.service: str | None = None
        self.parties: dict[str, tuple[str, str]] = {}  # key id -> (party, public key)
        self.countersigned = 0
        self.signatures = 0

    def check(self, item: Entry | Stub) -> str | None:
        """What is wrong with ``item``'s signatures, learning the keys it records."""
        if isinstance(item, Entry) and item.kind == "service.key":
            self.service = item.payload.get("public_key")
        if item.countersig is not None and self.service is not None:
            if not signing.valid(self.service, item.hash.encode(), item.countersig):
                return f"entry {item.seq}: the service's countersignature does not verify"
            self.countersigned += 1
        elif self.service is not None:
            return f"entry {item.seq}: not countersigned by the service"
        if not isinstance(item, Entry):
            return None
        if item.kind == "key.registered":
            p = item.payload
            self.parties[p["key"]] = (p["party"], p["public_key"])
        signature = item.payload.get("signature")
        return None if signature is None else self._party(item, signature)

    def _party(self, entry: Entry, signature: dict[str, object]) -> str | None:
        where = f"entry {entry.seq}"
        key, signed = signature.get("key"), signature.get("signed")
        known = self.parties.get(key) if isinstance(key, str) else None
        if known is None or not isinstance(signed, dict):
            return f"{where}: signed with a key the ledger has not recorded"
        party = entry.payload.get("party", entry.payload.get("from"))
        if known[0] != party:
            return f"{where}: signed with a key of {known[0]!r}, not of {party!r}"
        sig = signature.get("sig")
        if not isinstance(sig, str) or not signing.valid(known[1], canonical(signed), sig):
            return f"{where}: {party}'s signature does not verify"
        body = signed.get("body")
        if not isinstance(body, dict) or any(
            field in body and body[field] != entry.payload.get(field)
            for field in ("text", "to", "reply", "comment", "translation")
        ):
            return f"{where}: the entry does not say what {party} signed"
        self.signatures += 1
        return None


def _first_break(
    items: Sequence[Entry | Stub], keys: _Keys, *, partial: bool
) -> tuple[int, str] | None:
    start = max(items[0].seq, 1) if partial and items else 1
    link: str | None = GENESIS if start == 1 else None  # None: the first prev is unknown
    for line, expected, item in zip(count(1), count(start), items, strict=False):
        reason = _problem(item, expected, line, link) or keys.check(item)
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
