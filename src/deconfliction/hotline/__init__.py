"""The hotline between the parties' duty officers: precedence, kinds, replies and escalation.

Pure rules only; the use cases in :mod:`deconfliction.service.hotline` apply them to the store.
A message waits for an acknowledgement until the deadline its precedence sets in the agreement;
then it escalates to the next level of the receiving party's roster (duty officer 1, deputy 2,
commander 3, ...) with a new deadline, and expires when no level is left.
"""

from __future__ import annotations

from collections.abc import Collection
from enum import StrEnum


class Precedence(StrEnum):
    FLASH = "FLASH"
    IMMEDIATE = "IMMEDIATE"
    PRIORITY = "PRIORITY"
    ROUTINE = "ROUTINE"


class Kind(StrEnum):
    """What a message is. Officers send the first four; the service sends the others."""

    TEXT = "text"
    OBJECTION = "objection"  # "own forces present - halt", about another party's notice
    DISTRESS = "distress"  # distress / search and rescue, with a position
    LINE_CHECK = "line_check"  # a test whose answer proves the line works
    CONFLICT = "conflict"  # the service: new conflicts between notices
    LATE_NOTICE = "late_notice"  # the service: a notice filed later than its notice period
    ENCOUNTER = "encounter"  # the service: live tracks about to lose separation, or lost it

    @property
    def by_officer(self) -> bool:
        return self in (Kind.TEXT, Kind.OBJECTION, Kind.DISTRESS, Kind.LINE_CHECK)


class Reply(StrEnum):
    """An acknowledgement. For an objection, WILCO confirms the halt and UNABLE refuses it."""

    ROGER = "ROGER"  # understood
    WILCO = "WILCO"  # will comply
    UNABLE = "UNABLE"  # cannot comply; a reason is required


class Status(StrEnum):
    SENT = "sent"
    RECEIVED = "received"
    ACKNOWLEDGED = "acknowledged"
    ESCALATED = "escalated"
    EXPIRED = "expired"

    @property
    def open(self) -> bool:
        """Still waiting for an acknowledgement (and so for a deadline)."""
        return self in (Status.SENT, Status.RECEIVED, Status.ESCALATED)


FORCED_FLASH = (Kind.OBJECTION, Kind.DISTRESS)
"""Kinds that always travel as FLASH, whatever precedence the sender asked for."""


def precedence_of(kind: Kind, asked: Precedence) -> Precedence:
    """The precedence a message travels at.

    >>> precedence_of(Kind.DISTRESS, Precedence.ROUTINE)
    <Precedence.FLASH: 'FLASH'>
    """
    return Precedence.FLASH if kind in FORCED_FLASH else asked


def carried_when_suspended(kind: Kind, precedence: Precedence) -> bool:
    """A suspended channel still carries FLASH and distress traffic."""
    return precedence is Precedence.FLASH or kind is Kind.DISTRESS


def first_level(levels: Collection[int]) -> int:
    """The level a new message is addressed to: the lowest of the roster (1 with no roster)."""
    return min(levels, default=1)


def next_level(levels: Collection[int], current: int) -> int | None:
    """The roster level above ``current``, or None when there is none (the message expires).

    >>> next_level({1, 2, 3}, 1), next_level({1, 3}, 1), next_level({1, 2}, 2)
    (2, 3, None)
    """
    return min((k for k in levels if k > current), default=None)
