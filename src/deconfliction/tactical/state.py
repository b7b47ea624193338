"""Track state: the latest known state of each track, merged from partial reports.

A report may carry only part of a state (SBS-1 sends position and velocity in separate
messages), so a field left ``None`` keeps the track's previous value. A track takes part in
detection once it has a position; it is dead-reckoned to the cycle time along its velocity and
dropped when its last position is older than the staleness timeout. Units are SI: metres, m/s,
degrees for angles, epoch seconds for time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from deconfliction.tactical.detect import Kinematics
from deconfliction.tactical.frame import ecef, ground_velocity

STALE_S = 30.0
"""Default staleness timeout: three missed OpenSky snapshots (10 s apart)."""


@dataclass(frozen=True, slots=True)
class TrackReport:
    """What one line of a feed says about one track; ``None`` means "not in this report"."""

    track: str
    time_s: float
    lat: float | None = None
    lon: float | None = None
    altitude_m: float | None = None
    speed_mps: float | None = None
    track_deg: float | None = None
    vertical_rate_mps: float | None = None
    on_ground: bool | None = None
    party: str | None = None


@dataclass(slots=True)
class _State:
    heard_s: float
    position_time_s: float = float("nan")
    lat: float = float("nan")
    lon: float = float("nan")
    altitude_m: float = float("nan")
    altitude_time_s: float = float("nan")
    speed_mps: float = 0.0
    track_deg: float = 0.0
    vertical_rate_mps: float = 0.0
    on_ground: bool = False
    party: str | None = None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The tracks fit for detection at ``time_s``: their ids, parties and kinematics, row by row."""

    time_s: float
    ids: list[str]
    parties: list[str | None]
    kinematics: Kinematics


@dataclass(slots=True)
class TrackTable:
    """Latest state per track id. Not thread-safe: one feed loop owns it."""

    stale_s: float = STALE_S
    _states: dict[str, _State] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self._states)

    def apply(self, report: TrackReport) -> None:
        """Merge one report into its track's state (fields that are ``None`` keep their value)."""
        s = self._states.get(report.track)
        if s is None:
            s = self._states[report.track] = _State(report.time_s)
        s.heard_s = max(s.heard_s, report.time_s)
        if report.lat is not None and report.lon is not None:
            s.lat, s.lon, s.position_time_s = report.lat, report.lon, report.time_s
        if report.altitude_m is not None:
            s.altitude_m, s.altitude_time_s = report.altitude_m, report.time_s
        if report.speed_mps is not None and report.track_deg is not None:
            s.speed_mps, s.track_deg = report.speed_mps, report.track_deg
        if report.vertical_rate_mps is not None:
            s.vertical_rate_mps = report.vertical_rate_mps
        if report.on_ground is not None:
            s.on_ground = report.on_ground
        if report.party is not None:
            s.party = report.party

    def snapshot(self, time_s: float, *, party_codes: dict[str, int] | None = None) -> Snapshot:
        """Airborne tracks with a fresh position, dead-reckoned to ``time_s``; stale ones dropped.

        Dead reckoning is straight along the ground velocity in ECEF and along the vertical rate
        from the time of the last position (altitude from the time of the last altitude).
        ``party_codes`` maps party ids to the integer codes detection compares (unattributed
        tracks get −1); by default codes are assigned in order of first appearance.
        """
        self._states = {k: s for k, s in self._states.items() if time_s - s.heard_s <= self.stale_s}
        live = [
            (k, s)
            for k, s in self._states.items()
            if 0 <= time_s - s.position_time_s <= self.stale_s and not s.on_ground
        ]
        codes = dict(party_codes or {})
        cols = np.array(
            [
                (
                    s.lat,
                    s.lon,
                    s.altitude_m,
                    s.speed_mps,
                    s.track_deg,
                    s.vertical_rate_mps,
                    s.position_time_s,
                    s.altitude_time_s,
                )
                for _, s in live
            ],
            dtype=np.float64,
        ).reshape(-1, 8)
        lat, lon, alt, speed, trk, vs, t_pos, t_alt = cols.T
        position = ecef(lat, lon)
        velocity = ground_velocity(lat, lon, speed, trk)
        position += velocity * (time_s - t_pos)[:, None]
        parties = [s.party for _, s in live]
        party = np.array(
            [-1 if p is None else codes.setdefault(p, len(codes)) for p in parties], np.int64
        )
        kin = Kinematics(position, velocity, alt + vs * (time_s - t_alt), vs, party)
        return Snapshot(time_s, [k for k, _ in live], parties, kin)
