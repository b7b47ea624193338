"""Process-level tuning: what it leaves the collector to do."""

from __future__ import annotations

import json
import subprocess
import sys

FROZEN = """
import gc, json
from deconfliction.runtime import freeze_heap
kept = [[k] for k in range(50_000)]  # alive at the freeze: never walked again
freeze_heap()
frozen = gc.get_freeze_count()
gc.collect()
before = len(gc.get_objects())
gc.disable()  # so that the count below is all of them
for _ in range(1000):
    cycle = []
    cycle.append(cycle)  # garbage made after the freeze, in reference cycles
del cycle
collected = gc.collect()
print(json.dumps([frozen, before, collected, len(gc.get_objects())]))
"""


def test_a_frozen_heap_is_out_of_the_collectors_sight_and_new_garbage_still_goes() -> None:
    # in a process of its own: freezing the test runner's heap would keep its garbage for good
    out = subprocess.run([sys.executable, "-c", FROZEN], capture_output=True, text=True, check=True)
    frozen, before, collected, after = json.loads(out.stdout)
    assert frozen >= 50_000  # the kept lists are frozen
    assert before < 50_000  # and not among what a collection walks
    assert collected >= 1000  # the cycles made afterwards are found and freed
    assert after <= before + 10
