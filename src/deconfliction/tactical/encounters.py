"""Encounters over time: one per pair of tracks, opened once, updated each cycle, closed when clear.

Detection runs every cycle and finds the same pair again and again; an officer should get one
alert that changes, not one a second. :class:`EncounterTracker` turns each cycle's results into
what changed. A pair must stay clear for ``hold_s`` before its encounter closes, so a pair that
hovers at a minimum does not open and close on alternate cycles; an encounter also closes when
either track is no longer in the picture (stale or landed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from deconfliction.tactical.detect import Encounters

HOLD_S = 10.0


@dataclass(frozen=True, slots=True)
class Encounter:
    """One encounter as last seen: ids a < b, the cycle times it opened and was last seen, and
    the latest prediction (``closed_s`` is set once it is over)."""

    id: int
    a: str
    b: str
    opened_s: float
    seen_s: float
    tcpa_s: float
    dcpa_m: float
    tin_s: float
    los: bool
    closed_s: float | None = None


@dataclass(frozen=True, slots=True)
class Changes:
    """What one cycle changed: encounters new, still there (with the new prediction), over."""

    opened: list[Encounter]
    updated: list[Encounter]
    closed: list[Encounter]


@dataclass(slots=True)
class EncounterTracker:
    """Open encounters by pair; feed it every cycle's results with :meth:`cycle`."""

    hold_s: float = HOLD_S
    _open: dict[tuple[str, str], Encounter] = field(default_factory=dict)
    _next_id: int = 1

    @classmethod
    def resume(cls, open_: Iterable[Encounter], *, hold_s: float = HOLD_S) -> EncounterTracker:
        """A tracker that carries on from open encounters kept elsewhere between cycles (the
        service keeps them in its store, so another process can take over)."""
        tracker = cls(hold_s)
        tracker._open = {(e.a, e.b): e for e in open_}
        tracker._next_id = max((e.id for e in tracker._open.values()), default=0) + 1
        return tracker

    @property
    def open(self) -> list[Encounter]:
        return list(self._open.values())

    def cycle(self, time_s: float, ids: list[str], found: Encounters) -> Changes:
        """Take one cycle's detection (``ids`` names the rows ``found`` indexes) at ``time_s``."""
        opened, updated = [], []
        for i, j, tcpa, dcpa, tin, los in zip(
            found.a.tolist(),
            found.b.tolist(),
            found.tcpa_s.tolist(),
            found.dcpa_m.tolist(),
            found.tin_s.tolist(),
            found.los.tolist(),
            strict=True,
        ):
            a, b = sorted((ids[i], ids[j]))
            was = self._open.get((a, b))
            now = Encounter(
                was.id if was else self._next_id,
                a,
                b,
                was.opened_s if was else time_s,
                time_s,
                tcpa,
                dcpa,
                tin,
                bool(los),
            )
            (updated if was else opened).append(now)
            self._next_id += was is None
            self._open[a, b] = now
        return Changes(opened, updated, self._close(time_s, set(ids)))

    def _close(self, time_s: float, present: set[str]) -> list[Encounter]:
        over = [
            e
            for e in self._open.values()
            if e.seen_s < time_s and (time_s - e.seen_s >= self.hold_s or not {e.a, e.b} <= present)
        ]
        for e in over:
            del self._open[e.a, e.b]
        return [replace(e, closed_s=time_s) for e in over]
