"""The compiled inner loops of tactical detection (numba): registration in the grid, the sweep
over sorted registrations with the joint test, and BlueSky's rule, one pair at a time.

The algorithms are explained where they are used, in :mod:`deconfliction.tactical.candidates`
and :mod:`deconfliction.tactical.detect`; this module only runs them. It is imported by the first
detection, not with those modules, because importing numba costs about 0.15 s that every command
line start would pay. Each function compiles on its first call (seconds) and is cached on disk
(``cache=True``) for later processes; where the cache is not writable, each process compiles.

The floating-point operations are those of the array code these loops replaced, in the same
order and with IEEE semantics (no fastmath; numpy's error model, so that division by zero gives
±inf or NaN, not an exception): results are identical to it bit for bit. ``_max`` and ``_min``
are ``np.maximum`` and ``np.minimum`` (NaN wins). The hot loops avoid branches that depend on
divisions and square roots (``&``, ``|`` and selections instead of ``and``, ``or`` and ``if``):
a mispredicted branch waits for them, and costs more than computing both sides.
"""

from __future__ import annotations

import numba
import numpy as np
import numpy.typing as npt

from deconfliction.types import BoolArray, FloatArray, IntArray

Int32Array = npt.NDArray[np.int32]
UInt8Array = npt.NDArray[np.uint8]

_jit = numba.njit(cache=True, nogil=True, error_model="numpy")
_ALL_HOME = 0b111
_LEVEL_MPS = 1e-6  # BlueSky's threshold: smaller vertical-rate differences count as level
_START = 1 << 16  # first capacity of the growing outputs


@_jit
def _max(x: float, y: float) -> float:
    if x != x:
        return x
    return y if (y != y) | (y > x) else x


@_jit
def _min(x: float, y: float) -> float:
    if x != x:
        return x
    return y if (y != y) | (y < x) else x


@_jit
def _dot(x0: float, x1: float, x2: float, y0: float, y1: float, y2: float) -> float:
    """x · y summed as numpy's ``einsum`` sums three terms (two SIMD lanes, the third term into
    the first), which the array version of ``decide`` used."""
    return (x0 * y0 + x2 * y2) + x1 * y1


@_jit
def register(
    first: IntArray,
    last: IntArray,
    counts: IntArray,
    n: int,
    alt0: FloatArray,
    alt1: FloatArray,
    height: float,
) -> tuple[FloatArray, FloatArray, Int32Array, Int32Array, UInt8Array]:
    """Every (box, strip) with the strip's cell inside the box's cells, x fastest: its sort key
    (strip, then low altitude), the last key its sweep reaches, its track (int32: fewer than
    2³¹ tracks) and slice, and its home bits (bit d: the cell is the box's first in dimension d;
    ``candidates``' module docstring)."""
    boxes = first.shape[0]
    total = 0
    for i in range(boxes):
        total += (
            (last[i, 0] - first[i, 0] + 1)
            * (last[i, 1] - first[i, 1] + 1)
            * (last[i, 2] - first[i, 2] + 1)
        )
    key, end = np.empty(total), np.empty(total)
    track, slot = np.empty(total, np.int32), np.empty(total, np.int32)
    home = np.empty(total, np.uint8)
    j = 0
    for i in range(boxes):
        s, t = i // n, i % n
        for z in range(first[i, 2], last[i, 2] + 1):
            hz = 4 if z == first[i, 2] else 0
            for y in range(first[i, 1], last[i, 1] + 1):
                hy = hz | (2 if y == first[i, 1] else 0)
                for x in range(first[i, 0], last[i, 0] + 1):
                    strip = ((s * counts[1] + x) * counts[2] + y) * counts[3] + z
                    key[j] = strip * height + alt0[i]
                    end[j] = key[j] - alt0[i] + alt1[i]
                    track[j], slot[j] = t, s
                    home[j] = hy | (1 if x == first[i, 0] else 0)
                    j += 1
    return key, end, track, slot, home


@_jit
def permute(
    order: IntArray,
    key: FloatArray,
    end: FloatArray,
    track: Int32Array,
    slot: Int32Array,
    home: UInt8Array,
) -> tuple[FloatArray, FloatArray, Int32Array, Int32Array, UInt8Array]:
    """The registrations in ``order``, in one pass rather than one per array."""
    m = order.size
    key2, end2 = np.empty(m), np.empty(m)
    track2, slot2 = np.empty(m, np.int32), np.empty(m, np.int32)
    home2 = np.empty(m, np.uint8)
    for i in range(m):
        j = order[i]
        key2[i], end2[i], track2[i], slot2[i], home2[i] = key[j], end[j], track[j], slot[j], home[j]
    return key2, end2, track2, slot2, home2


@_jit
def sweep(
    key: FloatArray,
    end: FloatArray,
    track: Int32Array,
    slot: Int32Array,
    home: UInt8Array,
    table: FloatArray,
    party: IntArray,
    parties: bool,
    reach_m: float,
    gap_m: float,
    look_s: float,
    slices: int,
) -> tuple[IntArray, IntArray]:
    """Pairs (a, b), a < b, of sorted registrations p < q with key[q] ≤ end[p] that pass the
    joint test (``candidates._candidates``). ``table`` holds x, y, z, vx, vy, vz, altitude and
    vertical rate per track, one row each, so that a partner costs one or two cache lines."""
    out_a, out_b = np.empty(_START, np.int64), np.empty(_START, np.int64)
    near = np.empty(256, np.int32)
    p, count = 0, 0
    while True:
        p, count = _sweep_from(
            p, key, end, track, slot, home, table, party, parties, reach_m, gap_m, look_s,
            slices, out_a, out_b, count, near,
        )  # fmt: skip
        if p == key.size:
            return out_a[:count].copy(), out_b[:count].copy()
        bigger_a, bigger_b = np.empty(2 * out_a.size, np.int64), np.empty(2 * out_a.size, np.int64)
        bigger_a[:count], bigger_b[:count] = out_a[:count], out_b[:count]
        out_a, out_b = bigger_a, bigger_b
        near = np.empty(2 * near.size, np.int32)


@_jit
def _sweep_from(
    p: int,
    key: FloatArray,
    end: FloatArray,
    track: Int32Array,
    slot: Int32Array,
    home: UInt8Array,
    table: FloatArray,
    party: IntArray,
    parties: bool,
    reach_m: float,
    gap_m: float,
    look_s: float,
    slices: int,
    out_a: IntArray,
    out_b: IntArray,
    count: int,
    near: Int32Array,
) -> tuple[int, int]:
    """:func:`sweep` from registration p on, while the outputs and scratch arrays surely have
    room; returns where it stopped and the count. The caller grows them: reassigning arrays
    here would put reference counting into the innermost loop.

    For each p, a first pass over its partners keeps in ``near`` those that pass the cheap tests
    (home cells, parties, ever within reach: the discriminant whose root the time interval
    takes); a second computes their time intervals and keeps the pairs whose first joint time
    falls in p's slice. Both write every partner and advance by the test, without a branch:
    most partners fail each pass (on the benchmark's traffic, seven in eight the first and three
    in four of the rest the second), in no order a branch predictor could learn.
    """
    m = key.size
    reach2 = reach_m * reach_m
    per_s = slices / look_s
    last_slot = float(slices - 1)
    while p < m:
        top = end[p]
        stop = p + 1
        while stop < m and key[stop] <= top:
            stop += 1
        if count + (stop - p) > out_a.size or stop - p > near.size:
            return p, count
        hp, a, slice_p = home[p], track[p], slot[p]
        party_a = party[a]
        alone = not (parties and party_a >= 0)  # may pair with its own party
        px, py, pz = table[a, 0], table[a, 1], table[a, 2]
        vx, vy, vz = table[a, 3], table[a, 4], table[a, 5]
        alt, vs = table[a, 6], table[a, 7]
        close = 0
        for q in range(p + 1, stop):
            b = track[q]
            rx, ry, rz = table[b, 0] - px, table[b, 1] - py, table[b, 2] - pz
            wx, wy, wz = vx - table[b, 3], vy - table[b, 4], vz - table[b, 5]
            d2 = rx * rx + ry * ry + rz * rz
            rw = rx * wx + ry * wy + rz * wz
            w2 = wx * wx + wy * wy + wz * wz
            c = d2 - reach2
            near[close] = b
            close += (
                ((hp | home[q]) == _ALL_HOME)
                & (alone | (party[b] != party_a))
                & (((w2 != 0) & (rw * rw - w2 * c >= 0)) | ((w2 == 0) & (c <= 0)))
            )
        for i in range(close):
            b = near[i]
            rx, ry, rz = table[b, 0] - px, table[b, 1] - py, table[b, 2] - pz
            wx, wy, wz = vx - table[b, 3], vy - table[b, 4], vz - table[b, 5]
            d2 = rx * rx + ry * ry + rz * rz
            rw = rx * wx + ry * wy + rz * wz
            w2 = wx * wx + wy * wy + wz * wz
            s = np.sqrt(rw * rw - w2 * (d2 - reach2))
            still = w2 == 0  # keeps its distance: within reach always (the first pass)
            h_lo = -np.inf if still else (rw - s) / w2
            h_hi = np.inf if still else (rw + s) / w2
            dalt = alt - table[b, 6]
            dvs = vs - table[b, 7]
            t1 = (-dalt - gap_m) / dvs
            t2 = (-dalt + gap_m) / dvs
            unknown = (t1 != t1) | (t2 != t2)  # altitude (or 0/0): inside throughout
            v_lo = 0.0 if unknown else max(min(t1, t2), 0.0)
            v_hi = look_s if unknown else min(max(t1, t2), look_s)
            t = _max(h_lo, v_lo)
            out_a[count], out_b[count] = min(a, b), max(a, b)
            count += (t <= _min(h_hi, v_hi)) & (np.floor(_min(t * per_s, last_slot)) == slice_p)
        p += 1
    return p, count


@_jit
def rule(
    d2: float, rw: float, w2: float, dalt: float, dvs: float, big_r: float, big_h: float,
    look: float,
) -> tuple[float, float, float, bool, bool]:  # fmt: skip
    """BlueSky's rule on one pair's relative state (``detect.closest_approach``):
    (tcpa_s, dcpa_m, tin_s, los, conflict)."""
    los_h = d2 < big_r * big_r
    moving = w2 > 0
    tcpa = rw / w2 if moving else 0.0
    cpa2 = _max(d2 - rw * tcpa, 0.0)
    dt = np.sqrt(_max(big_r * big_r - cpa2, 0.0) / w2)
    tin_h = tcpa - dt if moving else (-np.inf if los_h else np.inf)  # still: inside for ever
    tout_h = tcpa + dt if moving else (np.inf if los_h else -np.inf)  # or never
    hor = los_h | ((rw >= 0) & (tin_h <= look))
    unknown = dalt != dalt
    los_v = (abs(dalt) < big_h) | unknown
    climbing = (abs(dvs) > _LEVEL_MPS) & (not unknown)
    hi = (dalt + big_h) / -dvs
    lo = (dalt - big_h) / -dvs
    tin_v = _max(0.0, _min(lo, hi)) if climbing else (0.0 if los_v else np.inf)
    tout_v = _max(lo, hi) if climbing else (np.inf if los_v else -np.inf)
    tin = _max(tin_h, tin_v)
    tout = _min(tout_h, tout_v)
    hit = hor & (tin_v <= look) & (tout_v > 0) & (tin <= look) & (tin < tout) & (tout > 0)
    return tcpa, np.sqrt(cpa2), tin, los_h & los_v, hit


@_jit
def rule_many(
    d2: FloatArray, rw: FloatArray, w2: FloatArray, dalt: FloatArray, dvs: FloatArray,
    big_r: float, big_h: float, look: float,
) -> tuple[FloatArray, FloatArray, FloatArray, BoolArray, BoolArray]:  # fmt: skip
    """:func:`rule` over arrays."""
    m = d2.size
    tcpa, dcpa, tin = np.empty(m), np.empty(m), np.empty(m)
    los, hit = np.empty(m, np.bool_), np.empty(m, np.bool_)
    for i in range(m):
        tcpa[i], dcpa[i], tin[i], los[i], hit[i] = rule(
            d2[i], rw[i], w2[i], dalt[i], dvs[i], big_r, big_h, look
        )
    return tcpa, dcpa, tin, los, hit


@_jit
def decide(
    position: FloatArray, velocity: FloatArray, alt: FloatArray, vs: FloatArray,
    a: IntArray, b: IntArray, normal_z: float, big_r: float, big_h: float, look: float,
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, FloatArray, BoolArray]:  # fmt: skip
    """The pairs in conflict, in the order given: (min, max, tcpa, dcpa, tin, los), with the
    relative state on the plane normal to the ellipsoid at each pair's midpoint."""
    m = a.size
    lo, hi = np.empty(m, np.int64), np.empty(m, np.int64)
    tcpa, dcpa, tin = np.empty(m), np.empty(m), np.empty(m)
    los = np.empty(m, np.bool_)
    count = 0
    for i in range(m):
        ia, ib = a[i], b[i]
        ax, ay, az = position[ia, 0], position[ia, 1], position[ia, 2]
        bx, by, bz = position[ib, 0], position[ib, 1], position[ib, 2]
        rx, ry, rz = bx - ax, by - ay, bz - az
        wx = velocity[ia, 0] - velocity[ib, 0]
        wy = velocity[ia, 1] - velocity[ib, 1]
        wz = velocity[ia, 2] - velocity[ib, 2]
        mx, my, mz = ax + bx, ay + by, (az + bz) * normal_z
        norm = np.sqrt(_dot(mx, my, mz, mx, my, mz))
        mx, my, mz = mx / norm, my / norm, mz / norm
        rm = _dot(rx, ry, rz, mx, my, mz)
        rx, ry, rz = rx - rm * mx, ry - rm * my, rz - rm * mz
        wm = _dot(wx, wy, wz, mx, my, mz)
        wx, wy, wz = wx - wm * mx, wy - wm * my, wz - wm * mz
        lo[count], hi[count] = min(ia, ib), max(ia, ib)
        tcpa[count], dcpa[count], tin[count], los[count], hit = rule(
            _dot(rx, ry, rz, rx, ry, rz),
            _dot(rx, ry, rz, wx, wy, wz),
            _dot(wx, wy, wz, wx, wy, wz),
            alt[ia] - alt[ib],
            vs[ia] - vs[ib],
            big_r,
            big_h,
            look,
        )
        count += hit
    return lo[:count], hi[:count], tcpa[:count], dcpa[:count], tin[:count], los[:count]
