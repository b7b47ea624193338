"""Process-level tuning for bulk work."""

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
