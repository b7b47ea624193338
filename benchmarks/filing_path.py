"""The filing path alone, in process: the busy cell of ``benchmarks/api.py`` filed through
:func:`file_each` in batches (what one service process's filer does under the ledger lock), with
no HTTP, no clients and no second process, so that a change to the path shows through less noise.

    python benchmarks/filing_path.py              # PostgreSQL, 500 filings, batches of 8
    python benchmarks/filing_path.py --backend sqlite --repeat 5
    PYTHONPATH=/path/to/other/tree/src python benchmarks/filing_path.py   # another tree's code

Each repeat runs on a fresh store (a temporary SQLite file, or a database created on the server
of --database-url and dropped afterwards). Timed: from the first batch to the last commit; wall
time and this process's CPU time (the filer's work; PostgreSQL's own is not in it). Afterwards the
store must hold every expected conflict (n_a × n_b), or the run fails.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).parent))
import api
from strategic import machine

from deconfliction.service.use_cases import file_each, prepare_filing
from deconfliction.store import SqlUnitOfWork, create_engine
from deconfliction.store.tables import conflict

PARTIES = ("coalition", "russia")


def run(url: str, filings: int, batch: int) -> dict[str, float]:
    api.make_store(url, PARTIES)
    notices = api.busy(filings, lambda i: PARTIES[i % 2])
    now = datetime.now(UTC)
    prepared = [prepare_filing([n], api.AGREEMENT, now=now) for n in notices]
    engine = create_engine(url)
    try:
        uow = SqlUnitOfWork(engine)
        wall, cpu = time.perf_counter(), time.process_time()
        for lo in range(0, filings, batch):
            file_each(uow, prepared[lo : lo + batch], api.AGREEMENT, now=now)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        with engine.connect() as conn:
            stored = conn.execute(sa.select(sa.func.count()).select_from(conflict)).scalar_one()
    finally:
        engine.dispose()
    expected = (filings - filings // 2) * (filings // 2)
    if stored != expected:
        raise SystemExit(f"{stored} conflicts stored, {expected} expected")
    return {"wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "conflicts": stored}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["sqlite", "postgresql"], default="postgresql")
    ap.add_argument("--database-url", default=api.DEFAULT_PG_SERVER, help="PostgreSQL server")
    ap.add_argument("--filings", type=int, default=500, help="busy-cell filings [500]")
    ap.add_argument("--batch", type=int, default=8, help="filings per transaction [8]")
    ap.add_argument("--repeat", type=int, default=3, help="runs, each on a fresh store [3]")
    args = ap.parse_args()
    stamp = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine()}
    for _ in range(args.repeat):
        if args.backend == "sqlite":
            with api.sqlite_database() as url:
                result = run(url, args.filings, args.batch)
        else:
            with api.postgresql_database(args.database_url) as url:
                result = run(url, args.filings, args.batch)
        line = {**stamp, "part": "filing_path", "backend": args.backend, **vars(args), **result}
        line.pop("database_url")
        print(json.dumps(line), flush=True)


if __name__ == "__main__":
    main()
