"""Live tracks over SQL: merged state per track, open encounters, and the detection lease.

Reports are merged in the database (``INSERT … ON CONFLICT DO UPDATE`` with ``COALESCE``), so
several service processes can take reports for the same track and the stored state is always
the merge of all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from deconfliction.service.ports import StoredEncounter, TrackRepository
from deconfliction.store.tables import encounter, tactical_lease, track_state

_t = track_state.c
_e = encounter.c
_ENCOUNTER = tuple(getattr(_e, f) for f in StoredEncounter.__dataclass_fields__)


class SqlTrackRepository(TrackRepository):
    def __init__(self, conn: sa.Connection) -> None:
        self.conn = conn

    def _insert(self) -> Any:
        dialect = sqlite if self.conn.dialect.name == "sqlite" else postgresql
        return dialect.insert(track_state)

    def report(self, rows: Sequence[dict[str, object]]) -> None:
        if not rows:
            return
        insert = self._insert()
        new = insert.excluded

        def keep(column: str) -> Any:
            return sa.func.coalesce(getattr(new, column), getattr(_t, column))

        def when(present: str, column: str) -> Any:
            """``column`` from the report only when it carries ``present``."""
            return sa.case(
                (getattr(new, present).is_not(None), getattr(new, column)),
                else_=getattr(_t, column),
            )

        merged = insert.on_conflict_do_update(
            index_elements=[_t.track],
            set_={
                "party": keep("party"),
                "reporter": new.reporter,
                "heard_s": sa.func.max(_t.heard_s, new.heard_s)
                if self.conn.dialect.name == "sqlite"
                else sa.func.greatest(_t.heard_s, new.heard_s),
                "position_s": when("lat", "position_s"),
                "lat": when("lat", "lat"),
                "lon": when("lat", "lon"),
                "altitude_s": when("altitude_m", "altitude_s"),
                "altitude_m": keep("altitude_m"),
                "speed_mps": keep("speed_mps"),
                "track_deg": keep("track_deg"),
                "vertical_rate_mps": keep("vertical_rate_mps"),
                "on_ground": keep("on_ground"),
            },
        )
        # executemany runs the statement once per row, in order, so a batch may report the same
        # track twice (one multi-row INSERT could not update a row twice on PostgreSQL)
        self.conn.execute(merged, list(rows))

    def live(self, since_s: float) -> list[dict[str, object]]:
        query = sa.select(track_state).where(_t.heard_s >= since_s).order_by(_t.track)
        return [dict(row._mapping) for row in self.conn.execute(query)]

    def forget(self, before_s: float) -> None:
        self.conn.execute(track_state.delete().where(_t.heard_s < before_s))

    def open_encounters(self) -> list[StoredEncounter]:
        query = sa.select(*_ENCOUNTER).where(_e.closed_s.is_(None)).order_by(_e.id)
        return [StoredEncounter(*row) for row in self.conn.execute(query)]

    def add_encounter(self, e: StoredEncounter) -> int:
        row = {f: getattr(e, f) for f in StoredEncounter.__dataclass_fields__ if f != "id"}
        return int(self.conn.execute(encounter.insert().returning(_e.id), row).scalar_one())

    def update_encounter(self, encounter_id: int, **values: object) -> None:
        self.conn.execute(encounter.update().where(_e.id == encounter_id).values(**values))

    def take_lease(self, holder: str, *, now_s: float, ttl_s: float) -> bool:
        taken = self.conn.execute(
            tactical_lease.update()
            .where(
                tactical_lease.c.id == 1,
                sa.or_(tactical_lease.c.holder == holder, tactical_lease.c.until_s < now_s),
            )
            .values(holder=holder, until_s=now_s + ttl_s)
        )
        if taken.rowcount == 1:
            return True
        exists = self.conn.execute(sa.select(tactical_lease.c.id)).first()
        if exists is None:
            self.conn.execute(
                tactical_lease.insert(), {"id": 1, "holder": holder, "until_s": now_s + ttl_s}
            )
            return True
        return False
