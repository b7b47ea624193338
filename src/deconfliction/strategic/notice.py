"""A notice: one party's notification of a planned activity, as one or more volumes.

There is deliberately no field for a target, an intelligence item or a mission purpose: parties
share where and when, never what for.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from deconfliction.geo.volume import Volume


class Activity(StrEnum):
    AIR = "air"
    GROUND = "ground"
    UAV = "uav"
    MARITIME = "maritime"
    HUMANITARIAN = "humanitarian"


@dataclass(frozen=True, slots=True)
class Notice:
    """A party's notice. ``ref`` is the party's own reference (e.g. ``C-0142``), unique per party.

    ``remarks`` are free text for the owner only: other parties never see them. ``shared_with``
    names the other parties that see the notice's volumes; None shares it with every party of
    the agreement. A party it is not shared with still sees a volume that conflicts with its own.
    """

    ref: str
    party: str
    activity: Activity
    volumes: tuple[Volume, ...]
    remarks: str = ""
    shared_with: tuple[str, ...] | None = None
