"""Officers over SQL: rows in, :class:`Officer` out; tokens only ever as their hash."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from deconfliction.officers import Officer, Role
from deconfliction.service.ports import OfficerRepository
from deconfliction.store.tables import officer

_COLUMNS = (
    officer.c.id,
    officer.c.party_id,
    officer.c.name,
    officer.c.role,
    officer.c.level,
    officer.c.created_at,
    officer.c.revoked_at,
)


def _officer(row: sa.Row[Any]) -> Officer:
    return Officer(
        row.id, row.party_id, row.name, Role(row.role), row.level, row.created_at, row.revoked_at
    )


class SqlOfficerRepository(OfficerRepository):
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def add(
        self, *, party: str, name: str, role: Role, level: int, token_hash: str, at: datetime
    ) -> Officer:
        row = {
            "party_id": party,
            "name": name,
            "role": role.value,
            "level": level,
            "token_hash": token_hash,
            "created_at": at,
        }
        new_id = self.conn.execute(officer.insert().returning(officer.c.id), row).scalar_one()
        return Officer(new_id, party, name, role, level, at)

    def by_token_hash(self, token_hash: str) -> Officer | None:
        query = sa.select(*_COLUMNS).where(officer.c.token_hash == token_hash)
        row = self.conn.execute(query).first()
        return None if row is None else _officer(row)

    def get(self, officer_id: int) -> Officer | None:
        row = self.conn.execute(sa.select(*_COLUMNS).where(officer.c.id == officer_id)).first()
        return None if row is None else _officer(row)

    def of_party(self, party: str) -> list[Officer]:
        query = sa.select(*_COLUMNS).where(officer.c.party_id == party).order_by(officer.c.id)
        return [_officer(row) for row in self.conn.execute(query)]

    def revoke(self, officer_id: int, *, at: datetime) -> None:
        self.conn.execute(officer.update().where(officer.c.id == officer_id).values(revoked_at=at))
