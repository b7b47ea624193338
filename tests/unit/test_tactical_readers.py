"""OpenSky CSV and SBS-1 readers: good lines become reports, bad ones are counted with a reason."""

from __future__ import annotations

import asyncio

import pytest

from deconfliction.errors import InvalidInput
from deconfliction.ingest.malformed import Malformed
from deconfliction.ingest.opensky import opensky_reports
from deconfliction.ingest.sbs import sbs_reports, sbs_stream
from deconfliction.tactical.state import TrackReport, TrackTable

HEADER = "time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,baroaltitude,geoaltitude"


def test_opensky__reads_a_row_in_si_units() -> None:
    rows = [HEADER, "1533101250,3003AE,45.8,9.2,228.1,324.2,4.9,DLH8JW,False,10660.4,10900"]
    (r,) = opensky_reports(rows)
    assert r == TrackReport("3003ae", 1533101250.0, 45.8, 9.2, 10660.4, 228.1, 324.2, 4.9, False)


def test_opensky__empty_values_are_missing_not_errors() -> None:
    rows = [HEADER + ",party", "10,abc123,,,,,,,,,1200,coalition"]
    (r,) = opensky_reports(rows)
    assert isinstance(r, TrackReport)
    assert (r.lat, r.speed_mps, r.altitude_m, r.party) == (None, None, 1200.0, "coalition")


@pytest.mark.parametrize(
    "row, reason",
    [
        ("x,abc123,45,9,200,90,0,,False,9000,9000", "time: not a number"),
        ("10,abc123,95,9,200,90,0,,False,9000,9000", "lat: 95 is outside"),
        ("10,abc123,45,,200,90,0,,False,9000,9000", "one is given without the other"),
        ("10,abc123,45,9,200,90,0,,maybe,9000,9000", "onground"),
        ("10,abc123,45,9", "4 fields where the header has 11"),
        ("10,,45,9,200,90,0,,False,9000,9000", "icao24"),
        ("10,abc123,45,9,-5,90,0,,False,9000,9000", "velocity"),
    ],
)
def test_opensky__malformed_rows_name_line_and_reason(row: str, reason: str) -> None:
    good = "10,abc123,45,9,200,90,0,,False,9000,9000"
    out = list(opensky_reports([HEADER, good, row, good]))
    assert [type(o) for o in out] == [TrackReport, Malformed, TrackReport]
    assert out[1].line == 3 and reason in out[1].reason  # type: ignore[union-attr]


def test_opensky__a_header_without_a_required_column_is_bad_input() -> None:
    with pytest.raises(InvalidInput, match="'lat'") as caught:
        list(opensky_reports(["time,icao24,lon", "1,abc123,9"]))
    assert caught.value.field == "lat"


SBS = [
    "MSG,1,1,1,4CA2D6,1,2008/11/28,23:48:18.611,2008/11/28,23:53:19.161,RYR1KJ,,,,,,,,,,,0",
    "MSG,3,1,1,4CA2D6,1,2008/11/28,23:48:18.611,2008/11/28,23:53:19.161,,37000,,,51.45735,-1.02826,,,0,0,0,0",
    "MSG,4,1,1,4CA2D6,1,2008/11/28,23:48:19.000,2008/11/28,23:53:19.161,,,420,90,,,-640,,0,0,0,0",
    "STA,,5,179,400AE7,10103,2008/11/28,14:58:51.153,2008/11/28,14:58:51.153,RM",
]


def test_sbs__position_and_velocity_merge_per_hex_ident() -> None:
    out = list(sbs_reports(SBS))
    assert len(out) == 3 and all(isinstance(o, TrackReport) for o in out)
    table = TrackTable()
    for r in out:
        table.apply(r)  # type: ignore[arg-type]
    snap = table.snapshot(out[-1].time_s)  # type: ignore[union-attr]
    assert snap.ids == ["4CA2D6"]
    assert snap.kinematics.altitude_m[0] == pytest.approx(37000 * 0.3048 - 0.389 * 3.2512, 1e-3)
    assert snap.kinematics.vertical_rate_mps[0] == pytest.approx(-640 * 0.3048 / 60)
    speed = (snap.kinematics.velocity_mps[0] ** 2).sum() ** 0.5
    assert speed == pytest.approx(420 * 1852 / 3600)


@pytest.mark.parametrize(
    "line, reason",
    [
        ("MSG,9,1,1,4CA2D6,1,2008/11/28,23:48:18.611,,,,37000", "transmission type"),
        ("MSG,3,1,1,XYZ,1,2008/11/28,23:48:18.611,,,,37000", "hex ident"),
        ("MSG,3,1,1,4CA2D6,1,2008-11-28,23:48:18,,,,37000", "date and time"),
        ("MSG,3,1,1,4CA2D6,1,2008/11/28,23:48:18.611,,,,37000,,,91.0,1.0", "latitude"),
        ("MSG,3", "2 fields"),
        ("HELLO,3", "not SBS-1"),
    ],
)
def test_sbs__malformed_lines_name_line_and_reason(line: str, reason: str) -> None:
    out = list(sbs_reports([SBS[1], line]))
    assert isinstance(out[1], Malformed) and out[1].line == 2 and reason in out[1].reason


def test_track_table__drops_stale_tracks_and_skips_those_on_the_ground() -> None:
    table = TrackTable(stale_s=30)
    table.apply(TrackReport("a", 0.0, 45.0, 7.0, 9000.0, 200.0, 90.0, 0.0, False))
    table.apply(TrackReport("b", 0.0, 45.0, 7.1, 0.0, 5.0, 90.0, 0.0, True))
    table.apply(TrackReport("c", 0.0, altitude_m=9000.0))  # no position yet
    assert table.snapshot(10.0).ids == ["a"]
    assert table.snapshot(31.0).ids == [] and len(table) == 0


def test_track_table__dead_reckons_to_the_cycle_time() -> None:
    table = TrackTable()
    table.apply(TrackReport("a", 0.0, 0.0, 0.0, 9000.0, 100.0, 0.0, 5.0))
    k = table.snapshot(10.0).kinematics
    assert k.position_m[0, 2] == pytest.approx(1000.0)  # north along +z at (0°, 0°)
    assert k.altitude_m[0] == pytest.approx(9050.0)


def test_sbs_stream__reads_a_live_connection_on_loopback() -> None:
    async def run() -> list[TrackReport | Malformed]:
        async def serve(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            writer.write(("\r\n".join([*SBS, "garbage"]) + "\r\n").encode())
            await writer.drain()
            writer.close()

        server = await asyncio.start_server(serve, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            return [r async for r in sbs_stream("127.0.0.1", port)]

    out = asyncio.run(asyncio.wait_for(run(), 10))
    assert [type(o) for o in out] == [TrackReport] * 3 + [Malformed]
    assert out[-1].line == 5  # type: ignore[union-attr]
