"""Helpers for the console's browser tests: the agreement, a notice to file through the API and
Chromium's flags (the service process is ``tests/service_process.py``'s, restartable on the same
port to cut the live feed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ARTIFACTS = Path(__file__).parent / "artifacts"
AGREEMENT = """\
name = "browser"
[[party]]
id = "coalition"
name = "Combined Air Operations Center"
[[party]]
id = "russia"
name = "Air group command"
[separation]
horizontal_m = 18520
vertical_m = 609.6
time_s = 900
[notice_period]
air = "PT1H"
"""
START = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
CHROMIUM_ARGS = [  # no calls home: this machine's network is closed
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def notice(ref: str, *, lon: float, lat: float, radius_m: float = 20_000) -> dict[str, Any]:
    """A circle from :data:`START` for two hours, 3,000 to 6,000 m."""
    props = {
        "notice": ref,
        "activity": "air",
        "radius_m": radius_m,
        "start": START.isoformat().replace("+00:00", "Z"),
        "end": (START + timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
        "lower_m": 3000,
        "upper_m": 6000,
    }
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "properties": props,
            }
        ],
    }
