"""Track reports from OpenSky state-vector CSV (the format of OpenSky's historical data).

Columns (DESIGN.md): ``time`` (epoch s), ``icao24``, ``lat``, ``lon``, ``velocity`` (m/s),
``heading`` (deg), ``vertrate`` (m/s), ``callsign``, ``onground``, ``baroaltitude``,
``geoaltitude`` (m), optionally ``party``; other columns (``lastposupdate``, ``squawk``, …) are
ignored. ``time``, ``icao24``, ``lat`` and ``lon`` must be in the header, the others may be
missing, and any value but ``time`` and ``icao24`` may be empty (OpenSky writes NULL so): a row
without a position still updates speed or altitude. Altitude is barometric when known (that is
what separation is flown on), else geometric, else unknown. A row that cannot be read becomes a
:class:`Malformed` with its line number and reason; a header without a required column is an
:class:`InvalidInput` naming it.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator

from deconfliction.errors import InvalidInput
from deconfliction.ingest.malformed import Malformed, Unreadable, number
from deconfliction.tactical.state import TrackReport

REQUIRED = ("time", "icao24", "lat", "lon")
_ID = re.compile(r"^[0-9A-Za-z~]{1,16}$")
_PARTY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_TRUE, _FALSE = {"true", "1", "t"}, {"false", "0", "f"}


def opensky_reports(lines: Iterable[str]) -> Iterator[TrackReport | Malformed]:
    """One report (or :class:`Malformed`) per data row of an OpenSky CSV, in file order."""
    rows = csv.reader(lines)
    header = next(rows, None)
    if header is None:
        raise InvalidInput("the file is empty", field="FILE")
    column = {name.strip().lower(): k for k, name in enumerate(header)}
    missing = [name for name in REQUIRED if name not in column]
    if missing:
        raise InvalidInput(
            f"line 1: OpenSky header lacks column {missing[0]!r} (needs {', '.join(REQUIRED)})",
            field=missing[0],
        )
    for row in rows:
        line = rows.line_num
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(header):
            yield Malformed(line, f"{len(row)} fields where the header has {len(header)}")
            continue
        try:
            yield _report(row, column)
        except Unreadable as exc:
            yield Malformed(line, str(exc))


def _report(row: list[str], column: dict[str, int]) -> TrackReport:
    def get(name: str) -> str:
        k = column.get(name)
        return "" if k is None else row[k]

    time_s = number(get("time"), "time", low=0, high=7_258_118_400)
    icao24 = get("icao24").strip().lower()
    if time_s is None:
        raise Unreadable("time: empty")
    if not _ID.match(icao24):
        raise Unreadable(f"icao24: {icao24[:20]!r} is not a transponder address")
    lat = number(get("lat"), "lat", low=-90, high=90)
    lon = number(get("lon"), "lon", low=-180, high=180)
    if (lat is None) != (lon is None):
        raise Unreadable("lat and lon: one is given without the other")
    speed = number(get("velocity"), "velocity", low=0, high=1_500)
    heading = number(get("heading"), "heading", low=-360, high=360)
    baro = number(get("baroaltitude"), "baroaltitude", low=-1_000, high=100_000)
    geo = number(get("geoaltitude"), "geoaltitude", low=-1_000, high=100_000)
    return TrackReport(
        track=icao24,
        time_s=time_s,
        lat=lat,
        lon=lon,
        altitude_m=baro if baro is not None else geo,
        speed_mps=speed if heading is not None else None,
        track_deg=heading % 360 if heading is not None and speed is not None else None,
        vertical_rate_mps=number(get("vertrate"), "vertrate", low=-500, high=500),
        on_ground=_flag(get("onground")),
        party=_party(get("party")),
    )


def _flag(text: str) -> bool | None:
    t = text.strip().lower()
    if not t:
        return None
    if t in _TRUE or t in _FALSE:
        return t in _TRUE
    raise Unreadable(f"onground: {text[:20]!r} is not true or false")


def _party(text: str) -> str | None:
    t = text.strip()
    if t and not _PARTY.match(t):
        raise Unreadable(f"party: {t[:40]!r} is not a party id")
    return t or None
