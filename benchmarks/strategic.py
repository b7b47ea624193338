"""Strategic deconfliction benchmark: `check` on a big file, the store at 1,000,000 volumes, and a
naive all-pairs shapely check for scale.

    python benchmarks/strategic.py                 # everything (the store part takes minutes)
    python benchmarks/strategic.py --only check    # one part: check | naive | store
    python benchmarks/strategic.py --store-volumes 100000 --database-url postgresql+psycopg://...

Data come from benchmarks/synthetic.py (seeded): volumes 1 to 100 km across over a 1500 × 1500 km
region and a week, four parties. Results print as a table and as JSON lines (for BENCHMARKS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import orjson
import pyproj
import shapely
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

sys.path.insert(0, str(Path(__file__).parent))
import synthetic

from deconfliction.agreement import Separation
from deconfliction.geo.volume import Circle
from deconfliction.strategic import detect
from deconfliction.strategic.notice import Notice

console = Console(stderr=True)
SEP = Separation()


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def bench_check(n: int) -> dict[str, object]:
    """`deconfliction check` on a file of n volumes, end to end in a fresh process."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "notices.geojson"
        path.write_bytes(orjson.dumps(synthetic.feature_collection(synthetic.notices(n))))
        t0 = time.perf_counter()
        run = subprocess.run(
            [sys.executable, "-m", "deconfliction.cli", "check", str(path)],
            capture_output=True,
            check=False,
        )
        wall = time.perf_counter() - t0
    if run.returncode not in (0, 1):
        raise SystemExit(run.stderr.decode())
    return {
        "part": "check",
        "volumes": n,
        "conflicts": run.stdout.count(b"\n"),
        "wall_s": round(wall, 2),
        "goal_s": 10.0,
    }


def naive_pairs(notices: list[Notice]) -> tuple[set[tuple[int, int]], float]:
    """All pairs, the way one would without an index: one projection for the whole region (a
    single azimuthal-equidistant PROJ transform), circles buffered to 64-gons, then time, altitude
    and party filters over every pair and shapely.distance on those left."""
    t0 = time.perf_counter()
    proj = pyproj.Transformer.from_crs(
        "EPSG:4326",
        f"+proj=aeqd +lon_0={synthetic.CENTRE[0]} +lat_0={synthetic.CENTRE[1]}",
        always_xy=True,
    )
    shapes, lower, upper, start, end, party = [], [], [], [], [], []
    for n in notices:
        v = n.volumes[0]
        if isinstance(v.outline, Circle):
            x, y = proj.transform(v.outline.lon, v.outline.lat)
            shapes.append(shapely.Point(x, y).buffer(v.outline.radius_m, quad_segs=16))
        else:
            xs, ys = proj.transform(*zip(*v.outline.vertices, strict=True))
            shapes.append(shapely.Polygon(list(zip(xs, ys, strict=True))))
        lower.append(v.lower_m)
        upper.append(v.upper_m)
        start.append(v.start.timestamp())
        end.append(v.end.timestamp())
        party.append(n.party)
    geoms = np.array(shapes)
    lo, up, st, en = (np.array(a) for a in (lower, upper, start, end))
    pa = np.array(party)
    i, j = np.triu_indices(len(notices), 1)
    keep = (
        (pa[i] != pa[j])
        & (np.maximum(lo[i], lo[j]) - np.minimum(up[i], up[j]) < SEP.vertical_m)
        & (np.maximum(st[i], st[j]) - np.minimum(en[i], en[j]) < SEP.time_s)
    )
    i, j = i[keep], j[keep]
    d = shapely.distance(geoms[i], geoms[j])
    hit = d < SEP.horizontal_m
    return set(zip(i[hit].tolist(), j[hit].tolist(), strict=True)), time.perf_counter() - t0


def bench_naive(n: int) -> dict[str, object]:
    """Ours against the naive all-pairs shapely check on the same n volumes, in this process."""
    notices = synthetic.notices(n, seed=7)
    t0 = time.perf_counter()
    items = detect.prepare_many(notices)
    ours = detect.find_conflicts(items, SEP)
    ours_s = time.perf_counter() - t0
    index = {n.ref: k for k, n in enumerate(notices)}
    ours_pairs = {tuple(sorted((index[c.a.notice], index[c.b.notice]))) for c in ours}
    naive, naive_s = naive_pairs(notices)
    return {
        "part": "naive",
        "volumes": n,
        "ours_s": round(ours_s, 3),
        "naive_s": round(naive_s, 3),
        "speedup": round(naive_s / ours_s, 1),
        "conflicts": len(ours_pairs),
        "naive_conflicts": len(naive),
        "only_naive": len(naive - ours_pairs),
        "only_ours": len(ours_pairs - naive),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--only", choices=["check", "naive", "store"])
    ap.add_argument("--check-volumes", type=int, default=100_000)
    ap.add_argument("--naive-volumes", type=int, default=5_000)
    ap.add_argument("--store-volumes", type=int, default=1_000_000)
    ap.add_argument("--store-filings", type=int, default=2_000)
    ap.add_argument("--database-url", default=None, help="default: a fresh SQLite file")
    args = ap.parse_args()
    results: list[dict[str, object]] = []
    parts = [args.only] if args.only else ["naive", "check", "store"]
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("benchmark", total=len(parts))
        for part in parts:
            progress.update(task, description=part)
            if part == "check":
                results.append(bench_check(args.check_volumes))
            elif part == "naive":
                results.append(bench_naive(args.naive_volumes))
            else:
                from store_bench import bench_store

                results.append(
                    bench_store(args.store_volumes, args.store_filings, args.database_url, progress)
                )
            progress.advance(task)
    stamp = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine()}
    table = Table(title=f"strategic benchmark — {stamp['date']} — {stamp['machine']}")
    table.add_column("part")
    table.add_column("result")
    for r in results:
        table.add_row(str(r["part"]), ", ".join(f"{k}={v}" for k, v in r.items() if k != "part"))
    Console().print(table)
    for r in results:
        print(json.dumps({**stamp, **r}))


if __name__ == "__main__":
    main()
