"""BlueSky's compiled state-based detector, to cross-check ours on the same traffic.

``pip install --no-deps bluesky-simulator`` is enough: only its one compiled extension,
``bluesky/traffic/asas/cstatebased``, is loaded, without importing (or starting) the simulator.
The tests and ``benchmarks/tactical.py`` compare encounter sets with it; nothing in the service
uses it.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType, SimpleNamespace

import numpy as np

from deconfliction.agreement import Tactical
from deconfliction.types import FloatArray


def load() -> ModuleType | None:
    """The ``cstatebased`` extension of the installed ``bluesky`` package, or None without it."""
    spec = importlib.util.find_spec("bluesky")  # finds the package without running it
    if spec is None or not spec.submodule_search_locations:
        return None
    found = list(Path(spec.submodule_search_locations[0]).glob("traffic/asas/cstatebased*.so"))
    if not found:
        return None
    loader = importlib.machinery.ExtensionFileLoader("cstatebased", str(found[0]))
    module_spec = importlib.util.spec_from_file_location("cstatebased", found[0], loader=loader)
    assert module_spec is not None
    module = importlib.util.module_from_spec(module_spec)
    loader.exec_module(module)
    return module


def pairs(
    cstatebased: ModuleType, traffic: Mapping[str, FloatArray], minima: Tactical
) -> set[tuple[int, int]]:
    """Every pair (a < b) of rows BlueSky finds in conflict, all pairs checked (no parties).

    ``traffic`` holds arrays ``lat``, ``lon`` (degrees), ``trk`` (degrees), ``gs`` (m/s),
    ``alt`` (m) and ``vs`` (m/s), as BlueSky's traffic object does.
    """
    n = traffic["lat"].size
    fields = {k: traffic[k] for k in ("lat", "lon", "trk", "gs", "alt", "vs")}
    own = SimpleNamespace(**fields, id=[str(i) for i in range(n)])
    limits = (minima.horizontal_m, minima.vertical_m, minima.lookahead_s)
    out = cstatebased.detect(own, own, *(np.full(n, v) for v in limits))
    return {(min(int(a), int(b)), max(int(a), int(b))) for a, b in out[0]}
