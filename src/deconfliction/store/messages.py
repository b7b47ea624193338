"""Hotline messages over SQL: only the state escalation needs; what was said is in the ledger."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from deconfliction.officers import Role
from deconfliction.service.ports import MessageRepository, StoredMessage
from deconfliction.store.bulk import insert_rows
from deconfliction.store.repository import StoreState
from deconfliction.store.tables import channel_state, message, officer

_COLUMNS = (
    message.c.id,
    message.c.channel,
    message.c.from_party,
    message.c.to_party,
    message.c.precedence,
    message.c.kind,
    message.c.level,
    message.c.status,
    message.c.deadline,
)
_UPDATABLE = frozenset(("status", "level", "deadline", "received_at", "acked_at"))


def _message(row: sa.Row[Any]) -> StoredMessage:
    return StoredMessage(*row)


# built once: a filing asks it for each of its messages, and building it cost more than running it
ROSTERS = (
    sa.select(officer.c.party_id, officer.c.level)
    .distinct()
    .where(officer.c.revoked_at.is_(None), officer.c.role != Role.OBSERVER.value)
    .order_by(officer.c.party_id, officer.c.level)
)
"""Every party's roster levels at once: a filing messages two parties or more, and each round
trip under the ledger lock is one that every process waits for."""


MESSAGE_COLUMNS = (
    "id",
    "channel",
    "from_party",
    "to_party",
    "precedence",
    "kind",
    "sent_by",
    "sent_at",
    "level",
    "status",
    "deadline",
)


class SqlMessageRepository(MessageRepository):
    def __init__(self, conn: sa.Connection, state: StoreState) -> None:
        self.conn = conn
        # message ids are allocated under the ledger lock (every new message is written under
        # it), so the row can be held back to the commit like the filing's other rows
        self.state = state
        # read once per transaction (officers change in transactions of their own)
        self._rosters: dict[str, list[int]] | None = None

    def add(
        self,
        *,
        channel: str | None,
        from_party: str | None,
        to_party: str,
        precedence: str,
        kind: str,
        sent_by: int | None,
        sent_at: datetime,
        level: int,
        deadline: datetime,
    ) -> int:
        message_id = self.state.take_ids(message, 1)
        row = (
            message_id,
            channel,
            from_party,
            to_party,
            precedence,
            kind,
            sent_by,
            sent_at,
            level,
            "sent",
            deadline,
        )
        insert_rows(self.conn, message, [row], columns=MESSAGE_COLUMNS)
        return message_id

    def get(self, message_id: int) -> StoredMessage | None:
        row = self.conn.execute(sa.select(*_COLUMNS).where(message.c.id == message_id)).first()
        return None if row is None else _message(row)

    def update(self, message_id: int, **values: object) -> None:
        unknown = set(values) - _UPDATABLE
        if unknown:
            raise ValueError(f"cannot update {sorted(unknown)}")
        self.conn.execute(message.update().where(message.c.id == message_id).values(**values))

    def due(self, now: datetime, *, limit: int) -> list[StoredMessage]:
        query = (
            sa.select(*_COLUMNS)
            .where(message.c.deadline.is_not(None), message.c.deadline <= now)
            .order_by(message.c.deadline, message.c.id)
            .limit(limit)
        )
        return [_message(row) for row in self.conn.execute(query)]

    def next_deadline(self) -> datetime | None:
        first = self.conn.execute(sa.select(sa.func.min(message.c.deadline))).scalar_one()
        if first is None:
            return None
        # min() over a decorated column comes back raw on SQLite: read it through the type
        return message.c.deadline.type.process_result_value(first, self.conn.dialect)

    def roster(self, party: str) -> list[int]:
        if self._rosters is None:  # a filing's messages ask for each party's roster
            self._rosters = {}
            for party_id, level in self.conn.execute(ROSTERS):
                self._rosters.setdefault(party_id, []).append(level)
        return list(self._rosters.get(party, ()))

    def suspended_by(self, parties: tuple[str, str], channel: str) -> str | None:
        a, b = sorted(parties)
        query = sa.select(channel_state.c.suspended_by).where(
            channel_state.c.party_a == a,
            channel_state.c.party_b == b,
            channel_state.c.name == channel,
        )
        return self.conn.execute(query).scalar_one_or_none()

    def set_channel(
        self, parties: tuple[str, str], channel: str, *, suspended_by: str | None, at: datetime
    ) -> None:
        a, b = sorted(parties)
        key = (channel_state.c.party_a == a, channel_state.c.party_b == b)
        done = self.conn.execute(
            channel_state.update()
            .where(*key, channel_state.c.name == channel)
            .values(suspended_by=suspended_by, changed_at=at)
        )
        if done.rowcount == 0:
            row = {"party_a": a, "party_b": b, "name": channel}
            self.conn.execute(
                channel_state.insert(), {**row, "suspended_by": suspended_by, "changed_at": at}
            )
