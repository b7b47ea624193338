"""A line of a track feed that could not be read: where and why, so it is counted and skipped.

A feed runs for hours; one garbled line must not stop it, and must not pass silently either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Malformed:
    """Line ``line`` (1-based) was skipped for ``reason``."""

    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class Unreadable(ValueError):
    """Raised inside a reader for one bad field; becomes a :class:`Malformed` for its line."""


def number(text: str, name: str, *, low: float = -math.inf, high: float = math.inf) -> float | None:
    """A finite number in [low, high] from a field, or ``None`` when the field is empty."""
    text = text.strip()
    if not text or text.lower() in ("nan", "null", "none"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise Unreadable(f"{name}: not a number: {text[:40]!r}") from None
    if not low <= value <= high:  # also refuses inf and nan spelled oddly
        raise Unreadable(f"{name}: {value:g} is outside [{low:g}, {high:g}]")
    return value
