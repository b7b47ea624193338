"""The service as real processes: the live feed over HTTP, ``kill -9`` after an answered write,
and two service processes filing on one database at the same moment."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from deconfliction.agreement import loads_agreement
from deconfliction.officers import Role
from deconfliction.service import init_store
from deconfliction.service.officers import add_officer
from deconfliction.store import SqlUnitOfWork, create_engine
from service_process import Server

AGREEMENT = """\
name = "e2e"
[[party]]
id = "coalition"
name = "C"
[[party]]
id = "russia"
name = "R"
[[party]]
id = "turkey"
name = "T"
"""
START = datetime.now(UTC).replace(microsecond=0) + timedelta(days=2)


@pytest.fixture
def store(database_url: str) -> Iterator[tuple[str, dict[str, str]]]:
    """An initialised store and an officer token per party."""
    engine = create_engine(database_url)
    uow = SqlUnitOfWork(engine)
    init_store(uow, loads_agreement(AGREEMENT), AGREEMENT)
    now = datetime.now(UTC)
    tokens = {
        p: add_officer(uow, party=p, name=p, role=Role.OFFICER, by=None, now=now)[1]
        for p in ("coalition", "russia", "turkey")
    }
    engine.dispose()
    yield database_url, tokens


def notice(ref: str, lon: float = 38.5) -> dict[str, Any]:
    props = {
        "notice": ref,
        "activity": "air",
        "radius_m": 10_000,
        "start": START.isoformat().replace("+00:00", "Z"),
        "end": (START + timedelta(hours=2)).isoformat().replace("+00:00", "Z"),
        "lower_m": 3000,
        "upper_m": 6000,
    }
    geometry = {"type": "Point", "coordinates": [lon, 35.0]}
    return {
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "geometry": geometry, "properties": props}],
    }


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def read_feed(
    url: str, token: str, until: str, *, last_id: str | None = None
) -> list[dict[str, Any]]:
    """Server-sent events from the feed until an entry of kind ``until`` arrives."""
    headers = bearer(token) | ({"Last-Event-ID": last_id} if last_id else {})
    seen: list[dict[str, Any]] = []
    with httpx.stream("GET", f"{url}/v1/feed", headers=headers, timeout=20) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            if line.startswith("data:"):
                seen.append(json.loads(line[5:]))
                if seen[-1].get("kind") == until:
                    return seen
    raise AssertionError(f"the feed ended before a {until} entry: {seen}")


def test_the_feed_brings_a_new_conflict_to_both_parties_and_resumes(
    store: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, tokens = store
    server = Server(url, tmp_path)
    try:
        got: dict[str, list[dict[str, Any]]] = {}
        readers = [
            threading.Thread(
                target=lambda p=p: got.__setitem__(
                    p, read_feed(server.url, tokens[p], "conflict.found")
                )
            )
            for p in ("coalition", "russia")
        ]
        for r in readers:
            r.start()
        time.sleep(0.5)
        for party, ref in (("coalition", "C-1"), ("russia", "R-1")):
            filed = httpx.post(
                f"{server.url}/v1/notices", json=notice(ref), headers=bearer(tokens[party])
            )
            assert filed.status_code == 201, filed.text
        for r in readers:
            r.join(20)
        for party in ("coalition", "russia"):
            assert got[party][-1]["kind"] == "conflict.found"
        # a third party's feed carries the same chain, the conflict only as a stub
        # (up to the conflict: the hotline messages it opened for both parties follow it)
        last = got["russia"][-1]["seq"]
        third = httpx.get(f"{server.url}/v1/events", headers=bearer(tokens["turkey"])).json()
        assert [e["seq"] for e in third if e["seq"] <= last] == [e["seq"] for e in got["russia"]]
        assert all(e.get("stub") is True for e in third if e["seq"] >= last)
        # resuming after an entry brings exactly the entries after it
        middle = got["russia"][1]["seq"]
        again = read_feed(server.url, tokens["russia"], "conflict.found", last_id=str(middle))
        assert [e["seq"] for e in again] == [e["seq"] for e in got["russia"] if e["seq"] > middle]
    finally:
        server.kill()


def test_an_answered_write_survives_kill_9(
    store: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, tokens = store
    server = Server(url, tmp_path)
    try:
        for k in range(20):
            answer = httpx.post(
                f"{server.url}/v1/notices",
                json=notice(f"C-{k}", 30 + k),
                headers=bearer(tokens["coalition"]),
            )
            assert answer.status_code == 201
    finally:
        server.kill()  # SIGKILL right after the last 201: no shutdown, no flush
    server = Server(url, tmp_path)
    try:
        stored = httpx.get(f"{server.url}/v1/notices", headers=bearer(tokens["coalition"])).json()
        assert sorted(n["ref"] for n in stored) == sorted(f"C-{k}" for k in range(20))
    finally:
        server.kill()


def test_two_service_processes_filing_at_once_always_record_the_conflict(
    store: tuple[str, dict[str, str]], tmp_path: Path
) -> None:
    url, tokens = store
    servers = [Server(url, tmp_path), Server(url, tmp_path)]
    try:
        rounds = 15
        for k in range(rounds):
            barrier = threading.Barrier(2)
            answers: list[int] = []

            def file(
                server: Server,
                party: str,
                ref: str,
                lon: float,
                barrier: threading.Barrier = barrier,
                answers: list[int] = answers,
            ) -> None:
                barrier.wait(10)
                r = httpx.post(
                    f"{server.url}/v1/notices", json=notice(ref, lon), headers=bearer(tokens[party])
                )
                answers.append(r.status_code)

            lon = -60.0 + 8 * k  # each round far from the others
            pair = [
                threading.Thread(target=file, args=(servers[0], "coalition", f"C-{k}", lon)),
                threading.Thread(target=file, args=(servers[1], "russia", f"R-{k}", lon + 0.05)),
            ]
            for t in pair:
                t.start()
            for t in pair:
                t.join(30)
            assert answers == [201, 201]
        for party in ("coalition", "russia"):
            conflicts = httpx.get(
                f"{servers[0].url}/v1/conflicts", headers=bearer(tokens[party])
            ).json()
            assert len(conflicts) == rounds
    finally:
        for s in servers:
            s.kill()
