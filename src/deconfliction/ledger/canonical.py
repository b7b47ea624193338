"""RFC 8785 canonical JSON, fast: orjson wherever it writes exactly the same bytes.

The ledger hashes every entry's canonical JSON, one per notice and per conflict, so the
canonicaliser is on the filing path: ``rfc8785.dumps`` (pure Python) costs ~80 µs for a conflict
entry, orjson ~1.5 µs. The two agree on sorted ASCII keys, strings, integers, booleans and null,
and on non-integral floats that both write in plain decimal notation; an integral float is
written by RFC 8785 as an integer, so it is turned into one first. Anything else (a float that
either would write with an exponent, a key outside ASCII, whose UTF-16 order may differ) sends
the whole value to ``rfc8785``. A property test holds the two to the same bytes.

The fast path takes exact plain types only, so its success also proves a value is JSON: the
ledger checks, copies and hashes an entry's payload in that one walk (:func:`ready`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import rfc8785

EXACT_INT = 2**53


class NotPlain(Exception):
    """The value has a part orjson would spell differently, or that is not plain JSON."""


@dataclass(frozen=True, slots=True)
class Ready:
    """Part of an entry's payload that its maker already made as :func:`ready` would (and will
    not change): the walk takes it as it is, without checking or copying it again. A busy
    cell's filing lists hundreds of conflicts in one entry, and walking their small dicts value
    by value cost more than anything else the filing did."""

    value: Any


def canonical(value: Any) -> bytes:
    """The RFC 8785 bytes of a JSON value (already checked to hold JSON's types only).

    >>> canonical({"b": 1.0, "a": [0.5, "x", None, True]})
    b'{"a":[0.5,"x",null,true],"b":1}'
    """
    try:
        return dumps_ready(ready(value))
    except NotPlain:
        return rfc8785.dumps(value)


def ready(value: Any) -> Any:
    """A deep copy of a value made of plain JSON only, that orjson writes as RFC 8785 does:
    exactly str, bool, None, int within ±(2**53 − 1), finite float (an integral one becomes an
    int), list, and dict with ASCII string keys; a :class:`Ready` part is taken as it is.
    Anything else (a tuple, a subclass, NaN, a key outside ASCII, a float orjson would write
    with an exponent) raises :class:`NotPlain`. Success proves the value is JSON, so one walk
    both checks and copies it."""
    return _ready(value)


def ready_floats(values: Sequence[float]) -> list[int | float]:
    """:func:`ready` of many Python floats at once: the same values (an integral one as an int),
    or :class:`NotPlain` when any of them would be refused. numpy decides which are integral and
    which are in range, so a busy cell's hundreds of conflict measures cost a comparison each
    instead of a call each.

    >>> ready_floats([0.0, 1852.5, 3.0])
    [0, 1852.5, 3]
    """
    x = np.asarray(values, dtype=np.float64)
    magnitude = np.abs(x)
    with np.errstate(invalid="ignore"):  # nan and inf are refused below, not warned about
        integral = x == np.trunc(x)
    fine = np.isfinite(x) & np.where(
        integral, magnitude < EXACT_INT, (magnitude >= 1e-4) & (magnitude < 1e16)
    )
    if not fine.all():
        raise NotPlain
    return [int(v) if whole else v for v, whole in zip(values, integral.tolist(), strict=True)]


def dumps_ready(value: Any) -> bytes:
    """The RFC 8785 bytes of what :func:`ready` made (dicts of it may hold str, int and lists of
    str as well: orjson writes those as RFC 8785 does)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def _ready(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int:
        if -EXACT_INT < value < EXACT_INT:
            return value
        raise NotPlain
    if kind is float:
        if value.is_integer():
            if abs(value) < EXACT_INT:
                return int(value)
            raise NotPlain
        if 1e-4 <= abs(value) < 1e16:  # where repr (and orjson) write no exponent
            return value
        raise NotPlain  # an exponent, or nan/inf
    if kind is dict:
        try:
            ascii_keys = "".join(value).isascii()
        except TypeError:  # a key that is not a string
            raise NotPlain from None
        if not ascii_keys:
            raise NotPlain
        return {k: _ready(v) for k, v in value.items()}
    if kind is list:
        return [_ready(v) for v in value]
    if kind is Ready:
        return value.value
    raise NotPlain  # a tuple, a subclass (an enum, numpy's float64), anything else
