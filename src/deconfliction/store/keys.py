"""Signing keys over SQL: parties' public keys, used nonces, and the service's own key pair."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from deconfliction.service.ports import KeyRepository, PartyKey
from deconfliction.store.tables import party_key, used_nonce

_k = party_key.c
_COLUMNS = (_k.key_id, _k.party_id, _k.public_key, _k.revoked_at)


class SqlKeyRepository(KeyRepository):
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def register(self, key: PartyKey, *, at: datetime) -> bool:
        if self.get(key.id) is not None:
            return False
        row = {
            "key_id": key.id,
            "party_id": key.party,
            "public_key": key.public,
            "registered_at": at,
        }
        self.conn.execute(party_key.insert(), row)
        return True

    def get(self, key_id: str) -> PartyKey | None:
        row = self.conn.execute(sa.select(*_COLUMNS).where(_k.key_id == key_id)).first()
        return None if row is None else PartyKey(*row)

    def of_party(self, party: str) -> list[PartyKey]:
        query = sa.select(*_COLUMNS).where(_k.party_id == party).order_by(_k.registered_at)
        return [PartyKey(*row) for row in self.conn.execute(query)]

    def revoke(self, key_id: str, *, at: datetime) -> None:
        self.conn.execute(party_key.update().where(_k.key_id == key_id).values(revoked_at=at))

    def use_nonce(self, key_id: str, nonce: str, *, at: datetime) -> bool:
        seen = sa.select(used_nonce.c.nonce).where(
            used_nonce.c.key_id == key_id, used_nonce.c.nonce == nonce
        )
        if self.conn.execute(seen).first() is not None:
            return False
        self.conn.execute(used_nonce.insert(), {"key_id": key_id, "nonce": nonce, "at": at})
        return True
