"""Live tracks through the API on SQLite and PostgreSQL, with an injected clock: two parties'
aircraft converge, one encounter opens for both (not one a second), turns FLASH on the hotline
when loss of separation is a minute away, and closes when they are clear; a third party hears
nothing; bad reports are skipped with their reason."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support import Clock, serving

from deconfliction.officers import Role
from deconfliction.utc import rfc3339

LAT = 35.0
SPEED = 200.0  # m/s each, head-on: closing at 400 m/s
M_PER_DEG = 111_320.0 * math.cos(math.radians(LAT))


@dataclass
class Radar:
    client: TestClient
    tokens: dict[tuple[str, Role], str]
    clock: Clock

    def as_(self, party: str, role: Role = Role.OFFICER) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[(party, role)]}"}

    def report(self, party: str, *reports: dict[str, Any], own: bool = True) -> Any:
        body = {"own": own, "reports": list(reports)}
        answer = self.client.post("/v1/tracks", json=body, headers=self.as_(party))
        assert answer.status_code == 200, answer.text
        return answer.json()

    def head_on(self, t_s: float, *, gap_m: float = 45_500.0) -> None:
        """Coalition's C1 flying east and Russia's R1 flying west, ``gap_m`` apart at t=0."""
        for party, track, start, heading, sign in (
            ("coalition", "C1", 38.0, 90.0, 1.0),
            ("russia", "R1", 38.0 + gap_m / M_PER_DEG, 270.0, -1.0),
        ):
            lon = start + sign * SPEED * t_s / M_PER_DEG
            self.report(party, self.state(track, lon, heading))

    def state(self, track: str, lon: float, heading: float, **more: Any) -> dict[str, Any]:
        return {
            "track": track,
            "time": rfc3339(self.clock.now),
            "lat": LAT,
            "lon": lon,
            "altitude_m": 9000.0,
            "speed_mps": SPEED,
            "track_deg": heading,
            "vertical_rate_mps": 0.0,
            **more,
        }

    def cycle(self) -> int:
        return self.client.app.state.service.tactician.cycle()  # type: ignore[attr-defined]

    def encounters(self, party: str) -> list[dict[str, Any]]:
        return self.client.get("/v1/encounters", headers=self.as_(party)).json()

    def kinds(self, party: str, prefix: str) -> list[str]:
        events = self.client.get("/v1/events", headers=self.as_(party)).json()
        return [e["kind"] for e in events if e.get("kind", "").startswith(prefix)]


@pytest.fixture
def radar(database_url: str, tmp_path: Path) -> Iterator[Radar]:
    clock = Clock()
    with serving(database_url, tmp_path, clock=clock) as (client, tokens, _):
        yield Radar(client, tokens, clock)


def test_one_encounter_for_both_parties_flash_when_urgent_closed_when_clear(radar: Radar) -> None:
    t0 = radar.clock.now
    radar.head_on(0)
    radar.cycle()
    for party in ("coalition", "russia"):
        (e,) = radar.encounters(party)
        assert {e["a"]["track"], e["b"]["track"]} == {"C1", "R1"}
        assert 80 < e["tin_s"] < 100 and not e["los"] and e["closed"] is None
    assert radar.encounters("turkey") == []
    for k in range(1, 5):  # the same encounter every second: no new entries
        radar.clock.now = t0 + timedelta(seconds=k)
        radar.head_on(k)
        radar.cycle()
    assert radar.kinds("coalition", "encounter.") == ["encounter.opened"]
    radar.clock.now = t0 + timedelta(seconds=40)  # loss of separation ~50 s away: urgent
    radar.head_on(40)
    radar.cycle()
    assert radar.kinds("russia", "encounter.") == ["encounter.opened", "encounter.updated"]
    for party in ("coalition", "russia"):
        messages = radar.client.get("/v1/messages", headers=radar.as_(party)).json()
        (flash,) = [m for m in messages if m["kind"] == "encounter"]
        assert flash["precedence"] == "FLASH" and "C1" in flash["text"] and "R1" in flash["text"]
    radar.clock.now = t0 + timedelta(seconds=100)  # inside: separation lost
    radar.head_on(100)
    radar.cycle()
    assert radar.encounters("coalition")[0]["los"] is True
    radar.clock.now = t0 + timedelta(seconds=250)  # well past each other, clear since t=100
    radar.head_on(250)
    radar.cycle()
    (e,) = radar.encounters("russia")
    assert e["closed"] == rfc3339(t0 + timedelta(seconds=250))
    assert radar.kinds("turkey", "encounter.") == []  # only stubs
    events = radar.client.get("/v1/events", headers=radar.as_("turkey")).json()
    assert all(e.get("stub") for e in events if e["seq"] > 40)


def test_own_tracks_are_not_paired_but_observed_ones_are(radar: Radar) -> None:
    radar.report("coalition", radar.state("C1", 38.0, 90.0), radar.state("C2", 38.4, 270.0))
    radar.cycle()
    assert radar.encounters("coalition") == []  # one party's own aircraft
    observed = radar.state("UNK1", 38.4, 270.0)
    radar.report("turkey", observed, own=False)
    radar.cycle()
    seen = radar.encounters("turkey")  # turkey reported the unattributed track
    assert {(e["a"]["track"], e["b"]["track"]) for e in seen} == {("C1", "UNK1"), ("C2", "UNK1")}
    assert all({e["a"]["party"], e["b"]["party"]} == {"coalition", None} for e in seen)
    assert len(radar.encounters("coalition")) == 2
    assert radar.encounters("russia") == []


def test_bad_reports_are_skipped_with_their_reason_and_the_rest_stored(radar: Radar) -> None:
    good = radar.state("C1", 38.0, 90.0)
    answer = radar.report(
        "coalition",
        good,
        {**good, "track": "C2", "lat": 91.0},
        {**good, "track": "C3", "time": "yesterday"},
        {**good, "track": "C4", "colour": "red"},
        {**good, "track": "C5", "time": rfc3339(radar.clock.now + timedelta(minutes=5))},
    )
    assert answer["stored"] == 1
    assert [(s["index"], s["field"]) for s in answer["skipped"]] == [
        (1, "lat"),
        (2, "time"),
        (3, "colour"),
        (4, "time"),
    ]


def test_who_may_report(radar: Radar) -> None:
    body = {"reports": [radar.state("C1", 38.0, 90.0)]}
    observer = radar.client.post(
        "/v1/tracks", json=body, headers=radar.as_("coalition", Role.OBSERVER)
    )
    assert observer.status_code == 403
    assert radar.client.post("/v1/tracks", json=body).status_code == 401
    assert radar.client.get("/v1/encounters").status_code == 401


def notice_over(ref: str, lon: float, *, hours: float = 1.0, **top: Any) -> dict[str, Any]:
    """A notice filed now: a 20 km circle round (lon, LAT), 8,000-10,000 m, for ``hours``."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, LAT]},
                "properties": {
                    "notice": ref,
                    "activity": "uav",
                    "radius_m": 20_000,
                    "start": "2015-10-20T11:00:00Z",
                    "end": "2015-10-20T14:00:00Z",
                    "lower_m": 8000,
                    "upper_m": 10000,
                },
            }
        ],
        **top,
    }


def test_tracks_against_notices(radar: Radar) -> None:
    """Outside all of its own party's notices, or inside another party's: reported once, to the
    track's party and to the owner of the notice it is in; back inside, reported once more."""
    filed = radar.client.post(
        "/v1/notices", json=notice_over("R-1", 39.0), headers=radar.as_("russia")
    )
    assert filed.status_code == 201, filed.text
    radar.report("coalition", radar.state("C1", 36.0, 90.0))  # far from any notice
    radar.cycle()
    radar.cycle()
    (outside,) = _entries(radar, "coalition", "track.deviation")
    assert outside["payload"]["outside_own"] is True and outside["payload"]["inside"] == []
    assert _entries(radar, "russia", "track.deviation") == []  # not russia's business
    mine = radar.client.post(
        "/v1/notices", json=notice_over("C-1", 39.0), headers=radar.as_("coalition")
    )
    assert mine.status_code == 201
    radar.report("coalition", radar.state("C1", 39.05, 90.0))  # inside both notices
    radar.cycle()
    deviation = _entries(radar, "russia", "track.deviation")[-1]["payload"]
    assert deviation["track"] == "C1" and deviation["outside_own"] is False
    assert deviation["inside"] == [{"party": "russia", "notice": "R-1"}]
    assert _entries(radar, "turkey", "track.deviation") == []
    radar.client.post(
        f"/v1/notices/{filed.json()['notice']['id']}/cancel", headers=radar.as_("russia")
    )
    radar.cycle()
    for party in ("coalition", "russia"):  # back to conforming: both are told
        assert [e["kind"] for e in _entries(radar, party, "track.")][-1] == "track.conforming"
    radar.report("coalition", radar.state("C1", 39.05, 90.0, altitude_m=12_000.0))  # above the band
    radar.cycle()
    assert _entries(radar, "coalition", "track.deviation")[-1]["payload"]["outside_own"] is True


def _entries(radar: Radar, party: str, kind: str) -> list[dict[str, Any]]:
    events = radar.client.get("/v1/events", headers=radar.as_(party)).json()
    return [e for e in events if e.get("kind", "").startswith(kind)]


def test_a_track_dead_reckoned_beyond_any_volume_does_not_stop_the_cycle(radar: Radar) -> None:
    """Below the lowest altitude a volume may have, a track is outside every notice: said so,
    and the cycle goes on (it used to fail validating the probe, every second)."""
    sinking = radar.state("C1", 38.0, 90.0, altitude_m=-900.0, vertical_rate_mps=-100.0)
    radar.report("coalition", sinking, radar.state("C2", 38.0, 270.0))
    radar.clock.advance(seconds=20)  # dead-reckoned to -2,900 m
    radar.cycle()
    deviations = {e["payload"]["track"] for e in _entries(radar, "coalition", "track.deviation")}
    assert deviations == {"C1", "C2"}
