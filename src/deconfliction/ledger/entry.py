"""Ledger entries: the canonical body, its hash, the chain link, the stub and the JSON lines.

An entry's hash is the SHA-256 of the RFC 8785 (JCS) canonical JSON of its body, every field but
``hash``, so any implementation of JCS, in any language, gets the same bytes from the same content
however its keys were ordered. Each body holds the hash of the entry before it (``prev``), which
chains the entries: a changed byte breaks its own hash, a removed or reordered entry breaks a link.

A party outside an entry's audience sees it as a :class:`Stub` (sequence number, ``prev`` and
``hash``): it learns that something happened, not what, and can still check every link.

An export is JSON lines, each line the canonical JSON of one entry or stub. :func:`loads_lines`
accepts nothing else, so that a changed byte cannot pass as another spelling of the same value
(``1E+30`` for ``1e+30``, ``\\u000F`` for ``\\u000f``, a trailing space).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from itertools import pairwise
from typing import Any

import orjson

from deconfliction.errors import LedgerError
from deconfliction.ledger.canonical import NotPlain, Ready, canonical, dumps_ready, ready

GENESIS = "0" * 64
"""The ``prev`` of entry 1: there is no entry before it."""

MAX_INT = 2**53 - 1
"""Integers beyond ±(2**53 - 1) are not exact in JSON's doubles, so RFC 8785 refuses them."""

BODY_KEYS = ("seq", "at", "actor", "kind", "payload", "audience", "prev")
ENTRY_KEYS = frozenset((*BODY_KEYS, "hash"))
STUB_KEYS = frozenset(("seq", "prev", "hash", "stub"))
OPTIONAL_KEYS = frozenset(("countersig",))
_HEX64 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Entry:
    """One event as recorded: who did what when, who may read it, and its place in the chain.

    ``at`` is UTC-aware, ``audience`` the sorted ids of the parties that may read it, ``prev`` the
    hash of the entry before (:data:`GENESIS` for entry 1), ``hash`` the hash of all the rest.
    """

    seq: int
    at: datetime
    actor: str
    kind: str
    payload: dict[str, Any] = field(hash=False)
    audience: tuple[str, ...]
    prev: str
    hash: str
    countersig: str | None = field(default=None, compare=False)
    """The service's Ed25519 signature of ``hash`` (base64); outside the hashed body."""


@dataclass(frozen=True, slots=True)
class Stub:
    """An entry as seen from outside its audience: where it sits in the chain, not what it says
    (with the service's countersignature of its hash, which every party can check)."""

    seq: int
    prev: str
    hash: str
    countersig: str | None = field(default=None, compare=False)


def append(
    prev: Entry | None,
    *,
    at: datetime,
    actor: str,
    kind: str,
    payload: Mapping[str, Any],
    audience: Iterable[str],
) -> Entry:
    """The entry that follows ``prev`` (entry 1 when ``prev`` is None), hashed.

    ``audience`` is sorted and its repeats dropped; ``payload`` is copied, so changing the
    caller's dict later cannot change a hashed entry. A naive ``at``, a NaN or infinite float, an
    integer beyond ±(2**53 - 1) or a value JSON has no type for is a ValueError naming where.

    >>> from datetime import UTC, datetime
    >>> t = datetime(2015, 10, 21, 6, tzinfo=UTC)
    >>> first = append(None, at=t, actor="service", kind="ledger.opened", payload={},
    ...                audience=["b", "a"])
    >>> first.seq, first.audience, first.prev == GENESIS
    (1, ('a', 'b'), True)
    >>> second = append(first, at=t, actor="officer:12", kind="notice.filed",
    ...                 payload={"notice": "C-0142"}, audience=["a"])
    >>> second.seq, second.prev == first.hash
    (2, True)
    """
    seq, link = (prev.seq, prev.hash) if prev is not None else (0, GENESIS)
    return entry_after(seq, link, at=at, actor=actor, kind=kind, payload=payload, audience=audience)


def entry_after(
    seq: int,
    prev: str,
    *,
    at: datetime,
    actor: str,
    kind: str,
    payload: Mapping[str, Any],
    audience: Iterable[str],
) -> Entry:
    """Like :func:`append`, from the sequence number and hash of the last entry (0 and
    :data:`GENESIS` for an empty ledger): what a store that keeps only its head has at hand."""
    for name, text in (("actor", actor), ("kind", kind)):
        if not isinstance(text, str) or not text:
            raise ValueError(f"{name} must be a non-empty string, not {text!r}")
    # The payload is copied, so that no later change to the caller's dict can change what was
    # hashed. A payload of plain JSON types (all the service records) is checked and copied by
    # the walk that readies it for its canonical bytes; anything else goes through the copy
    # that names a bad value, then the general canonicaliser.
    try:
        copy, fast = ready(dict(payload)), True
    except NotPlain:
        copy, fast = _named_json(dict(payload), "payload"), False
    draft = Entry(
        seq=seq + 1,
        at=_utc(at),
        actor=actor,
        kind=kind,
        payload=copy,
        audience=tuple(sorted(set(audience))),
        prev=prev,
        hash="",
    )
    data = dumps_ready(_body(draft)) if fast else canonical(_body(draft))
    return replace(draft, hash=hashlib.sha256(data).hexdigest())


def body_bytes(entry: Entry) -> bytes:
    """The bytes that are hashed: the canonical JSON (RFC 8785) of every field but ``hash``.

    >>> from datetime import UTC, datetime
    >>> e = append(None, at=datetime(2015, 10, 21, 6, tzinfo=UTC), actor="service",
    ...            kind="ledger.opened", payload={"z": 1, "a": 0.5}, audience=["a"])
    >>> body_bytes(e)[:90]
    b'{"actor":"service","at":"2015-10-21T06:00:00.000000Z","audience":["a"],"kind":"ledger.open'
    """
    return canonical(_checked(_body(entry)))


def entry_hash(entry: Entry) -> str:
    """The hex SHA-256 of :func:`body_bytes`: what ``entry.hash`` must be."""
    return hashlib.sha256(body_bytes(entry)).hexdigest()


def view(entry: Entry, party: str | None) -> Entry | Stub:
    """The entry as ``party`` may see it: in full if it is in the audience, else a stub.

    ``party=None`` is the whole ledger (the operator's export): every entry in full.
    """
    if party is None or party in entry.audience:
        return entry
    return Stub(seq=entry.seq, prev=entry.prev, hash=entry.hash, countersig=entry.countersig)


def to_json(item: Entry | Stub) -> dict[str, Any]:
    """One line of an export or a feed: an entry's body and hash, or a stub marked ``stub``."""
    signed = {} if item.countersig is None else {"countersig": item.countersig}
    if isinstance(item, Stub):
        return {"seq": item.seq, "prev": item.prev, "hash": item.hash, "stub": True, **signed}
    return {**_body(item), "hash": item.hash, **signed}


def from_json(doc: Mapping[str, Any]) -> Entry | Stub:
    """Read what :func:`to_json` wrote, checking every key and type.

    Unknown and missing keys, wrong types, an ``at`` not spelled as the hash spells it, an
    unsorted audience or a payload JSON cannot carry are each a :class:`LedgerError` that names the
    entry when its ``seq`` could be read. Hashes are not checked here: that is
    :func:`deconfliction.ledger.verify`'s work.

    >>> from_json({"seq": 3, "prev": "0" * 64, "hash": "f" * 64, "stub": True}).seq
    3
    >>> from_json({"seq": 3, "prev": "0" * 64, "hash": "f" * 64, "stub": True, "kind": "x"})
    Traceback (most recent call last):
    ...
    deconfliction.errors.LedgerError: entry 3: unknown key 'kind'
    """
    seq = doc.get("seq")
    known = seq if isinstance(seq, int) and not isinstance(seq, bool) else None
    try:
        return _stub_from(doc) if "stub" in doc else _entry_from(doc)
    except LedgerError as exc:
        raise LedgerError(exc.reason, seq=known) from None


def dumps_lines(items: Iterable[Entry | Stub]) -> bytes:
    """JSON lines: the canonical JSON of each item, each line ending with a newline."""
    return b"".join(canonical(to_json(item)) + b"\n" for item in items)


def loads_lines(data: bytes) -> list[Entry | Stub]:
    """Read :func:`dumps_lines`' output; a line that is not exactly its canonical form is refused.

    The errors name the line, and the entry when its ``seq`` could be read. The last line may
    lack its newline; an empty line is an error.
    """
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [_line(raw, number) for number, raw in enumerate(lines, 1)]


def _line(raw: bytes, number: int) -> Entry | Stub:
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise LedgerError(f"not JSON, {exc.msg} at byte {exc.pos + 1} (line {number})") from None
    if not isinstance(doc, dict):
        raise LedgerError(f"not a JSON object (line {number})")
    try:
        item = from_json(doc)
    except LedgerError as exc:
        raise LedgerError(f"{exc.reason} (line {number})", seq=exc.seq) from None
    if canonical(to_json(item)) != raw:
        raise LedgerError(f"not in canonical form, RFC 8785 (line {number})", seq=item.seq)
    return item


def _body(entry: Entry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": _rfc3339(entry.at),
        "actor": entry.actor,
        "kind": entry.kind,
        "payload": entry.payload,
        "audience": list(entry.audience),
        "prev": entry.prev,
    }


def _utc(at: datetime) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"at must be timezone-aware (UTC), not naive {at.isoformat()}")
    return at.astimezone(UTC)


def _rfc3339(at: datetime) -> str:
    """``at`` in UTC as RFC 3339 with microseconds and ``Z``, the one spelling hashed.

    >>> from datetime import datetime, timedelta, timezone
    >>> _rfc3339(datetime(2015, 10, 21, 9, 0, tzinfo=timezone(timedelta(hours=3))))
    '2015-10-21T06:00:00.000000Z'
    """
    return _utc(at).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _checked(body: dict[str, Any]) -> dict[str, Any]:
    """The body with its payload checked, so a bad value is named by its path, not by rfc8785."""
    _json_value(body["payload"], "payload")
    return body


def _json_value(value: Any, path: str) -> Any:
    """A copy of ``value`` made of JSON's types only, or a ValueError naming ``path``.

    A busy cell's filing records hundreds of conflicts in one payload, so the copy is made by
    the quick walk of :func:`~deconfliction.ledger.canonical.ready`, which builds no paths; only
    a value it does not take is walked again to be checked and named."""
    try:
        return ready(value)
    except NotPlain:
        return _named_json(value, path)


def _named_json(value: Any, path: str) -> Any:
    """The checking copy that names what it refuses; subclasses of str, int and float (an enum,
    numpy's float64) become the plain type, which every JSON writer takes alike."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, Ready):  # checked like the rest here: this walk names what it refuses
        return _named_json(value.value, path)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, int):
        if abs(value) > MAX_INT:
            raise ValueError(f"{path}: integer {value} is beyond ±(2**53 - 1), not exact in JSON")
        return int(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{path}: {value} is not a finite number, which JSON cannot carry")
        return float(value)
    if isinstance(value, list | tuple):
        return [_named_json(v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {_key(k, path): _named_json(v, f"{path}.{k}") for k, v in value.items()}
    raise ValueError(f"{path}: {type(value).__name__} is not a JSON type")


def _key(key: Any, path: str) -> str:
    if not isinstance(key, str):
        raise ValueError(f"{path}: key {key!r} is not a string")
    return str.__str__(key)


def _keys(doc: Mapping[str, Any], expected: frozenset[str]) -> None:
    unknown = sorted(set(doc) - expected - OPTIONAL_KEYS)
    missing = sorted(expected - set(doc))
    if unknown:
        raise LedgerError(f"unknown key {unknown[0]!r}")
    if missing:
        raise LedgerError(f"missing key {missing[0]!r}")


def _stub_from(doc: Mapping[str, Any]) -> Stub:
    _keys(doc, STUB_KEYS)
    if doc["stub"] is not True:
        raise LedgerError(f"stub must be true, not {doc['stub']!r}")
    return Stub(
        seq=_seq(doc["seq"]),
        prev=_hex(doc, "prev"),
        hash=_hex(doc, "hash"),
        countersig=_countersig(doc),
    )


def _entry_from(doc: Mapping[str, Any]) -> Entry:
    _keys(doc, ENTRY_KEYS)
    payload = doc["payload"]
    if not isinstance(payload, dict):
        raise LedgerError("payload must be a JSON object")
    try:
        payload = _json_value(payload, "payload")
    except ValueError as exc:
        raise LedgerError(str(exc)) from None
    return Entry(
        seq=_seq(doc["seq"]),
        at=_at(doc["at"]),
        actor=_text(doc, "actor"),
        kind=_text(doc, "kind"),
        payload=payload,
        audience=_audience(doc["audience"]),
        prev=_hex(doc, "prev"),
        hash=_hex(doc, "hash"),
        countersig=_countersig(doc),
    )


def _seq(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_INT:
        raise LedgerError(f"seq must be a whole number from 1, not {value!r}")
    return value


def _hex(doc: Mapping[str, Any], key: str) -> str:
    value = doc[key]
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise LedgerError(f"{key} must be 64 lowercase hex digits, not {value!r}")
    return value


def _text(doc: Mapping[str, Any], key: str) -> str:
    value = doc[key]
    if not isinstance(value, str) or not value:
        raise LedgerError(f"{key} must be a non-empty string, not {value!r}")
    return value


def _at(value: Any) -> datetime:
    try:
        at = datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        at = None
    if at is None or at.tzinfo is None or _rfc3339(at) != value:
        raise LedgerError(f"at must be RFC 3339 UTC as 2015-10-21T06:00:00.000000Z, not {value!r}")
    return at.astimezone(UTC)


def _audience(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(p, str) and p for p in value):
        raise LedgerError(f"audience must be a list of party ids, not {value!r}")
    if any(a >= b for a, b in pairwise(value)):
        raise LedgerError(f"audience must be sorted without repeats, not {value!r}")
    return tuple(value)


def _countersig(doc: Mapping[str, Any]) -> str | None:
    value = doc.get("countersig")
    if value is not None and (not isinstance(value, str) or not value):
        raise LedgerError("countersig must be a non-empty string")
    return value
