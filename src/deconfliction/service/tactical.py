"""Live tracks in the service: reports in, one detection cycle a second, encounters out.

A party's feed reports its own assets (``own``) or what it observes (unattributed tracks, still
checked against everyone). Reports are merged into the stored state of each track; the detection
cycle runs in one service process at a time (a lease in the store), detects on the dead-reckoned
tracks with :func:`deconfliction.tactical.detect.detect`, and turns each cycle's results into
encounters with :class:`EncounterTracker`: one encounter per pair, opened once, updated only when
it matters (loss of separation begins or ends, it becomes urgent, or every
:data:`UPDATE_EVERY_S`), closed when the tracks are clear. Each of those is a ledger entry for the
parties of both tracks, so it reaches them on their feeds; an encounter whose loss of separation
is within :data:`URGENT_TIN_S` or has happened also opens FLASH traffic on the hotline to both.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from pyproj import Transformer

from deconfliction.agreement import Agreement, Separation
from deconfliction.errors import Forbidden
from deconfliction.geo.volume import Circle, Volume
from deconfliction.hotline import Kind
from deconfliction.ledger import Entry
from deconfliction.officers import Officer
from deconfliction.service.hotline import SERVICE_ACTOR, announce
from deconfliction.service.ports import StoredEncounter, UnitOfWork
from deconfliction.service.recorder import Recorder
from deconfliction.strategic.detect import (
    MAX_ALTITUDE_M,
    MIN_ALTITUDE_M,
    VolumeRef,
    decide,
    prepare_many,
)
from deconfliction.strategic.notice import Activity, Notice
from deconfliction.tactical import Encounter, EncounterTracker, Snapshot, TrackReport, TrackTable
from deconfliction.tactical.detect import detect
from deconfliction.tactical.state import STALE_S
from deconfliction.utc import rfc3339

URGENT_TIN_S = 60.0
"""Loss of separation predicted within this (or already happened) is FLASH traffic."""
UPDATE_EVERY_S = 30.0
"""An open encounter's prediction is recorded again at least this often while it lasts."""
LEASE_TTL_S = 5.0
FORGET_AFTER_S = 600.0
INSIDE = Separation(horizontal_m=1.0, vertical_m=1.0, time_s=1.0)
PROBE_S = timedelta(seconds=0.5)
_TO_GEODETIC = Transformer.from_crs("EPSG:4978", "EPSG:4979", always_xy=True)

Conformance = dict[str, tuple[bool, tuple[tuple[str, str], ...]]]
"""Per track of a party: (outside all of its own active notices, (party, notice) of the other
parties' active notices it is inside), as last recorded."""


def report_tracks(
    uow: UnitOfWork, reports: Sequence[TrackReport], *, by: Officer, own: bool
) -> int:
    """Merge a feed's reports into the stored tracks: the caller's party's own assets when
    ``own``, else tracks it observes (unattributed). Returns how many were stored."""
    if not by.role.acts:
        raise Forbidden("an observer cannot report tracks")
    rows = [
        {
            "track": r.track,
            "party": by.party if own else None,
            "reporter": by.party,
            "heard_s": r.time_s,
            "position_s": r.time_s if r.lat is not None and r.lon is not None else None,
            "lat": r.lat if r.lon is not None else None,
            "lon": r.lon if r.lat is not None else None,
            "altitude_s": r.time_s if r.altitude_m is not None else None,
            "altitude_m": r.altitude_m,
            "speed_mps": r.speed_mps if r.track_deg is not None else None,
            "track_deg": r.track_deg if r.speed_mps is not None else None,
            "vertical_rate_mps": r.vertical_rate_mps,
            "on_ground": r.on_ground,
        }
        for r in reports
    ]
    with uow:
        uow.tracks.report(rows)
        uow.commit()
    return len(rows)


@dataclass(frozen=True, slots=True)
class Picture:
    """The tracks of one cycle, by id: who each belongs to (or who reported it) and where."""

    party: dict[str, str | None]
    told: dict[str, str]  # the party to tell about each track: its own, else its reporter
    where: dict[str, dict[str, float | None]]


def run_cycle(
    uow: UnitOfWork,
    agreement: Agreement,
    *,
    now: datetime,
    holder: str,
    conformance: Conformance | None = None,
    stale_s: float = STALE_S,
) -> list[Entry]:
    """One detection cycle at ``now`` if this process (``holder``) holds the lease; returns the
    ledger entries it wrote. ``conformance`` is what the last cycles recorded of tracks against
    notices (kept by the caller between cycles; a new process records the current state once)."""
    conformance = {} if conformance is None else conformance
    now_s = now.timestamp()
    with uow.read_only() as tx:
        rows = tx.tracks.live(now_s - stale_s)
        stored = {(e.a, e.b): e for e in tx.tracks.open_encounters()}
    if not rows and not stored and not conformance:
        return []  # nothing live, nothing open: no write (filings need not wait for it)
    with uow:
        if not uow.tracks.take_lease(holder, now_s=now_s, ttl_s=LEASE_TTL_S):
            return []
        uow.commit()
    table = TrackTable(stale_s=stale_s)
    for row in rows:
        for report in _reports(row):
            table.apply(report)
    codes = {p.id: k for k, p in enumerate(agreement.parties)}
    snap = table.snapshot(now_s, party_codes=codes)
    found = detect(snap.kinematics, agreement.tactical)
    tracker = EncounterTracker.resume(_as_encounter(e) for e in stored.values())
    changes = tracker.cycle(now_s, snap.ids, found)
    picture = _picture(rows, snap)
    conforming = _conformance(uow, picture, now)
    with uow:
        head = uow.lock_ledger()
        log = Recorder(head, at=now, actor=SERVICE_ACTOR)
        for e in changes.opened:
            _open(uow, log, agreement, e, picture, now)
        for e in changes.updated:
            _update(uow, log, agreement, e, stored[e.a, e.b], picture, now)
        for e in changes.closed:
            was = stored[e.a, e.b]
            uow.tracks.update_encounter(was.id, closed_s=now_s)
            body = {"id": was.id, "time": rfc3339(now), "a": was.a, "b": was.b}
            log.record("encounter.closed", body, audience={was.a_party, was.b_party})
        _record_conformance(log, conforming, conformance, picture, now)
        uow.tracks.forget(now_s - FORGET_AFTER_S)
        uow.ledger.add(log.entries)
        uow.commit()
    return log.entries


def _reports(row: dict[str, Any]) -> list[TrackReport]:
    """The stored state of a track as the reports that would rebuild it (position and altitude
    keep the times they were reported)."""
    track, party = str(row["track"]), row["party"]
    out = [TrackReport(track, float(row["heard_s"]), party=party, on_ground=row["on_ground"])]
    if row["position_s"] is not None:
        out.append(
            TrackReport(
                track,
                float(row["position_s"]),
                lat=row["lat"],
                lon=row["lon"],
                speed_mps=row["speed_mps"],
                track_deg=row["track_deg"],
                vertical_rate_mps=row["vertical_rate_mps"],
            )
        )
    if row["altitude_s"] is not None:
        out.append(TrackReport(track, float(row["altitude_s"]), altitude_m=row["altitude_m"]))
    return out


def _picture(rows: list[dict[str, Any]], snap: Snapshot) -> Picture:
    party = {str(r["track"]): r["party"] for r in rows}
    told = {str(r["track"]): str(r["party"] or r["reporter"]) for r in rows}
    k = snap.kinematics
    p = k.position_m.reshape(-1, 3)
    lon, lat, _ = _TO_GEODETIC.transform(p[:, 0], p[:, 1], p[:, 2])
    where: dict[str, dict[str, float | None]] = {}
    for i, track in enumerate(snap.ids):
        alt = float(k.altitude_m[i])
        where[track] = {
            "lat": round(float(lat[i]), 6),
            "lon": round(float(lon[i]), 6),
            "altitude_m": None if math.isnan(alt) else round(alt, 1),
        }
    return Picture(party, told, where)


def _conformance(
    uow: UnitOfWork, picture: Picture, now: datetime
) -> dict[str, tuple[bool, list[VolumeRef]]]:
    """For each track of a party with a position and an altitude: whether it is inside one of
    its own party's active volumes, and the other parties' active volumes it is inside.

    Inside means within :data:`INSIDE` of the volume: the strict conflict rule of notices with
    minima of one metre and one second, so the exact geodesic distances of ``strategic`` decide.
    """
    tracks = [
        (t, p, picture.where[t])
        for t, p in picture.party.items()
        if p is not None and t in picture.where and picture.where[t]["altitude_m"] is not None
    ]
    if not tracks:
        return {}
    # a dead-reckoned altitude beyond what any volume may span is in no notice (and would not
    # pass a volume's validation): such a track is outside without asking
    beyond = {t for t, _, w in tracks if not MIN_ALTITUDE_M < w["altitude_m"] < MAX_ALTITUDE_M}  # type: ignore[operator]
    tracks = [x for x in tracks if x[0] not in beyond]
    found: dict[str, list[VolumeRef]] = {}
    outside: dict[str, tuple[bool, list[VolumeRef]]] = {t: (False, []) for t in beyond}
    if not tracks:
        return outside
    probes = [
        Notice(
            t,
            f"~{party}",  # a party of its own, so every notice is "another party's"
            Activity.AIR,
            (
                Volume(
                    Circle(float(w["lon"]), float(w["lat"]), 0.5),  # type: ignore[arg-type]
                    float(w["altitude_m"]) - 0.25,  # type: ignore[arg-type]
                    float(w["altitude_m"]) + 0.25,  # type: ignore[arg-type]
                    now - PROBE_S,
                    now + PROBE_S,
                ),
            ),
        )
        for t, party, w in tracks
    ]
    items = prepare_many(probes)
    with uow.read_only() as tx:
        near = tx.notices.near(items, INSIDE)
    inside = decide(items, near.stored, near.i, near.j, INSIDE)
    for c in inside:
        found.setdefault(c.a.notice, []).append(c.b)
    return outside | {
        t: (
            any(v.party == party for v in found.get(t, [])),
            [v for v in found.get(t, []) if v.party != party],
        )
        for t, party, _ in tracks
    }


def _record_conformance(
    log: Recorder,
    found: dict[str, tuple[bool, list[VolumeRef]]],
    last: Conformance,
    picture: Picture,
    now: datetime,
) -> None:
    """Entries for the tracks whose standing against notices changed: ``track.deviation`` (out
    of all its own party's active notices, or inside another party's: that party is told too)
    and ``track.conforming`` when it is back."""
    for track, (own, others) in found.items():
        party = str(picture.party[track])
        state = (not own, tuple(sorted({(v.party, v.notice) for v in others})))
        before = last.get(track, (False, ()))
        if state == before:
            continue
        last[track] = state
        told = {party, *(p for p, _ in state[1]), *(p for p, _ in before[1])}
        if state == (False, ()):
            log.record(
                "track.conforming",
                {"track": track, "party": party, "time": rfc3339(now)},
                audience=told,
            )
            continue
        body = {
            "track": track,
            "party": party,
            "time": rfc3339(now),
            **picture.where[track],
            "outside_own": state[0],
            "inside": [{"party": p, "notice": n} for p, n in state[1]],
        }
        log.record("track.deviation", body, audience=told)
    for track in set(last) - set(found):
        del last[track]  # gone from the picture: a new state is recorded if it comes back


def _as_encounter(e: StoredEncounter) -> Encounter:
    return Encounter(e.id, e.a, e.b, e.opened_s, e.seen_s, e.tcpa_s, e.dcpa_m, e.tin_s, e.los)


def _urgent(e: Encounter) -> bool:
    return e.los or e.tin_s <= URGENT_TIN_S


def _body(e: Encounter, encounter_id: int, picture: Picture, now: datetime) -> dict[str, Any]:
    side = {
        key: {"track": t, "party": picture.party.get(t), **picture.where.get(t, {})}
        for key, t in (("a", e.a), ("b", e.b))
    }
    return {
        "id": encounter_id,
        "time": rfc3339(now),
        **side,
        "tcpa_s": round(e.tcpa_s, 3),
        "dcpa_m": round(e.dcpa_m, 3),
        "tin_s": round(e.tin_s, 3),
        "los": e.los,
    }


def _open(
    uow: UnitOfWork,
    log: Recorder,
    agreement: Agreement,
    e: Encounter,
    picture: Picture,
    now: datetime,
) -> None:
    parties = (picture.told[e.a], picture.told[e.b])
    stored = StoredEncounter(
        0,
        e.a,
        e.b,
        *parties,
        e.opened_s,
        e.seen_s,
        e.seen_s,
        e.tcpa_s,
        e.dcpa_m,
        e.tin_s,
        e.los,
        _urgent(e),
    )
    encounter_id = uow.tracks.add_encounter(stored)
    log.record("encounter.opened", _body(e, encounter_id, picture, now), audience=parties)
    if stored.urgent:
        _flash(uow, log, agreement, replace(stored, id=encounter_id), e, now)


def _update(
    uow: UnitOfWork,
    log: Recorder,
    agreement: Agreement,
    e: Encounter,
    was: StoredEncounter,
    picture: Picture,
    now: datetime,
) -> None:
    urgent = was.urgent or _urgent(e)
    changed = e.los != was.los or urgent != was.urgent
    due = e.seen_s - was.recorded_s >= UPDATE_EVERY_S
    values: dict[str, object] = {
        "seen_s": e.seen_s,
        "tcpa_s": e.tcpa_s,
        "dcpa_m": e.dcpa_m,
        "tin_s": e.tin_s,
        "los": e.los,
        "urgent": urgent,
    }
    if changed or due:
        values["recorded_s"] = e.seen_s
        body = _body(e, was.id, picture, now)
        log.record("encounter.updated", body, audience={was.a_party, was.b_party})
    uow.tracks.update_encounter(was.id, **values)
    if urgent and not was.urgent:
        _flash(uow, log, agreement, was, e, now)


def _flash(
    uow: UnitOfWork,
    log: Recorder,
    agreement: Agreement,
    was: StoredEncounter,
    e: Encounter,
    now: datetime,
) -> None:
    """FLASH traffic to both parties of an urgent encounter (once per encounter)."""
    when = "separation is lost" if e.los else f"loss of separation in {e.tin_s:.0f} s"
    text = (
        f"Tracks {e.a} ({was.a_party}) and {e.b} ({was.b_party}): {when}; closest "
        f"{e.dcpa_m / 1000:.1f} km in {max(e.tcpa_s, 0.0):.0f} s"
    )
    for party in sorted({was.a_party, was.b_party}):
        announce(
            uow,
            log,
            agreement,
            now=now,
            to=party,
            kind=Kind.ENCOUNTER,
            text=text,
            starts=now,
            about={"encounter": was.id},
        )
