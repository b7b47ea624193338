"""Track reports from SBS-1 (BaseStation) text, as dump1090 serves on TCP port 30003.

Each ``MSG`` line carries part of one aircraft's state, keyed by its hex ident (field 5):
type 3 the airborne position and altitude, type 4 the ground speed, track and vertical rate,
types 2, 5, 6 and 7 altitude or surface position, and types 1 and 8 nothing a track needs but
that the aircraft is alive. The parts become partial :class:`TrackReport` values that the
:class:`~deconfliction.tactical.state.TrackTable` merges per hex ident. Units at this edge are
feet, knots and feet per minute; they leave as metres, m/s. Times are the "generated" date and
time (fields 7 and 8), read as UTC (dump1090 and readsb write UTC unless told otherwise), else
the "logged" ones. Other record types (SEL, ID, AIR, STA, CLK) are valid but carry no state
and are passed over; a line that cannot be read becomes a :class:`Malformed`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterable, Iterator
from datetime import UTC, datetime

from deconfliction.geo.volume import FT_M
from deconfliction.ingest.malformed import Malformed, Unreadable, number
from deconfliction.tactical.state import TrackReport

PORT = 30003
KT_MPS = 1852.0 / 3600.0
FPM_MPS = FT_M / 60.0
FIELDS = 22
_HEX = re.compile(r"^~?[0-9A-Fa-f]{6}$")
_OTHER = {"SEL", "ID", "AIR", "STA", "CLK"}


def sbs_reports(lines: Iterable[str]) -> Iterator[TrackReport | Malformed]:
    """One report or :class:`Malformed` per ``MSG`` line; other records and blank lines skipped."""
    for number_, text in enumerate(lines, start=1):
        parsed = parse_sbs_line(text, number_)
        if parsed is not None:
            yield parsed


def parse_sbs_line(text: str, line: int) -> TrackReport | Malformed | None:
    """Read one line: a report, a :class:`Malformed`, or ``None`` for a line with no state."""
    fields = text.rstrip("\r\n").split(",")
    kind = fields[0].strip()
    if kind != "MSG":
        if kind in _OTHER or not text.strip():
            return None
        return Malformed(line, f"record type {kind[:10]!r} is not SBS-1 (MSG, SEL, ID, …)")
    if not 10 <= len(fields) <= FIELDS:
        return Malformed(line, f"{len(fields)} fields, expected {FIELDS}")
    fields += [""] * (FIELDS - len(fields))
    try:
        return _report(fields)
    except Unreadable as exc:
        return Malformed(line, str(exc))


def _report(f: list[str]) -> TrackReport:
    kind = f[1].strip()
    if kind not in {"1", "2", "3", "4", "5", "6", "7", "8"}:
        raise Unreadable(f"transmission type {kind[:10]!r} is not 1 to 8")
    hex_ident = f[4].strip()
    if not _HEX.match(hex_ident):
        raise Unreadable(f"hex ident {hex_ident[:20]!r} is not six hex digits")
    lat = number(f[14], "latitude", low=-90, high=90)
    lon = number(f[15], "longitude", low=-180, high=180)
    if (lat is None) != (lon is None):
        raise Unreadable("latitude and longitude: one is given without the other")
    alt_ft = number(f[11], "altitude", low=-5_000, high=330_000)
    gs_kt = number(f[12], "ground speed", low=0, high=3_000)
    trk = number(f[13], "track", low=-360, high=360)
    vr_fpm = number(f[16], "vertical rate", low=-100_000, high=100_000)
    return TrackReport(
        track=hex_ident.upper(),
        time_s=_time(f[6], f[7]) if f[6].strip() else _time(f[8], f[9]),
        lat=lat,
        lon=lon,
        altitude_m=None if alt_ft is None else alt_ft * FT_M,
        speed_mps=None if gs_kt is None or trk is None else gs_kt * KT_MPS,
        track_deg=None if gs_kt is None or trk is None else trk % 360,
        vertical_rate_mps=None if vr_fpm is None else vr_fpm * FPM_MPS,
        on_ground=_flag(f[21]),
    )


def _time(date: str, clock: str) -> float:
    text = f"{date.strip()} {clock.strip()}"
    for pattern in ("%Y/%m/%d %H:%M:%S.%f", "%Y/%m/%d %H:%M:%S"):
        try:
            return datetime.strptime(text, pattern).replace(tzinfo=UTC).timestamp()
        except ValueError:
            continue
    raise Unreadable(f"date and time: {text[:40]!r} is not YYYY/MM/DD HH:MM:SS.sss")


def _flag(text: str) -> bool | None:
    t = text.strip()
    if not t:
        return None
    if t in {"-1", "1", "0"}:
        return t != "0"
    raise Unreadable(f"is-on-ground: {t[:10]!r} is not -1 or 0")


async def sbs_stream(host: str, port: int = PORT) -> AsyncIterator[TrackReport | Malformed]:
    """Reports from a live SBS-1 server (dump1090's port 30003), until it closes the connection.

    Lines are numbered from the start of the connection. Cancel the iteration to stop; the
    connection is closed either way.
    """
    reader, writer = await asyncio.open_connection(host, port)
    try:
        line = 0
        while raw := await reader.readline():
            line += 1
            parsed = parse_sbs_line(raw.decode("ascii", errors="replace"), line)
            if parsed is not None:
                yield parsed
    finally:
        writer.close()
        await writer.wait_closed()
