"""The demo: a throwaway store with two parties, an admin for each and synthetic notices over
Syria that start within the next day, so that a new user sees conflicts at once.

Everything is generated (seeded), nothing is read from outside the package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from deconfliction.agreement import loads_agreement
from deconfliction.geo.frame import GEOD
from deconfliction.geo.volume import Circle, Outline, Polygon, Volume
from deconfliction.officers import Officer, Role
from deconfliction.service import file_notices, init_store
from deconfliction.service.officers import add_officer
from deconfliction.service.ports import UnitOfWork
from deconfliction.strategic.notice import Activity, Notice

AGREEMENT = """\
# The demo's agreement: two parties sharing the skies over Syria (synthetic).
name = "Memorandum on flight safety (demo)"

[[party]]
id = "coalition"
name = "Combined Air Operations Center"

[[party]]
id = "russia"
name = "Air group command"

[separation]
horizontal_m = 18520  # 10 NM
vertical_m = 609.6    # 2000 ft
time_s = 900

[notice_period]
air = "PT1H"
ground = "PT6H"

[[channel]]
name = "air"
parties = ["coalition", "russia"]

[[channel]]
name = "command"
parties = ["coalition", "russia"]
"""

BASES = {"coalition": (40.9, 36.4), "russia": (35.9, 35.4)}  # where each party's flights start
AREA = (38.0, 35.2)  # where they meet


@dataclass(frozen=True, slots=True)
class Demo:
    officers: dict[str, tuple[Officer, str]]  # party -> (admin, token)
    notices: int
    conflicts: int


def set_up(uow: UnitOfWork, *, now: datetime, notices_per_party: int = 12, seed: int = 1) -> Demo:
    """Initialise the store, add an admin per party and file the sample notices as them."""
    agreement = loads_agreement(AGREEMENT)
    init_store(uow, agreement, AGREEMENT, now=now)
    officers = {
        p.id: add_officer(
            uow, party=p.id, name=f"{p.name} duty officer", role=Role.ADMIN, by=None, now=now
        )
        for p in agreement.parties
    }
    rng = np.random.default_rng(seed)
    conflicts = 0
    for k in range(notices_per_party):
        for party, (admin, _) in officers.items():
            notice = _notice(rng, party, k, now)
            conflicts += len(file_notices(uow, [notice], agreement, now=now, by=admin).conflicts)
    return Demo(officers, notices_per_party * len(officers), conflicts)


def _notice(rng: np.random.Generator, party: str, k: int, now: datetime) -> Notice:
    """A sortie from the party's base towards the shared area: a route box and a working area."""
    base = BASES[party]
    lon = AREA[0] + float(rng.normal(0.0, 0.6))
    lat = AREA[1] + float(rng.normal(0.0, 0.4))
    start = now + timedelta(hours=2 + float(rng.uniform(0.0, 20.0)))
    start = start.replace(second=0, microsecond=0)
    lower = float(rng.choice([1500.0, 3000.0, 4500.0, 6000.0]))
    work: Outline = Circle(lon, lat, float(rng.uniform(8_000.0, 25_000.0)))
    if k % 3 == 0:
        az = float(rng.uniform(0.0, 360.0))
        corners = GEOD.fwd(
            np.full(4, lon), np.full(4, lat), az + np.arange(4) * 90.0, np.full(4, 30_000.0)
        )
        work = Polygon(tuple(zip(corners[0].tolist(), corners[1].tolist(), strict=True)))
    route = Circle((base[0] + lon) / 2, (base[1] + lat) / 2, float(rng.uniform(20_000.0, 40_000.0)))
    volumes = (
        Volume(route, lower, lower + 1500.0, start, start + timedelta(minutes=40)),
        Volume(
            work, lower, lower + 2000.0, start + timedelta(minutes=30), start + timedelta(hours=2)
        ),
    )
    prefix = "C" if party == "coalition" else "R"
    return Notice(f"{prefix}-{100 + k}", party, Activity.AIR, volumes, remarks="demo sortie")
