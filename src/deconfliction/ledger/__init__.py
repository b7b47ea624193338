"""The ledger's pure core: entries, their hash chain, audience stubs, JSON lines and verification.

No database and no clock: the store keeps the entries and the caller passes the time in.
"""

from deconfliction.ledger.entry import (
    GENESIS,
    Entry,
    Stub,
    append,
    body_bytes,
    dumps_lines,
    entry_after,
    entry_hash,
    from_json,
    loads_lines,
    to_json,
    view,
)
from deconfliction.ledger.verify import Verdict, verify

__all__ = [
    "GENESIS",
    "Entry",
    "Stub",
    "Verdict",
    "append",
    "body_bytes",
    "dumps_lines",
    "entry_after",
    "entry_hash",
    "from_json",
    "loads_lines",
    "to_json",
    "verify",
    "view",
]
