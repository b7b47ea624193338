"""Process-level tuning for bulk work and long-running services."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the duration of a bulk job.

    Checking or importing a big file makes millions of small objects that form no reference cycles
    (reference counting frees them), yet each full collection walks all of them: on a check of
    100,000 volumes that was a third of the run time (3.5 s of 10 s). Collection resumes after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def freeze_heap() -> None:
    """Move every object alive now out of the cyclic collector's sight (:func:`gc.freeze`).

    For a service once it has started: the modules, the gazetteer and the compiled code it loaded
    are never garbage, yet each full collection walked all of them, 100 to 200 ms at a time, in
    whichever thread happened to allocate, often the one holding the ledger lock, so every other
    process's filings waited too. What is made afterwards is collected as before.
    """
    gc.collect()
    gc.freeze()
