"""Benchmark: bulk import, then check-and-store of one notice at a time against the store.

Not collected by pytest (no ``test_`` prefix). Run, e.g.::

    python tests/integration/bench_filing.py --volumes 1000000 --url sqlite:////tmp/bench.db

The stored volumes are spread over 15° x 10° of the Middle East and one year, half circles
(2-30 km), half quadrilaterals (0.05-0.4° a side), windows of 15 min to 6 h, bands of 0.3-4 km;
three parties, 1-3 volumes per notice.
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime, timedelta

import numpy as np

from deconfliction.agreement import loads_agreement
from deconfliction.geo.volume import Circle, Outline, Polygon, Volume
from deconfliction.service import file_notices, init_store
from deconfliction.store import SqlUnitOfWork, create_engine
from deconfliction.strategic.notice import Activity, Notice

T0 = datetime(2025, 1, 1, tzinfo=UTC)
YEAR_H = 365 * 24.0

AGREEMENT = """\
name = "bench"
[[party]]
id = "coalition"
name = "C"
[[party]]
id = "russia"
name = "R"
[[party]]
id = "turkey"
name = "T"
[separation]
horizontal_m = 18520
vertical_m = 609.6
time_s = 900
[tactical]
horizontal_m = 9260
vertical_m = 304.8
lookahead_s = 300
"""
PARTIES = ("coalition", "russia", "turkey")


def random_volume(rng: np.random.Generator) -> Volume:
    lon, lat = float(rng.uniform(30.0, 45.0)), float(rng.uniform(30.0, 40.0))
    if rng.random() < 0.5:
        outline: Outline = Circle(lon, lat, float(rng.uniform(2_000.0, 30_000.0)))
    else:
        w, h = (float(x) for x in rng.uniform(0.025, 0.2, size=2))
        corners = ((lon - w, lat - h), (lon + w, lat - h), (lon + w, lat + h), (lon - w, lat + h))
        outline = Polygon(corners)
    lower = float(rng.uniform(0.0, 8_000.0))
    start = float(rng.uniform(0.0, YEAR_H))
    return Volume(
        outline,
        lower,
        lower + float(rng.uniform(300.0, 4_000.0)),
        T0 + timedelta(hours=start),
        T0 + timedelta(hours=start + float(rng.uniform(0.25, 6.0))),
    )


def random_notices(rng: np.random.Generator, volumes: int, prefix: str) -> list[Notice]:
    out: list[Notice] = []
    made = 0
    while made < volumes:
        n = min(int(rng.integers(1, 4)), volumes - made)
        vols = tuple(random_volume(rng) for _ in range(n))
        out.append(Notice(f"{prefix}-{len(out)}", PARTIES[len(out) % 3], Activity.AIR, vols))
        made += n
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="sqlite:////tmp/deconfliction-bench.db")
    parser.add_argument("--volumes", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=200_000, help="volumes per import")
    parser.add_argument("--singles", type=int, default=1_000)
    parser.add_argument("--skip-import", action="store_true")
    args = parser.parse_args()
    rng = np.random.default_rng(1)
    agreement = loads_agreement(AGREEMENT)
    engine = create_engine(args.url)
    uow = SqlUnitOfWork(engine)
    init_store(uow, agreement, AGREEMENT)
    now = datetime.now(UTC)
    if not args.skip_import:
        started, conflicts = time.perf_counter(), 0
        for k, lo in enumerate(range(0, args.volumes, args.batch)):
            batch = random_notices(rng, min(args.batch, args.volumes - lo), f"B{k}")
            conflicts += len(file_notices(uow, batch, agreement, now=now))
            print(f"imported {lo + args.batch:,} volumes, {time.perf_counter() - started:.1f} s")
        took = time.perf_counter() - started
        print(f"import: {args.volumes:,} volumes, {conflicts:,} conflicts, {took:.1f} s")
    singles = [random_notices(rng, 1, f"S{k}-{time.time_ns()}")[0] for k in range(args.singles)]
    took, found = [], 0
    for n in singles:
        t = time.perf_counter()
        found += len(file_notices(uow, [n], agreement, now=now))
        took.append(time.perf_counter() - t)
    ms = np.array(took) * 1e3
    print(
        f"one notice: p50 {np.percentile(ms, 50):.2f} ms, p90 {np.percentile(ms, 90):.2f} ms, "
        f"p99 {np.percentile(ms, 99):.2f} ms, max {ms.max():.2f} ms; {found} conflicts"
    )
    engine.dispose()


if __name__ == "__main__":
    main()
