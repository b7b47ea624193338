"""The hotline against a real ``deconfliction serve`` process: delivery latency and escalation
timeliness.

    python benchmarks/hotline.py                         # SQLite, both measurements
    python benchmarks/hotline.py --only postgresql       # on a fresh PostgreSQL database
    python benchmarks/hotline.py --rate 50 --seconds 4 --open 1000   # a quick smoke run

delivery    One party's client holds the live feed (``GET /v1/feed``, server-sent events) open;
            the other party sends ROUTINE messages at ``--rate`` per second for ``--seconds``
            (paced, 8 concurrent HTTP clients). Latency: from just before each POST to the moment
            the receiving client has parsed the ``message.sent`` entry. Goal: p99 <= 50 ms at
            200 messages/s.
escalation  ``--open`` FLASH messages are stored, with deadlines spread evenly over
            ``--spread`` seconds starting ``--lead`` seconds after the service starts; nobody
            answers. The sender's client holds its feed open; lateness: from each deadline to the
            moment the sender's client has the ``message.escalated`` entry. Goal: every one within
            1 s of its deadline with 10,000 open messages.

Clients run in this process, on the same machine as the service: they take CPU from it. Results
print as a table and as JSON lines.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
from api import postgresql_database, postgresql_reachable, serving, sqlite_database
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from deconfliction.agreement import loads_agreement
from deconfliction.hotline import Kind, Precedence
from deconfliction.officers import Role
from deconfliction.service import init_store
from deconfliction.service.hotline import _open
from deconfliction.service.officers import add_officer
from deconfliction.service.recorder import Recorder
from deconfliction.store import SqlUnitOfWork, create_engine

AGREEMENT_TOML = """\
name = "hotline benchmark"
[[party]]
id = "coalition"
name = "C"
[[party]]
id = "russia"
name = "R"
[[channel]]
name = "air"
parties = ["coalition", "russia"]
"""
console = Console()


def make_store(url: str) -> dict[str, str]:
    """Initialise the store; an officer for the sender, a roster of two levels for the receiver."""
    engine = create_engine(url)
    try:
        uow = SqlUnitOfWork(engine)
        init_store(uow, loads_agreement(AGREEMENT_TOML), AGREEMENT_TOML)
        now = datetime.now(UTC)
        tokens = {}
        for party, level in (("coalition", 1), ("russia", 1), ("russia", 2)):
            _, tokens[f"{party}-{level}"] = add_officer(
                uow,
                party=party,
                name=f"{party} {level}",
                role=Role.OFFICER,
                level=level,
                by=None,
                now=now,
            )
        return tokens
    finally:
        engine.dispose()


class FeedReader:
    """A party's live feed in a thread: when each entry of ``kind`` arrived (wall clock)."""

    def __init__(self, url: str, token: str, kind: str) -> None:
        self.kind, self.arrived = kind, {}  # message id -> (arrival time, payload)
        self.ready = threading.Event()
        self._client = httpx.Client(headers={"Authorization": f"Bearer {token}"}, timeout=None)
        self._url = url
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        with (
            contextlib.suppress(httpx.HTTPError),
            self._client.stream("GET", f"{self._url}/v1/feed") as r,
        ):
            self.ready.set()
            for line in r.iter_lines():
                if line.startswith("data:"):
                    now = time.time()
                    e = orjson.loads(line[5:])
                    if e.get("kind") == self.kind:
                        at = datetime.fromisoformat(e["at"]).timestamp()
                        self.arrived[e["payload"]["id"]] = (now, at)

    def close(self) -> None:
        self._client.close()


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def delivery(url: str, rate: float, seconds: float, log_dir: Path) -> dict[str, Any]:
    tokens = make_store(url)
    n = int(rate * seconds)
    with serving(url, 1, log_dir) as (server,):
        reader = FeedReader(server.url, tokens["russia-1"], "message.sent")
        reader.ready.wait(10)
        sent_at: dict[str, float] = {}
        ids: dict[str, int] = {}
        post_s: list[float] = []
        errors: list[str] = []

        async def send_all(progress: Progress) -> float:
            task = progress.add_task("delivery", total=n)
            headers = {"Authorization": f"Bearer {tokens['coalition-1']}"}
            queue: asyncio.Queue[int] = asyncio.Queue()
            for k in range(n):
                queue.put_nowait(k)
            t0 = time.perf_counter() + 0.2

            async def client() -> None:
                async with httpx.AsyncClient(base_url=server.url, headers=headers) as http:
                    while not queue.empty():
                        k = queue.get_nowait()
                        await asyncio.sleep(max(0.0, t0 + k / rate - time.perf_counter()))
                        text = f"bench message {k}"
                        body = {"to": "russia", "text": text, "channel": "air"}
                        sent_at[text] = time.time()
                        start = time.perf_counter()
                        answer = await http.post("/v1/messages", json=body)
                        post_s.append(time.perf_counter() - start)
                        if answer.status_code == 201:
                            ids[text] = answer.json()["id"]
                        else:
                            errors.append(answer.text)
                        progress.advance(task)

            await asyncio.gather(*(client() for _ in range(8)))
            return time.perf_counter() - t0

        with Progress(console=console, transient=True) as progress:
            wall = asyncio.run(send_all(progress))
        deadline = time.monotonic() + 10
        while len(reader.arrived) < len(ids) and time.monotonic() < deadline:
            time.sleep(0.05)
        reader.close()
    latency = [
        (reader.arrived[i][0] - sent_at[text]) * 1000
        for text, i in ids.items()
        if i in reader.arrived
    ]
    # the part after the service stamped the entry (its writer's transaction began)
    after_stamp = [(t - at) * 1000 for t, at in reader.arrived.values()]
    return {
        "measure": "delivery",
        "messages": n,
        "sent_per_s": round(len(ids) / wall, 1),
        "arrived": len(latency),
        "lost": len(ids) - len(latency),
        "errors": len(errors),
        "p50_ms": round(pct(latency, 50), 2),
        "p99_ms": round(pct(latency, 99), 2),
        "max_ms": round(max(latency, default=float("nan")), 2),
        "post_p50_ms": round(pct([s * 1000 for s in post_s], 50), 2),
        "post_p99_ms": round(pct([s * 1000 for s in post_s], 99), 2),
        "stamped_p50_ms": round(pct(after_stamp, 50), 2),
        "stamped_p99_ms": round(pct(after_stamp, 99), 2),
    }


def escalation(
    url: str, n_open: int, lead_s: float, spread_s: float, log_dir: Path
) -> dict[str, Any]:
    tokens = make_store(url)
    engine = create_engine(url)
    agreement = loads_agreement(AGREEMENT_TOML)
    deadline_s = agreement.precedence["FLASH"].total_seconds()
    # sent so that the deadlines run from lead_s after now for spread_s seconds
    first = datetime.now(UTC) + timedelta(seconds=lead_s)
    started = time.perf_counter()
    uow = SqlUnitOfWork(engine)
    with uow:
        head = uow.lock_ledger()
        coalition = next(o for o in uow.officers.of_party("coalition"))
        for k in range(n_open):
            at = first - timedelta(seconds=deadline_s) + timedelta(seconds=spread_s * k / n_open)
            log = Recorder(head, at=at, actor=coalition.actor)
            _open(
                uow,
                log,
                agreement,
                now=at,
                channel="air",
                from_party="coalition",
                to="russia",
                precedence=Precedence.FLASH,
                kind=Kind.TEXT,
                text=f"open message {k}",
                sent_by=coalition.id,
                extra={},
            )
            uow.ledger.add(log.entries)
            head = type(head)(log.entries[-1].seq, log.entries[-1].hash)
        uow.commit()
    engine.dispose()
    stored_s = time.perf_counter() - started
    if (first - datetime.now(UTC)).total_seconds() < 5:
        raise SystemExit(f"storing took {stored_s:.0f} s, past --lead: give a longer --lead")
    with serving(url, 1, log_dir) as (server,):
        reader = FeedReader(server.url, tokens["coalition-1"], "message.escalated")
        reader.ready.wait(10)
        end = time.time() + max(0.0, (first - datetime.now(UTC)).total_seconds()) + spread_s + 15
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("escalation", total=n_open)
            while len(reader.arrived) < n_open and time.time() < end:
                progress.update(task, completed=len(reader.arrived))
                time.sleep(0.1)
        reader.close()
    with SqlUnitOfWork(create_engine(url)).read_only() as tx:
        sent = {
            e.payload["id"]: datetime.fromisoformat(e.payload["deadline"]).timestamp()
            for e in tx.ledger.of_kinds("coalition", ["message.sent"])
        }
        escalated_at = {
            e.payload["id"]: e.at.timestamp()
            for e in tx.ledger.of_kinds("coalition", ["message.escalated"])
        }
    late = [(t - sent[i]) * 1000 for i, (t, _) in reader.arrived.items() if i in sent]
    # the service's own part: from the deadline to the time the escalation was recorded
    swept = [(t - sent[i]) * 1000 for i, t in escalated_at.items() if i in sent]
    early = sum(1 for x in late if x < 0)
    return {
        "measure": "escalation",
        "open": n_open,
        "spread_s": spread_s,
        "stored_s": round(stored_s, 1),
        "escalated": len(late),
        "early": early,
        "p50_ms": round(pct(late, 50), 1),
        "p99_ms": round(pct(late, 99), 1),
        "max_ms": round(max(late, default=float("nan")), 1),
        "within_1s": sum(1 for x in late if 0 <= x <= 1000),
        "recorded_p50_ms": round(pct(swept, 50), 1),
        "recorded_p99_ms": round(pct(swept, 99), 1),
    }


@contextlib.contextmanager
def database(backend: str, server_url: str) -> Iterator[str]:
    if backend == "sqlite":
        with sqlite_database() as url:
            yield url
    else:
        with postgresql_database(server_url) as url:
            yield url


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--rate", type=float, default=200.0, help="messages per second [200]")
    ap.add_argument("--seconds", type=float, default=10.0, help="how long to send [10]")
    ap.add_argument("--open", type=int, default=10_000, help="open messages to escalate [10000]")
    ap.add_argument("--lead", type=float, default=45.0, help="first deadline after start, s [45]")
    ap.add_argument("--spread", type=float, default=30.0, help="deadlines spread over, s [30]")
    ap.add_argument(
        "--database-url",
        default=os.environ.get(
            "DECONFLICTION_TEST_POSTGRESQL_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        ),
        help="PostgreSQL server for --only postgresql (a fresh database is made on it)",
    )
    args = ap.parse_args()
    if args.only == "postgresql" and (problem := postgresql_reachable(args.database_url)):
        raise SystemExit(problem)
    stamp = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}",
        "backend": args.only,
    }
    results = []
    with tempfile.TemporaryDirectory(prefix="deconfliction-hotline-bench-") as tmp:
        with database(args.only, args.database_url) as url:
            results.append(delivery(url, args.rate, args.seconds, Path(tmp)))
        with database(args.only, args.database_url) as url:
            results.append(escalation(url, args.open, args.lead, args.spread, Path(tmp)))
    table = Table(title=f"hotline, {stamp['backend']}, {stamp['date']}, {stamp['machine']}")
    for key in ("measure", "count", "p50_ms", "p99_ms", "max_ms", "note"):
        table.add_column(key)
    d, e = results
    table.add_row(
        "delivery",
        str(d["messages"]),
        str(d["p50_ms"]),
        str(d["p99_ms"]),
        str(d["max_ms"]),
        f"{d['sent_per_s']}/s sent, {d['lost']} lost, {d['errors']} errors",
    )
    table.add_row(
        "escalation",
        str(e["open"]),
        str(e["p50_ms"]),
        str(e["p99_ms"]),
        str(e["max_ms"]),
        f"{e['escalated']} escalated, {e['within_1s']} within 1 s, {e['early']} early",
    )
    console.print(table)
    for r in results:
        print(json.dumps({**stamp, **r}))


if __name__ == "__main__":
    main()
