"""Helpers for the store tests: notices (hand-made, and a seeded random batch over Syria) and
row counts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from fastapi.testclient import TestClient

from deconfliction.agreement import loads_agreement
from deconfliction.api import create_app
from deconfliction.geo.volume import Circle, Outline, Polygon, Volume
from deconfliction.officers import Role
from deconfliction.service import init_store
from deconfliction.service.officers import add_officer
from deconfliction.settings import Settings
from deconfliction.store import SqlUnitOfWork, create_engine
from deconfliction.store.tables import metadata
from deconfliction.strategic.notice import Activity, Notice

T0 = datetime(2015, 10, 21, 6, tzinfo=UTC)
NOW = datetime(2015, 10, 20, 12, tzinfo=UTC)  # when the tests file their notices
PARTIES = ("coalition", "russia", "turkey")

AGREEMENT_TOML = """\
name = "Memorandum on flight safety (test)"

[[party]]
id = "coalition"
name = "Combined Air Operations Center"

[[party]]
id = "russia"
name = "Air group command"

[[party]]
id = "turkey"
name = "Air force command"

[separation]
horizontal_m = 18520
vertical_m = 609.6
time_s = 900

[notice_period]
air = "PT1H"

[tactical]
horizontal_m = 9260
vertical_m = 304.8
lookahead_s = 300
"""


def volume(
    outline: Outline,
    *,
    lower_m: float = 3000.0,
    upper_m: float = 6000.0,
    start_h: float = 0.0,
    end_h: float = 2.0,
) -> Volume:
    """A volume whose window is given in hours after :data:`T0`."""
    return Volume(
        outline, lower_m, upper_m, T0 + timedelta(hours=start_h), T0 + timedelta(hours=end_h)
    )


def notice(ref: str, party: str, *volumes: Volume) -> Notice:
    return Notice(ref, party, Activity.AIR, tuple(volumes))


def circle(lon: float = 38.5, lat: float = 35.0, radius_m: float = 10_000.0) -> Circle:
    return Circle(lon, lat, radius_m)


def square(lon: float, lat: float, half_deg: float) -> Polygon:
    return Polygon(
        (
            (lon - half_deg, lat - half_deg),
            (lon + half_deg, lat - half_deg),
            (lon + half_deg, lat + half_deg),
            (lon - half_deg, lat + half_deg),
        )
    )


def random_notices(seed: int, count: int) -> list[Notice]:
    """``count`` notices of 1-3 volumes (circles and quadrilaterals) over three days, dense
    enough that many pairs conflict and many are near misses."""
    rng = np.random.default_rng(seed)
    return [_random_notice(rng, k) for k in range(count)]


def _random_notice(rng: np.random.Generator, k: int) -> Notice:
    volumes = []
    for _ in range(int(rng.integers(1, 4))):
        lon, lat = float(rng.uniform(36.0, 41.0)), float(rng.uniform(33.0, 37.0))
        if rng.random() < 0.5:
            outline: Outline = Circle(lon, lat, float(rng.uniform(2_000.0, 30_000.0)))
        else:
            w, h = rng.uniform(0.05, 0.4, size=2)
            jitter = rng.uniform(-0.02, 0.02, size=4)
            outline = Polygon(
                (
                    (lon - w, lat - h + jitter[0]),
                    (lon + w, lat - h + jitter[1]),
                    (lon + w + jitter[2], lat + h),
                    (lon - w + jitter[3], lat + h),
                )
            )
        lower = float(rng.uniform(0.0, 8_000.0))
        start = float(rng.uniform(0.0, 72.0))
        volumes.append(
            volume(
                outline,
                lower_m=lower,
                upper_m=lower + float(rng.uniform(300.0, 4_000.0)),
                start_h=start,
                end_h=start + float(rng.uniform(0.25, 6.0)),
            )
        )
    return notice(f"N-{k:05d}", PARTIES[k % len(PARTIES)], *volumes)


def row_counts(engine: sa.Engine) -> dict[str, int]:
    """Rows in every table: what a refused filing must leave unchanged."""
    with engine.connect() as conn:
        return {
            t.name: conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in metadata.sorted_tables
        }


def feature(ref: str, who: str, lon: float, **props: object) -> dict[str, object]:
    base: dict[str, object] = {
        "notice": ref,
        "party": who,
        "activity": "air",
        "radius_m": 10_000,
        "start": "2015-10-21T06:00:00Z",
        "end": "2015-10-21T08:00:00Z",
        "lower_m": 3000,
        "upper_m": 6000,
    }
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, 35.0]},
        "properties": base | props,
    }


def write(path: Path, *features: dict[str, object]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return path


Tokens = dict[tuple[str, Role], str]


class Clock:
    """A clock the test moves by hand (an injected clock: no sleeping for deadlines)."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@contextmanager
def serving(
    database_url: str,
    tmp_path: Path,
    *,
    clock: Clock | None = None,
    agreement: str = AGREEMENT_TOML,
    **client_options: Any,
) -> Iterator[tuple[TestClient, Tokens, SqlUnitOfWork]]:
    """The API on a store initialised with :data:`AGREEMENT_TOML`, with an officer of every
    party in every role (their tokens, by party and role) and the clock stopped at :data:`NOW`
    (or moved by hand through ``clock``). The escalation clock does not run by itself: tests call
    ``app.state.service.escalator.sweep()``."""
    engine = create_engine(database_url)
    uow = SqlUnitOfWork(engine)
    init_store(uow, loads_agreement(agreement), agreement, now=NOW)
    tokens = {
        (party, role): add_officer(
            uow, party=party, name=f"{party} {role}", role=role, by=None, now=NOW
        )[1]
        for party in PARTIES
        for role in Role
    }
    app = create_app(
        Settings(database_url, tmp_path), clock=clock or (lambda: NOW), background=False
    )
    try:
        with TestClient(app, **client_options) as client:
            yield client, tokens, uow
    finally:
        engine.dispose()
