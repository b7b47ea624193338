"""The one spelling of an instant in everything the package writes: RFC 3339 in UTC, with ``Z``.

(The ledger hashes its own, stricter spelling, always with microseconds: see
:mod:`deconfliction.ledger.entry`.)
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import lru_cache


@lru_cache(maxsize=4096)  # a busy cell's conflicts share a few instants: spelled once each
def rfc3339(t: datetime) -> str:
    """An aware instant in UTC, as RFC 3339 with ``Z``.

    >>> from datetime import timedelta, timezone
    >>> rfc3339(datetime(2015, 10, 21, 9, 0, tzinfo=timezone(timedelta(hours=3))))
    '2015-10-21T06:00:00Z'
    """
    return t.astimezone(UTC).isoformat().replace("+00:00", "Z")
