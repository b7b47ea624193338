"""``deconfliction tracks scan``: exit codes, lines, and a run on real recorded traffic.

The real traffic is the Switzerland collection that the ``traffic`` package ships
(``traffic/data/samples/collections/switzerland.json.gz``): ADS-B recorded by the OpenSky
Network (https://opensky-network.org), read from the installed package, never copied here.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from deconfliction.cli import app

HEADER = "time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,baroaltitude,geoaltitude"
runner = CliRunner()


def scan(*args: str | Path) -> Any:
    return runner.invoke(app, ["tracks", "scan", *map(str, args)])


def lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def write(tmp_path: Path, *rows: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(rows) + "\n")
    return path


HEAD_ON = [  # 0.5° of longitude apart on the equator, closing at 400 m/s
    "100,aaa001,0.0,0.0,200,90,0,,False,9000,",
    "100,bbb002,0.0,0.5,200,270,0,,False,9000,",
]


def test_scan__prints_an_encounter_and_exits_1(tmp_path: Path) -> None:
    result = scan(write(tmp_path, HEADER, *HEAD_ON))
    assert result.exit_code == 1, result.output
    (line,) = lines(result.stdout)
    assert line["time"] == "1970-01-01T00:01:40Z" and (line["a"], line["b"]) == ("aaa001", "bbb002")
    assert line["tin_s"] == pytest.approx(116.0, abs=0.1) and line["los"] is False
    assert set(line) == {"time", "a", "b", "tcpa_s", "dcpa_m", "tin_s", "los"}


def test_scan__flags_override_the_minima_and_exit_0_when_clear(tmp_path: Path) -> None:
    assert scan(write(tmp_path, HEADER, *HEAD_ON), "--lookahead-s", "60").exit_code == 0


def test_scan__same_party_pairs_are_not_encounters(tmp_path: Path) -> None:
    rows = [r + ",blue" for r in HEAD_ON]
    assert scan(write(tmp_path, HEADER + ",party", *rows)).exit_code == 0
    rows[1] = HEAD_ON[1] + ",red"
    assert scan(write(tmp_path, HEADER + ",party", *rows)).exit_code == 1


def test_scan__malformed_lines_are_skipped_and_counted(tmp_path: Path) -> None:
    result = scan(write(tmp_path, HEADER, HEAD_ON[0], "100,ccc,95,0,1,1,0,,False,1,", HEAD_ON[1]))
    assert result.exit_code == 1
    assert "skipped 1 malformed lines: line 3: lat: 95 is outside" in result.stderr


@pytest.mark.parametrize(
    "rows, args, message",
    [
        (["time,icao24,lon", "1,abc123,2"], [], "'lat'"),
        (["hello"], [], "neither an OpenSky CSV header"),
        ([HEADER, "x,abc123,0,0,1,1,0,,False,1,"], [], "line 2: time: not a number"),
        ([HEADER, *HEAD_ON], ["--horizontal-m", "-1"], "--horizontal-m"),
    ],
)
def test_scan__bad_input_exits_2_naming_the_field(
    tmp_path: Path, rows: list[str], args: list[str], message: str
) -> None:
    result = scan(write(tmp_path, *rows), *args)
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_scan__a_missing_file_exits_2(tmp_path: Path) -> None:
    assert scan(tmp_path / "none.csv").exit_code == 2


def test_scan__reads_sbs_by_detection(tmp_path: Path) -> None:
    def msg3(hex_: str, lon: float) -> str:
        return f"MSG,3,1,1,{hex_},1,2024/05/01,12:00:00.000,,,,30000,,,0.0,{lon},,,0,0,0,0"

    def msg4(hex_: str, trk: int) -> str:
        return f"MSG,4,1,1,{hex_},1,2024/05/01,12:00:00.500,,,,,400,{trk},,,0,,0,0,0,0"

    path = write(tmp_path, msg3("AAAAAA", 0.0), msg4("AAAAAA", 90), msg3("BBBBBB", 0.3),
                 msg4("BBBBBB", 270), name="feed.sbs")  # fmt: skip
    result = scan(path)
    assert result.exit_code == 1
    assert [(x["a"], x["b"], x["time"]) for x in lines(result.stdout)] == [
        ("AAAAAA", "BBBBBB", "2024-05-01T12:00:01Z")
    ]


def switzerland() -> Path | None:
    spec = importlib.util.find_spec("traffic")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "data/samples/collections/switzerland.json.gz"
    return path if path.exists() else None


@pytest.mark.skipif(switzerland() is None, reason="the traffic package is not installed")
def test_scan__real_traffic_over_switzerland(tmp_path: Path) -> None:
    """Two hours of real ADS-B over Switzerland (OpenSky Network data, via the traffic package)."""
    records = json.loads(gzip.decompress(switzerland().read_bytes()))  # type: ignore[union-attr]
    start = min(r["timestamp"] for r in records)
    path = tmp_path / "switzerland.csv"
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER.split(","))
        for r in records:
            if r["timestamp"] - start < 2 * 3600_000:
                out.writerow([
                    r["timestamp"] / 1000, r["icao24"], r["latitude"], r["longitude"],
                    r["groundspeed"] * 1852 / 3600, r["track"], r["vertical_rate"] * 0.3048 / 60,
                    r["callsign"], "False", r["altitude"] * 0.3048, "",
                ])  # fmt: skip
    result = scan(path, "--step-s", "10")
    found = lines(result.stdout)
    assert result.exit_code == (1 if found else 0), result.stderr
    assert all(x["a"] < x["b"] and x["tin_s"] <= 300 and x["tin_s"] >= 0 for x in found)
    assert "malformed" not in result.stderr
