"""The ledger over SQL: entries as rows, one audience row per reader, and the head.

Entries are written only after :meth:`SqlUnitOfWork.lock_ledger` locked the head, in the same
transaction as the change they record. A party's view is one range scan of the entries joined
with its ``entry_audience`` rows: entries it may read in full, the others as stubs.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any
from weakref import WeakKeyDictionary

import orjson
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deconfliction import signing
from deconfliction.ledger import Entry, Stub
from deconfliction.service.ports import LedgerRepository
from deconfliction.store.bulk import insert_rows, write
from deconfliction.store.tables import entry_audience, ledger_entry, ledger_head, service_key

_e = ledger_entry.c
NOTIFY_CHANNEL = "deconfliction_ledger"  # api.feed.CHANNEL listens on it
ENTRIES = sa.select(
    _e.seq, _e.at, _e.actor, _e.kind, _e.payload, _e.audience, _e.prev, _e.hash, _e.countersig
)

# Built once, not per transaction: building a statement with its values cost a filing more than
# running it (SQLAlchemy derives a cache key from every new statement object).
PRIVATE_KEY = sa.select(service_key.c.private_key)


@lru_cache(maxsize=4)
def _set_head(dialect: sa.Dialect) -> str:
    """The head's update, in the driver's own SQL (so that it can be held back to the commit)."""
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    return f"UPDATE {ledger_head.name} SET seq = {mark}, hash = {mark} WHERE id = 1"


_SERVICE_KEYS: WeakKeyDictionary[sa.Engine, Ed25519PrivateKey] = WeakKeyDictionary()


def _service_private(conn: sa.Connection) -> Ed25519PrivateKey | None:
    """The service's signing key, read once per engine: ``init`` makes it once and nothing
    replaces it, so reading it again in every transaction (under the ledger lock) bought
    nothing. None before ``init`` made one (a store from before keys existed)."""
    key = _SERVICE_KEYS.get(conn.engine)
    if key is None:
        pem = conn.execute(PRIVATE_KEY).scalar_one_or_none()
        if pem is None:
            return None
        key = _SERVICE_KEYS[conn.engine] = signing.load_private(bytes(pem))
    return key


def _entry(row: sa.Row[Any]) -> Entry:
    return Entry(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        kind=row.kind,
        payload=orjson.loads(row.payload),
        audience=tuple(orjson.loads(row.audience)),
        prev=row.prev,
        hash=row.hash,
        countersig=row.countersig,
    )


class SqlLedgerRepository(LedgerRepository):
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def ready(self) -> None:
        """Read now what :meth:`add` will need (the service's key), for a transaction that
        reads nothing once it has sent its writes ahead."""
        _service_private(self.conn)

    def add(self, entries: Sequence[Entry]) -> None:
        if not entries:
            return
        key = _service_private(self.conn)
        rows = (
            {
                "seq": e.seq,
                "at": e.at,
                "actor": e.actor,
                "kind": e.kind,
                "payload": orjson.dumps(e.payload).decode(),
                "audience": orjson.dumps(e.audience).decode(),
                "prev": e.prev,
                "hash": e.hash,
                "countersig": None if key is None else signing.sign(key, e.hash.encode()),
            }
            for e in entries
        )
        insert_rows(self.conn, ledger_entry, rows)
        insert_rows(
            self.conn,
            entry_audience,
            ({"party_id": p, "seq": e.seq} for e in entries for p in e.audience),
        )
        last = entries[-1]
        write(self.conn, _set_head(self.conn.dialect), [(last.seq, last.hash)])
        if self.conn.dialect.name == "postgresql":  # sent at commit: wakes other processes' feeds
            write(self.conn, f"NOTIFY {NOTIFY_CHANNEL}")

    def since(self, after: int, *, limit: int) -> list[Entry]:
        query = ENTRIES.where(_e.seq > after).order_by(_e.seq).limit(limit)
        return [_entry(row) for row in self.conn.execute(query)]

    def of_kinds(self, party: str, kinds: Collection[str]) -> list[Entry]:
        seen = entry_audience.c
        query = (
            ENTRIES.join(entry_audience, seen.seq == _e.seq)
            .where(seen.party_id == party, _e.kind.in_(sorted(kinds)))
            .order_by(_e.seq)
        )
        return [_entry(row) for row in self.conn.execute(query)]

    def view(self, party: str, after: int, *, limit: int) -> list[Entry | Stub]:
        seen = entry_audience.alias("seen")
        query = (
            sa.select(*ENTRIES.selected_columns, seen.c.party_id.is_not(None).label("visible"))
            .select_from(
                ledger_entry.outerjoin(
                    seen, sa.and_(seen.c.seq == _e.seq, seen.c.party_id == party)
                )
            )
            .where(_e.seq > after)
            .order_by(_e.seq)
            .limit(limit)
        )
        return [
            _entry(row) if row.visible else Stub(row.seq, row.prev, row.hash, row.countersig)
            for row in self.conn.execute(query)
        ]

    def service_key(self) -> str | None:
        query = sa.select(service_key.c.public_key).where(service_key.c.id == 1)
        return self.conn.execute(query).scalar_one_or_none()

    def set_service_key(self, private_pem: bytes, public: str, *, at: datetime) -> None:
        row = {"id": 1, "private_key": private_pem, "public_key": public, "created_at": at}
        self.conn.execute(service_key.insert(), row)
