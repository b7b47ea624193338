"""Tactical detection benchmark: one full detection cycle at 1,000, 10,000 and 100,000 tracks,
with peak memory, against BlueSky's compiled state-based detector at 1,000 and 10,000.

    python benchmarks/tactical.py                    # everything
    python benchmarks/tactical.py --tracks 10000     # one size (BlueSky too if ≤ --bluesky-max)

Traffic (seeded): tracks uniform over a 600 × 600 NM box centred on the equator at 30° E,
altitudes uniform over FL200–FL400, ground speeds 200–260 m/s in any direction, 30 % climbing or
descending at 5–15 m/s, four parties plus unattributed; minima 5 NM, 1,000 ft, look-ahead 300 s.
A cycle is `detect` on kinematics already in arrays (what the service keeps between cycles);
BlueSky is called the same way, on arrays, without the simulator
(`pip install --no-deps bluesky-simulator`). Its encounter set is compared with ours twice: ours
on WGS84 (the real thing) and ours on BlueSky's 6,371 km sphere (the same earth model), where
only pairs within 1e-4 of a minimum may differ. Results print as a table and as JSON lines.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import numpy as np
from rich.console import Console
from rich.table import Table

from deconfliction.agreement import Tactical
from deconfliction.tactical import bluesky
from deconfliction.tactical.detect import Kinematics, decide, detect
from deconfliction.tactical.frame import SPHERE_M, ecef, ground_velocity

MINIMA = Tactical()
NM = 1852.0


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


def traffic(n: int, seed: int = 7) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    half_deg = np.degrees(300 * NM / SPHERE_M)
    climbing = rng.random(n) < 0.3
    return {
        "lat": rng.uniform(-half_deg, half_deg, n),
        "lon": 30.0 + rng.uniform(-half_deg, half_deg, n),
        "trk": rng.uniform(0, 360, n),
        "gs": rng.uniform(200, 260, n),
        "alt": rng.uniform(20_000, 40_000, n) * 0.3048,
        "vs": np.where(climbing, rng.choice([-1.0, 1.0], n) * rng.uniform(5, 15, n), 0.0),
        "party": rng.integers(-1, 4, n),
    }


def kinematics(t: dict[str, np.ndarray], *, sphere: bool = False) -> Kinematics:
    pos = ecef(t["lat"], t["lon"], a_m=SPHERE_M, f=0.0) if sphere else ecef(t["lat"], t["lon"])
    vel = ground_velocity(t["lat"], t["lon"], t["gs"], t["trk"])
    return Kinematics(pos, vel, t["alt"], t["vs"], t["party"])


def best_of(fn: object, repeat: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times), out


def bench_ours(n: int, repeat: int) -> dict[str, object]:
    t = traffic(n)
    k = kinematics(t)
    seconds, found = best_of(lambda: detect(k, MINIMA), repeat)
    tracemalloc.start()
    detect(k, MINIMA)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "part": "ours",
        "tracks": n,
        "cycle_ms": round(seconds * 1000, 1),
        "encounters": len(found),  # type: ignore[arg-type]
        "peak_mib": round(peak / 2**20, 1),
    }


def bench_bluesky(n: int, cstatebased: ModuleType) -> dict[str, object]:
    """BlueSky checks every pair, with no party filter: compare all pairs on both sides."""
    t = traffic(n)
    t0 = time.perf_counter()
    theirs = bluesky.pairs(cstatebased, t, MINIMA)
    theirs_s = time.perf_counter() - t0
    row: dict[str, object] = {"part": "bluesky", "tracks": n, "bluesky_ms": round(theirs_s * 1e3)}
    for name, sphere in (("wgs84", False), ("sphere", True)):
        k = kinematics(t, sphere=sphere)
        ours_s, found = best_of(lambda k=k: detect(k, MINIMA, across_parties_only=False), 5)
        ours = set(zip(found.a.tolist(), found.b.tolist(), strict=True))  # type: ignore[attr-defined]
        row[f"{name}_ms"] = round(ours_s * 1e3, 1)
        row[f"{name}_ratio"] = round(theirs_s / ours_s)
        row[f"{name}_both"] = len(ours & theirs)
        row[f"{name}_only_ours"] = len(ours - theirs)
        row[f"{name}_only_bluesky"] = len(theirs - ours)
        if sphere:
            row["sphere_unexplained"] = unexplained(k, ours, theirs, 1e-4)
    return row


def unexplained(k: Kinematics, ours: set, theirs: set, eps: float) -> int:
    """Differing pairs that do not change verdict when the minima move by a factor 1 ± eps."""
    count = 0
    for pairs, factor, expect in ((theirs - ours, 1 + eps, True), (ours - theirs, 1 - eps, False)):
        if not pairs:
            continue
        a, b = (np.array(x) for x in zip(*sorted(pairs), strict=True))
        minima = Tactical(*(v * factor for v in (9_260.0, 304.8, 300.0)))
        hit = decide(k, a, b, minima)
        got = set(zip(hit.a.tolist(), hit.b.tolist(), strict=True))
        count += len(pairs - got) if expect else len(got)
    return count


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--tracks", type=int, nargs="*", default=[1_000, 10_000, 100_000])
    ap.add_argument("--bluesky-max", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    cstatebased = bluesky.load()
    results = []
    for n in args.tracks:
        results.append(bench_ours(n, args.repeat if n <= 10_000 else 3))
        if cstatebased is not None and n <= args.bluesky_max:
            results.append(bench_bluesky(n, cstatebased))
    stamp = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "machine": machine()}
    table = Table(title=f"tactical benchmark — {stamp['date']} — {stamp['machine']}")
    table.add_column("part")
    table.add_column("result")
    for r in results:
        table.add_row(str(r["part"]), ", ".join(f"{k}={v}" for k, v in r.items() if k != "part"))
    Console(stderr=True).print(table)
    for r in results:
        print(json.dumps({**stamp, **r}))


if __name__ == "__main__":
    main()
