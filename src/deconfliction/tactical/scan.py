"""A recording, cycle by cycle: reports in time order in, detection results out.

The pure core of ``deconfliction tracks scan`` (and of a replay): reports are grouped into cycles
of ``step_s`` seconds; a cycle at time t takes every report with time in (t − step, t], then
detects on the tracks as they stand at t.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from deconfliction.agreement import Tactical
from deconfliction.tactical.detect import Encounters, detect
from deconfliction.tactical.state import STALE_S, Snapshot, TrackReport, TrackTable


@dataclass(frozen=True, slots=True)
class Cycle:
    """One detection cycle: the tracks at ``snapshot.time_s`` and the encounters among them."""

    snapshot: Snapshot
    encounters: Encounters

    def lines(self) -> Iterator[dict[str, object]]:
        """The ``tracks scan`` lines: one per encounter, ids by name (a before b)."""
        ids, e = self.snapshot.ids, self.encounters
        for i, j, tcpa, dcpa, tin, los in zip(
            e.a.tolist(),
            e.b.tolist(),
            e.tcpa_s.tolist(),
            e.dcpa_m.tolist(),
            e.tin_s.tolist(),
            e.los.tolist(),
            strict=True,
        ):
            a, b = sorted((ids[i], ids[j]))
            yield {
                "a": a,
                "b": b,
                "tcpa_s": round(tcpa, 3),
                "dcpa_m": round(dcpa, 3),
                "tin_s": round(tin, 3),
                "los": los,
            }


def cycles(
    reports: Iterable[TrackReport],
    minima: Tactical = Tactical(),
    *,
    step_s: float = 1.0,
    stale_s: float = STALE_S,
    party_codes: dict[str, int] | None = None,
) -> Iterator[Cycle]:
    """Detect once per cycle with reports; reports must come in time order (a late one joins the
    next cycle). Tracks of the same party are never paired; unattributed tracks pair with all."""
    table = TrackTable(stale_s=stale_s)
    due: float | None = None
    for report in reports:
        at = math.ceil(report.time_s / step_s) * step_s
        if due is not None and at > due:
            yield _cycle(table, due, minima, party_codes)
        due = at if due is None else max(due, at)
        table.apply(report)
    if due is not None:
        yield _cycle(table, due, minima, party_codes)


def _cycle(
    table: TrackTable, time_s: float, minima: Tactical, party_codes: dict[str, int] | None
) -> Cycle:
    snap = table.snapshot(time_s, party_codes=party_codes)
    return Cycle(snap, detect(snap.kinematics, minima))
