"""The store at scale: import N stored volumes, then check-and-store new notices one at a time.

    python benchmarks/store_bench.py --volumes 1000000 --filings 2000
    python benchmarks/store_bench.py --database-url postgresql+psycopg://postgres@127.0.0.1/bench

Also run by ``benchmarks/strategic.py --only store``. The data are benchmarks/synthetic.py's
(volumes 1 to 100 km across over 1500 × 1500 km and a week, four parties). The import goes
through :func:`file_notices` in batches, conflicts included, as ``deconfliction import`` does; each
timed filing is one single-volume notice through the same function: validation, the candidate
query, the exact check, the inserts and a durable commit (SQLite WAL with ``synchronous=FULL``).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import sqlalchemy as sa
from rich.progress import Progress

sys.path.insert(0, str(Path(__file__).parent))
import synthetic

from deconfliction.agreement import Agreement, Party, Separation
from deconfliction.runtime import paused_gc
from deconfliction.service import file_notices, init_store
from deconfliction.store import SqlUnitOfWork, create_engine

BATCH = 100_000
AGREEMENT_TOML = "\n".join(
    ['name = "benchmark"'] + [f'[[party]]\nid = "{p}"\nname = "{p}"' for p in synthetic.PARTIES]
)
AGREEMENT = Agreement("benchmark", tuple(Party(p, p) for p in synthetic.PARTIES), Separation())


def bench_store(
    volumes: int, filings: int, database_url: str | None, progress: Progress | None = None
) -> dict[str, object]:
    """Import ``volumes``, then time ``filings`` single-volume filings; returns the result row."""
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        engine = create_engine(url)
        try:
            return _run(engine, volumes, filings, progress)
        finally:
            engine.dispose()


def _run(
    engine: sa.Engine, volumes: int, filings: int, progress: Progress | None
) -> dict[str, object]:
    uow = SqlUnitOfWork(engine)
    init_store(uow, AGREEMENT, AGREEMENT_TOML)
    now = datetime.now(UTC)
    task = progress.add_task("import", total=volumes) if progress else None
    t0, conflicts = time.perf_counter(), 0
    with paused_gc():  # as `deconfliction import` does
        for k, lo in enumerate(range(0, volumes, BATCH)):
            batch = synthetic.notices(min(BATCH, volumes - lo), seed=100 + k)
            conflicts += len(file_notices(uow, batch, AGREEMENT, now=now).conflicts)
            if progress is not None and task is not None:
                progress.update(task, completed=lo + len(batch))
    import_s = time.perf_counter() - t0
    singles = synthetic.notices(filings, seed=99)  # refs N99-…: not among the imported ones
    task = progress.add_task("filings", total=filings) if progress else None
    took, found = [], 0
    for n in singles:
        t = time.perf_counter()
        found += len(file_notices(uow, [n], AGREEMENT, now=now).conflicts)
        took.append(time.perf_counter() - t)
        if progress is not None and task is not None:
            progress.advance(task)
    ms = np.array(took) * 1e3
    return {
        "part": "store",
        "backend": engine.dialect.name,
        "volumes": volumes,
        "import_s": round(import_s, 1),
        "import_conflicts": conflicts,
        "filings": filings,
        "filing_conflicts": found,
        "p50_ms": round(float(np.percentile(ms, 50)), 2),
        "p99_ms": round(float(np.percentile(ms, 99)), 2),
        "max_ms": round(float(ms.max()), 2),
        "goal_p99_ms": 5.0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--volumes", type=int, default=1_000_000)
    ap.add_argument("--filings", type=int, default=2_000)
    ap.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = ap.parse_args()
    with Progress(transient=True) as progress:
        row = bench_store(args.volumes, args.filings, args.database_url, progress)
    print(json.dumps(row))


if __name__ == "__main__":
    main()
