"""Real traffic replayed into a real service: ``deconfliction tracks replay`` feeds a window of
the OpenSky Network's ADS-B recording over Switzerland (shipped in the ``traffic`` package) as
two parties' feeds, and both parties see an encounter open and end on their live feeds."""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from deconfliction.agreement import loads_agreement
from deconfliction.client import Client
from deconfliction.officers import Role
from deconfliction.service import init_store
from deconfliction.service.officers import add_officer
from deconfliction.store import SqlUnitOfWork, create_engine
from service_process import Server

AGREEMENT = """\
name = "e2e replay"
[[party]]
id = "coalition"
name = "C"
[[party]]
id = "russia"
name = "R"
"""
HEADER = "time,icao24,lat,lon,velocity,heading,vertrate,callsign,onground,baroaltitude,geoaltitude"
PARTIES = ["coalition", "russia"]


def switzerland() -> Path | None:
    spec = importlib.util.find_spec("traffic")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(spec.submodule_search_locations[0]) / "data/samples/collections/switzerland.json.gz"
    return path if path.exists() else None


def to_csv(records: list[dict[str, Any]], path: Path, start_s: float, end_s: float) -> None:
    """The records within [start_s, end_s] as OpenSky state-vector CSV (SI units)."""
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(HEADER.split(","))
        for r in records:
            t = r["timestamp"] / 1000
            if start_s <= t <= end_s and r["altitude"] is not None:
                out.writerow([
                    t, r["icao24"], r["latitude"], r["longitude"],
                    (r["groundspeed"] or 0) * 1852 / 3600, r["track"] or 0,
                    (r["vertical_rate"] or 0) * 0.3048 / 60, r["callsign"], "False",
                    r["altitude"] * 0.3048, "",
                ])  # fmt: skip


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "deconfliction.cli", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
    )


def watch(url: str, token: str, seen: list[dict[str, Any]], stop: threading.Event) -> None:
    with Client(url, token) as client:
        try:
            for e in client.feed():
                if e.get("kind", "").startswith("encounter."):
                    seen.append(e)
                if stop.is_set():
                    return
        except httpx.HTTPError:
            return


@pytest.mark.skipif(switzerland() is None, reason="the traffic package is not installed")
def test_replayed_real_traffic_reaches_both_parties_as_encounters(tmp_path: Path) -> None:
    records = json.loads(gzip.decompress(switzerland().read_bytes()))  # type: ignore[union-attr]
    start = min(r["timestamp"] for r in records) / 1000
    whole = tmp_path / "whole.csv"
    to_csv(records, whole, start, start + 1800)
    scan = cli("tracks", "scan", str(whole), "--step-s", "5")
    found = [json.loads(line) for line in scan.stdout.splitlines()]
    # an encounter the replay splits between the two parties (it shares tracks out by id)
    split = [x for x in found if _share(x["a"]) != _share(x["b"])]
    assert split, "the recording has no encounter between tracks of different feeds"
    pair = (split[0]["a"], split[0]["b"])
    times = [
        datetime.fromisoformat(x["time"]).timestamp() for x in found if (x["a"], x["b"]) == pair
    ]
    window = tmp_path / "window.csv"
    to_csv(records, window, min(times) - 20, min(times) + 60)

    url = f"sqlite:///{tmp_path / 'store.db'}"
    engine = create_engine(url)
    now = datetime.now(UTC)
    init_store(SqlUnitOfWork(engine), loads_agreement(AGREEMENT), AGREEMENT, now=now)
    tokens = {
        p: add_officer(SqlUnitOfWork(engine), party=p, name=p, role=Role.OFFICER, by=None, now=now)[
            1
        ]
        for p in PARTIES
    }
    engine.dispose()
    server = Server(url, tmp_path)
    stop = threading.Event()
    seen: dict[str, list[dict[str, Any]]] = {p: [] for p in PARTIES}
    readers = [
        threading.Thread(target=watch, args=(server.url, tokens[p], seen[p], stop)) for p in PARTIES
    ]
    try:
        for r in readers:
            r.start()
        replay = cli(
            "tracks", "replay", str(window), "--speed", "2",
            *(f"--as={p}={tokens[p]}" for p in PARTIES),
            env={"DECONFLICTION_URL": server.url},
        )  # fmt: skip
        assert replay.returncode == 0, replay.stderr
        for party in PARTIES:
            with Client(server.url, tokens[party]) as client:
                mine = _of(client.encounters(), pair)
                assert mine, f"{party} was not told of {pair}"
                # the tracks fall silent after the replay: the encounter ends
                ended = _wait(lambda c=client: all(e["closed"] for e in _of(c.encounters(), pair)))
                assert ended, f"{party}: {pair} did not end"
    finally:
        stop.set()
        server.kill()
        for r in readers:
            r.join(10)
    for party in PARTIES:
        kinds = [e["kind"] for e in seen[party]]
        assert "encounter.opened" in kinds, (party, kinds)


def _of(encounters: list[dict[str, Any]], pair: tuple[str, str]) -> list[dict[str, Any]]:
    return [e for e in encounters if {e["a"]["track"], e["b"]["track"]} == set(pair)]


def _wait(probe: Any, timeout_s: float = 90.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if probe():
            return True
        time.sleep(0.5)
    return False


def _share(track: str) -> str:
    """As the replay shares tracks without a party among its feeds."""
    return PARTIES[zlib.crc32(track.encode()) % len(PARTIES)]
