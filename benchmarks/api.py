"""The service over HTTP: throughput and latency of ``POST /v1/notices`` with concurrent clients
against real ``deconfliction serve`` processes, then a check that nothing was lost.

    python benchmarks/api.py                                  # both backends, both scenarios
    python benchmarks/api.py --only sqlite --scenario busy    # one backend, one scenario
    python benchmarks/api.py --filings 100 --busy-filings 40  # a quick smoke run
    python benchmarks/api.py --database-url postgresql+psycopg://postgres@db.example:5432/postgres

Scenarios (single-volume circle notices, seeded; one officer per party, each client files with its
party's token; client c files notices c, c + clients, …):
  scattered  circles of 5 to 20 km radius over a 1500 × 1500 km region (benchmarks/synthetic.py's),
             2 h windows over a week, random bands; four parties: few conflicts.
  busy       every notice inside one ~1 km² cell, the same window and band, two parties
             alternating: each filing conflicts with every earlier one of the other party.
Backends, each run on a fresh store:
  sqlite      one service process on a temporary SQLite file.
  postgresql  two service processes sharing one fresh database, created on the server of
              --database-url (whose own database is used only to create and drop it); the clients
              are split between the two processes.

Clients are httpx.AsyncClient instances (one connection each, reused) run as concurrent tasks in
this process, on the same machine as the service: they take CPU from it (client_cpu_s says how
much during the timed filings; server_cpu_s is the service processes' CPU time meanwhile). Before
the timed filings each client files --warmup notices that conflict with nothing (untimed). Timed:
wall time from the first filing to the last answer; filings/s counts the 201s, latencies every
filing. Then, untimed: every notice answered 201 must be in its owner's ``GET /v1/notices``; the
conflicts in ``GET /v1/conflicts`` must be the expected ones (busy: n_a × n_b, in each party's
view; scattered: the pairs the in-process detector finds among the filed notices), each once, and
as many as the 201 answers reported. Results print as a table and as JSON lines.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import sqlalchemy as sa
from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).parent))
import synthetic
from strategic import machine

from deconfliction.agreement import Agreement, loads_agreement
from deconfliction.geo.frame import GEOD
from deconfliction.geo.volume import Circle, Volume
from deconfliction.ingest.geojson import notices_geojson
from deconfliction.officers import Role
from deconfliction.service import init_store
from deconfliction.service.officers import add_officer
from deconfliction.store import SqlUnitOfWork, create_engine
from deconfliction.strategic import detect
from deconfliction.strategic.notice import Activity, Notice

console = Console(stderr=True)

PARTIES = synthetic.PARTIES  # coalition, russia, turkey, unhas
AGREEMENT_TOML = "\n".join(
    ['name = "API benchmark"'] + [f'[[party]]\nid = "{p}"\nname = "{p}"' for p in PARTIES]
)  # default minima, no notice periods: nothing is filed late
AGREEMENT: Agreement = loads_agreement(AGREEMENT_TOML)
T0 = datetime(2027, 1, 4, tzinfo=UTC)  # a Monday; the week the notices cover
DEFAULT_PG_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"

GOALS = {"scattered": 500.0, "busy": 300.0}  # filings/s, with nothing lost
DSS_SCALE = (
    "For scale (published figures of the InterUSS DSS, not measured here): about 120–150 "
    "requests/s for non-overlapping traffic, 6–25 writes/s in one busy cell."
)
REQUEST_TIMEOUT_S = 120.0
CHECK_TIMEOUT_S = 600.0


# ---- the notices ----


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    parties: tuple[str, ...]
    make: Callable[[int, Callable[[int], str]], list[Notice]]


def scattered(n: int, party_of: Callable[[int], str], *, seed: int = 11) -> list[Notice]:
    """Circles of 5–20 km radius over the 1500 × 1500 km region, 2 h windows over a week."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-synthetic.HALF_SIDE_M, synthetic.HALF_SIDE_M, n)
    y = rng.uniform(-synthetic.HALF_SIDE_M, synthetic.HALF_SIDE_M, n)
    lon, lat, _ = GEOD.fwd(
        np.full(n, synthetic.CENTRE[0]),
        np.full(n, synthetic.CENTRE[1]),
        np.degrees(np.arctan2(x, y)),
        np.hypot(x, y),
    )
    radius = rng.uniform(5_000.0, 20_000.0, n)
    begin = rng.uniform(0.0, synthetic.WEEK_S - 7_200.0, n)
    lower = rng.uniform(0.0, 12_000.0, n)
    thick = rng.uniform(300.0, 3_000.0, n)
    out = []
    for i in range(n):
        start = T0 + timedelta(seconds=float(begin[i]))
        volume = Volume(
            Circle(float(lon[i]), float(lat[i]), float(radius[i])),
            float(lower[i]),
            float(lower[i] + thick[i]),
            start,
            start + timedelta(hours=2),
        )
        out.append(Notice(f"S-{i}", party_of(i), Activity.AIR, (volume,)))
    return out


def busy(n: int, party_of: Callable[[int], str], *, seed: int = 12) -> list[Notice]:
    """Circles of 100–150 m radius centred within 350 m of one point (all inside a 1 km square),
    the same two hours and the same band: every pair of different parties conflicts."""
    rng = np.random.default_rng(seed)
    dx, dy = rng.uniform(-350.0, 350.0, n), rng.uniform(-350.0, 350.0, n)
    lon, lat, _ = GEOD.fwd(
        np.full(n, synthetic.CENTRE[0]),
        np.full(n, synthetic.CENTRE[1]),
        np.degrees(np.arctan2(dx, dy)),
        np.hypot(dx, dy),
    )
    radius = rng.uniform(100.0, 150.0, n)
    start = T0 + timedelta(days=2, hours=6)
    return [
        Notice(
            f"B-{i}",
            party_of(i),
            Activity.AIR,
            (
                Volume(
                    Circle(float(lon[i]), float(lat[i]), float(radius[i])),
                    1_000.0,
                    2_000.0,
                    start,
                    start + timedelta(hours=2),
                ),
            ),
        )
        for i in range(n)
    ]


def warmup(n: int, party_of: Callable[[int], str]) -> list[Notice]:
    """Untimed filings that warm the service up and conflict with nothing: a month before the
    others, each in its own hour, three hours apart."""
    start = T0 - timedelta(days=30)
    return [
        Notice(
            f"W-{k}",
            party_of(k),
            Activity.AIR,
            (
                Volume(
                    Circle(*synthetic.CENTRE, 10_000.0),
                    1_000.0,
                    2_000.0,
                    start + timedelta(hours=3 * k),
                    start + timedelta(hours=3 * k + 1),
                ),
            ),
        )
        for k in range(n)
    ]


SCENARIOS = {
    "scattered": Scenario("scattered", PARTIES, scattered),
    "busy": Scenario("busy", PARTIES[:2], busy),
}


# ---- the store and the service processes ----


def make_store(url: str, parties: tuple[str, ...]) -> dict[str, str]:
    """Initialise the store on ``url`` and add one officer per party; their tokens by party."""
    engine = create_engine(url)
    try:
        uow = SqlUnitOfWork(engine)
        init_store(uow, AGREEMENT, AGREEMENT_TOML)
        now = datetime.now(UTC)
        tokens = {}
        for p in parties:
            _, tokens[p] = add_officer(
                uow, party=p, name=f"bench {p}", role=Role.OFFICER, by=None, now=now
            )
        return tokens
    finally:
        engine.dispose()


@contextlib.contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="deconfliction-api-bench-") as tmp:
        yield f"sqlite:///{Path(tmp) / 'api.db'}"


@contextlib.contextmanager
def postgresql_database(server_url: str) -> Iterator[str]:
    """A fresh database on the server of ``server_url``, dropped afterwards."""
    server = make_url(server_url)
    if server.get_backend_name() != "postgresql":
        raise SystemExit(f"--database-url must be a PostgreSQL URL, got {server_url!r}")
    if server.drivername == "postgresql":
        server = server.set(drivername="postgresql+psycopg")
    admin_url = server if server.database else server.set(database="postgres")
    name = f"deconfliction_api_bench_{os.getpid()}_{secrets.token_hex(3)}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield server.set(database=name).render_as_string(hide_password=False)
        finally:
            with admin.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    url: str
    log: Path

    def cpu_s(self) -> float:
        """User + system CPU time of the process so far (Linux /proc; 0 elsewhere)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def serving(database_url: str, count: int, log_dir: Path) -> Iterator[list[Server]]:
    """``count`` service processes on ``database_url``, ready (GET /health answered); stopped
    after."""
    servers: list[Server] = []
    try:
        for k in range(count):
            port = free_port()
            log = log_dir / f"serve-{k}.log"
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [
                        *(sys.executable, "-m", "deconfliction.cli", "serve"),
                        *("--database-url", database_url, "--port", str(port)),
                    ],
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            servers.append(Server(proc, f"http://127.0.0.1:{port}", log))
        for s in servers:
            wait_ready(s)
        yield servers
    finally:
        for s in servers:
            if s.proc.poll() is None:
                s.proc.terminate()
        for s in servers:
            try:
                s.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                s.proc.kill()
                s.proc.wait()


def wait_ready(server: Server, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise SystemExit(
                f"`deconfliction serve` exited with {server.proc.returncode}:\n"
                + server.log.read_text(errors="replace")
            )
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{server.url}/health", timeout=1.0).status_code == 200:
                return
        time.sleep(0.1)
    raise SystemExit(f"{server.url} did not answer /health within {timeout_s:.0f} s")


# ---- the load ----


@dataclass
class Outcome:
    """What the clients saw: each filing's latency, and for the 201s the stored notice id."""

    latency_s: list[float] = field(default_factory=list)  # every filing, in the order answered
    ok_latency_s: list[float] = field(default_factory=list)  # the 201s, in the order answered
    ids: dict[int, int] = field(default_factory=dict)  # notice index -> stored notice id
    answered_conflicts: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    first_error: dict[str, str] = field(default_factory=dict)
    wall_s: float = 0.0
    cpu_s: float = 0.0  # CPU time of this (the clients') process meanwhile
    server_cpu_s: float = 0.0  # and of the service processes


async def load(
    warm: list[bytes],
    bodies: list[bytes],
    client_server: list[str],
    client_token: list[str],
    advance: Callable[[], None],
    server_cpu: Callable[[], float],
) -> tuple[Outcome, Outcome]:
    """File ``warm`` (untimed), then ``bodies`` (timed), with one client per entry of
    ``client_server``: client c files c, c + C, … of each, all clients at once, each on its one
    connection. Indices of ``bodies`` come after those of ``warm`` in the outcomes' ``ids``."""
    clients = len(client_server)
    async with contextlib.AsyncExitStack() as stack:
        https = [
            await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=client_server[c],
                    headers={
                        "Authorization": f"Bearer {client_token[c]}",
                        "Content-Type": "application/json",
                    },
                    limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                    timeout=REQUEST_TIMEOUT_S,
                )
            )
            for c in range(clients)
        ]
        await asyncio.gather(*(h.get("/health") for h in https))  # open the connections

        async def phase(items: list[bytes], offset: int, tick: Callable[[], None]) -> Outcome:
            out = Outcome()

            async def client(c: int) -> None:
                http = https[c]
                for i in range(c, len(items), clients):
                    t = time.perf_counter()
                    try:
                        r = await http.post("/v1/notices", content=items[i])
                    except httpx.HTTPError as exc:
                        status, detail = type(exc).__name__, str(exc)
                    else:
                        status, detail = str(r.status_code), r.text[:300]
                        if r.status_code == 201:
                            answer = orjson.loads(r.content)
                            out.ids[offset + i] = int(answer["notice"]["id"])
                            out.answered_conflicts += len(answer["conflicts"])
                    took = time.perf_counter() - t
                    out.latency_s.append(took)
                    if status == "201":
                        out.ok_latency_s.append(took)
                    else:
                        out.errors[status] += 1
                        out.first_error.setdefault(status, detail)
                    tick()

            t0, cpu0, server0 = time.perf_counter(), time.process_time(), server_cpu()
            await asyncio.gather(*(client(c) for c in range(clients)))
            out.wall_s = time.perf_counter() - t0
            out.cpu_s = time.process_time() - cpu0
            out.server_cpu_s = server_cpu() - server0
            return out

        warmed = await phase(warm, 0, lambda: None)
        timed = await phase(bodies, len(warm), advance)
    return warmed, timed


# ---- the check ----


def get_json(url: str, token: str, path: str) -> Any:
    r = httpx.get(
        f"{url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=CHECK_TIMEOUT_S
    )
    r.raise_for_status()
    return orjson.loads(r.content)


def verify(
    scenario: Scenario,
    notices: list[Notice],
    out: Outcome,
    measured: range,
    servers: list[Server],
    tokens: dict[str, str],
) -> dict[str, object]:
    """Every 201 notice in its owner's GET /v1/notices; the stored conflicts the expected ones.

    ``notices`` are all those filed, warm-up included; ``measured`` the indices of the timed ones.
    """
    filed = {i: notices[i] for i in out.ids}
    lost = 0
    unanswered_stored = 0
    conflicts: dict[int, dict[str, Any]] = {}
    per_party: dict[str, int] = {}
    for k, party in enumerate(scenario.parties):
        url = servers[k % len(servers)].url  # read through every process when there are several
        seen = {n["id"]: n for n in get_json(url, tokens[party], "/v1/notices")}
        mine = {i: nid for i, nid in out.ids.items() if notices[i].party == party}
        for i, nid in mine.items():
            got = seen.get(nid)
            if got is None or got["ref"] != notices[i].ref or got["party"] != party:
                lost += 1
        answered = set(mine.values())
        unanswered_stored += sum(
            1 for nid, n in seen.items() if n["party"] == party and nid not in answered
        )
        view = get_json(url, tokens[party], "/v1/conflicts")
        per_party[party] = len(view)
        conflicts.update((c["id"], c) for c in view)
    pairs = [
        frozenset(((c["a"]["party"], c["a"]["notice"]), (c["b"]["party"], c["b"]["notice"])))
        for c in conflicts.values()
    ]
    result: dict[str, object] = {
        "lost": lost,
        "stored_unanswered": unanswered_stored,
        "conflicts": len(conflicts),
        "duplicate_conflicts": len(pairs) - len(set(pairs)),
        "answered_conflicts": out.answered_conflicts,
    }
    if scenario.name == "busy":
        count = Counter(n.party for i, n in filed.items() if i in measured)
        a, b = scenario.parties
        expected = count[a] * count[b]
        result["expected_conflicts"] = expected
        result["conflicts_seen_by"] = per_party
        ok = all(v == expected for v in per_party.values()) and len(conflicts) == expected
    else:
        found = detect.find_conflicts(
            detect.prepare_many(list(filed.values())), AGREEMENT.separation
        )
        want = {frozenset(((c.a.party, c.a.notice), (c.b.party, c.b.notice))) for c in found}
        got = set(pairs)
        result["expected_conflicts"] = len(want)
        result["missing_conflicts"] = len(want - got)
        result["extra_conflicts"] = len(got - want)
        ok = want == got and len(pairs) == len(got)
    result["nothing_lost"] = (
        lost == 0
        and unanswered_stored == 0
        and ok
        and result["duplicate_conflicts"] == 0
        and out.answered_conflicts == len(conflicts)
    )
    return result


# ---- one run ----


def ms(values: list[float], q: float) -> float:
    return round(float(np.percentile(np.array(values) * 1e3, q)), 2) if values else math.nan


def run(
    backend: str,
    scenario: Scenario,
    filings: int,
    clients: int,
    pg_server: str,
    warmup_per_client: int,
    progress: Progress,
) -> dict[str, object]:
    parties = scenario.parties

    def party_of(i: int) -> str:  # client c files notices c, c + clients, …
        return parties[(i % clients) % len(parties)]

    warm = warmup(warmup_per_client * clients, party_of)
    timed = scenario.make(filings, party_of)
    notices = warm + timed
    bodies = [orjson.dumps(notices_geojson([n])) for n in notices]
    n_servers = 1 if backend == "sqlite" else 2
    database = sqlite_database() if backend == "sqlite" else postgresql_database(pg_server)
    task = progress.add_task(f"{backend} {scenario.name}: starting", total=filings)
    with (
        database as url,
        tempfile.TemporaryDirectory(prefix="deconfliction-api-logs-") as logs,
    ):
        tokens = make_store(url, parties)
        with serving(url, n_servers, Path(logs)) as servers:
            # client c is of party c % P and talks to process (c // P) % S: each process gets
            # clients of every party
            client_server = [servers[(c // len(parties)) % n_servers].url for c in range(clients)]
            client_token = [tokens[parties[c % len(parties)]] for c in range(clients)]
            progress.update(task, description=f"{backend} {scenario.name}: filing")
            warmed, out = asyncio.run(
                load(
                    bodies[: len(warm)],
                    bodies[len(warm) :],
                    client_server,
                    client_token,
                    lambda: progress.advance(task),
                    lambda: sum(s.cpu_s() for s in servers),
                )
            )
            progress.update(task, description=f"{backend} {scenario.name}: checking")
            everything = Outcome(
                ids={**warmed.ids, **out.ids},
                answered_conflicts=warmed.answered_conflicts + out.answered_conflicts,
            )
            measured = range(len(warm), len(notices))
            try:
                checked = verify(scenario, notices, everything, measured, servers, tokens)
            except httpx.HTTPError as exc:  # the service died or refused: say so, keep going
                checked = {"nothing_lost": False, "check_failed": f"{type(exc).__name__}: {exc}"}
            alive = all(s.proc.poll() is None for s in servers)
        log_text = "\n".join(s.log.read_text(errors="replace") for s in servers).strip()
    progress.remove_task(task)
    if log_text:
        console.print(f"[yellow]{backend} {scenario.name}: the service logged:[/]")
        console.print(log_text[-3000:], markup=False, highlight=False)
    if warmed.errors:
        console.print(f"[yellow]{backend} {scenario.name}: warm-up errors:[/] {warmed.errors}")
    for status, detail in out.first_error.items():
        console.print(
            f"[yellow]{backend} {scenario.name}: first {status}:[/] {detail}", highlight=False
        )
    ok = len(out.ids)
    rate = ok / out.wall_s if out.wall_s else 0.0
    tenth = max(1, ok // 10)
    goal = GOALS[scenario.name]
    return {
        "part": "api",
        "backend": backend,
        "processes": n_servers,
        "scenario": scenario.name,
        "parties": len(parties),
        "clients": clients,
        "warmup_filings": len(warm),
        "filings": filings,
        "ok": ok,
        "errors": dict(out.errors),
        "wall_s": round(out.wall_s, 2),
        "filings_per_s": round(rate, 1),
        "p50_ms": ms(out.latency_s, 50),
        "p99_ms": ms(out.latency_s, 99),
        "max_ms": round(max(out.latency_s) * 1e3, 2) if out.latency_s else math.nan,
        "p50_first_tenth_ms": ms(out.ok_latency_s[:tenth], 50),
        "p50_last_tenth_ms": ms(out.ok_latency_s[-tenth:], 50),
        "client_cpu_s": round(out.cpu_s, 2),
        "server_cpu_s": round(out.server_cpu_s, 2),
        **checked,
        "service_logged_lines": len(log_text.splitlines()),
        "service_alive": alive,
        "goal_filings_per_s": goal,
        "goal_met": rate >= goal and bool(checked["nothing_lost"]) and not out.errors,
    }


# ---- main ----


def postgresql_reachable(server_url: str) -> str | None:
    """None when the server answers, else why not."""
    try:
        url = make_url(server_url)
        if url.drivername == "postgresql":
            url = url.set(drivername="postgresql+psycopg")
        engine = sa.create_engine(url if url.database else url.set(database="postgres"))
        try:
            with engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        finally:
            engine.dispose()
    except Exception as exc:  # any failure to connect means: skip with the reason
        return str(exc).strip().splitlines()[0]
    return None


def table(results: list[dict[str, object]], stamp: dict[str, str]) -> Table:
    t = Table(
        title=f"API filing benchmark — {stamp['date']} — {stamp['machine']}",
        caption=DSS_SCALE,
        caption_justify="left",
    )
    for name in ("backend", "scenario", "filings/s", "goal", "p50 ms", "p99 ms", "errors"):
        t.add_column(name, justify="right" if name in ("filings/s", "p50 ms", "p99 ms") else "left")
    t.add_column("nothing lost?")
    for r in results:
        errors = r["errors"]
        assert isinstance(errors, dict)
        lost = (
            f"check failed: {r['check_failed']}"
            if "check_failed" in r
            else f"{r['lost']} lost; conflicts {r['conflicts']:,}, expected "
            f"{r['expected_conflicts']:,}"
        )
        t.add_row(
            f"{r['backend']} ×{r['processes']}",
            f"{r['scenario']} ({r['ok']:,} of {r['filings']:,})",
            f"{r['filings_per_s']:,}",
            f"≥ {r['goal_filings_per_s']:.0f}: "
            + ("[green]met[/]" if r["goal_met"] else "[red]not met[/]"),
            f"{r['p50_ms']}",
            f"{r['p99_ms']}",
            ", ".join(f"{k}: {v}" for k, v in errors.items()) or "none",
            ("[green]yes[/] " if r["nothing_lost"] else "[red]NO[/] ") + lost,
        )
    return t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", choices=["sqlite", "postgresql"], help="one backend")
    ap.add_argument("--scenario", choices=list(SCENARIOS), help="one scenario")
    ap.add_argument("--filings", type=int, default=2_000, help="scattered filings [2000]")
    ap.add_argument("--busy-filings", type=int, default=500, help="busy-cell filings [500]")
    ap.add_argument("--clients", type=int, default=16, help="concurrent clients [16]")
    ap.add_argument(
        "--warmup",
        type=int,
        default=2,
        help="untimed filings per client before each run, conflicting with nothing [2]",
    )
    ap.add_argument(
        "--database-url",
        default=DEFAULT_PG_SERVER,
        help="PostgreSQL server to create a fresh database on for each run (dropped after); "
        "its own database is used only for that\n[%(default)s]",
    )
    args = ap.parse_args()
    if args.clients < 2 or args.filings < 1 or args.busy_filings < 1 or args.warmup < 0:
        ap.error("--clients needs at least 2, the filings at least 1, --warmup at least 0")
    backends = [args.only] if args.only else ["sqlite", "postgresql"]
    if "postgresql" in backends and (why := postgresql_reachable(args.database_url)):
        if args.only:
            raise SystemExit(f"PostgreSQL at {args.database_url} does not answer: {why}")
        console.print(f"[yellow]skipping PostgreSQL[/] ({args.database_url}: {why})")
        backends.remove("postgresql")
    scenarios = [args.scenario] if args.scenario else list(SCENARIOS)
    sizes = {"scattered": args.filings, "busy": args.busy_filings}
    results = []
    with Progress(console=console, transient=True) as progress:
        for backend in backends:
            for name in scenarios:
                results.append(
                    run(
                        backend,
                        SCENARIOS[name],
                        sizes[name],
                        args.clients,
                        args.database_url,
                        args.warmup,
                        progress,
                    )
                )
    stamp = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine()}
    out = Console() if sys.stdout.isatty() else Console(width=140)
    out.print(table(results, stamp))
    for r in results:
        print(json.dumps({**stamp, **r}))


if __name__ == "__main__":
    main()
