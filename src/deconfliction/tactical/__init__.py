"""Tracks against tracks: live state, BlueSky's state-based conflict rule over arrays, encounters.

The pure core of tactical deconfliction (no I/O, no clock: times are passed in); readers live in
:mod:`deconfliction.ingest`, the command line in :mod:`deconfliction.tactical.cli`. The detector
is ``deconfliction.tactical.detect.detect`` (not re-exported: it would shadow its module).
"""

from deconfliction.tactical.detect import Encounters, Kinematics
from deconfliction.tactical.encounters import Changes, Encounter, EncounterTracker
from deconfliction.tactical.scan import Cycle, cycles
from deconfliction.tactical.state import Snapshot, TrackReport, TrackTable

__all__ = [
    "Changes",
    "Cycle",
    "Encounter",
    "EncounterTracker",
    "Encounters",
    "Kinematics",
    "Snapshot",
    "TrackReport",
    "TrackTable",
    "cycles",
]
