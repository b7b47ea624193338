"""RFC 8785 canonical JSON, fast: orjson wherever it writes exactly the same bytes.

The ledger hashes every entry's canonical JSON, one per notice and per conflict, so the
canonicaliser is on the filing path: ``rfc8785.dumps`` (pure Python) costs ~80 µs for a conflict
entry, orjson ~1.5 µs. The two agree on sorted ASCII keys, strings, integers, booleans and null,
and on non-integral floats that both write in plain decimal notation; an integral float is
written by RFC 8785 as an integer, so it is turned into one first. Anything else (a float that
either would write with an exponent, a key outside ASCII, whose UTF-16 order may differ) sends
the whole value to ``rfc8785``. A property test holds the two to the same bytes.
"""

from __future__ import annotations

from typing import Any

import orjson
import rfc8785

EXACT_INT = 2**53


class _Slow(Exception):
    """The value has a part orjson would spell differently."""


def canonical(value: Any) -> bytes:
    """The RFC 8785 bytes of a JSON value (already checked to hold JSON's types only).

    >>> canonical({"b": 1.0, "a": [0.5, "x", None, True]})
    b'{"a":[0.5,"x",null,true],"b":1}'
    """
    try:
        ready = _ready(value)
    except _Slow:
        return rfc8785.dumps(value)
    return orjson.dumps(ready, option=orjson.OPT_SORT_KEYS)


def _ready(value: Any) -> Any:
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        if value.is_integer():
            if abs(value) < EXACT_INT:
                return int(value)
            raise _Slow
        if 1e-4 <= abs(value) < 1e16:  # where repr (and orjson) write no exponent
            return value
        raise _Slow  # an exponent, or nan/inf (refused before, never here)
    if kind is dict:
        if not "".join(value).isascii():  # keys are strings: checked before
            raise _Slow
        return {k: _ready(v) for k, v in value.items()}
    if kind is list or kind is tuple:
        return [_ready(v) for v in value]
    raise _Slow  # a subclass (an enum, numpy's float64): rfc8785 decides
