"""The agreement: the memorandum the parties signed, loaded from TOML and validated.

Everything the service enforces between parties comes from here: who the parties are, how far apart
planned activities must stay, how much notice each activity needs and how fast messages must be
acknowledged. A key that is missing, unknown or out of range is an :class:`AgreementError` that
names the key.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from deconfliction.errors import AgreementError
from deconfliction.strategic.notice import Activity

PRECEDENCES = ("FLASH", "IMMEDIATE", "PRIORITY", "ROUTINE")
DEFAULT_CHANNEL = "command"
"""The channel every pair of parties has when the agreement names none."""


@dataclass(frozen=True, slots=True)
class Party:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Channel:
    """A line between two parties (``parties`` sorted), e.g. ``air``, ``ground``, ``command``."""

    name: str
    parties: tuple[str, str]


@dataclass(frozen=True, slots=True)
class Separation:
    """Minima for planned operations: a pair of volumes closer than all three is a conflict."""

    horizontal_m: float = 18_520.0  # 10 NM
    vertical_m: float = 609.6  # 2,000 ft
    time_s: float = 900.0  # 15 minutes


@dataclass(frozen=True, slots=True)
class Tactical:
    """Minima and look-ahead for live tracks (civil radar separation by default)."""

    horizontal_m: float = 9_260.0  # 5 NM
    vertical_m: float = 304.8  # 1,000 ft
    lookahead_s: float = 300.0


DEFAULT_PRECEDENCE = {
    "FLASH": timedelta(minutes=10),
    "IMMEDIATE": timedelta(minutes=30),
    "PRIORITY": timedelta(hours=3),
    "ROUTINE": timedelta(hours=6),
}


@dataclass(frozen=True, slots=True)
class Agreement:
    name: str
    parties: tuple[Party, ...]
    separation: Separation = Separation()
    tactical: Tactical = Tactical()
    notice_period: dict[Activity, timedelta] = field(default_factory=dict)
    precedence: dict[str, timedelta] = field(default_factory=lambda: dict(DEFAULT_PRECEDENCE))
    channels: tuple[Channel, ...] = ()

    def party(self, party_id: str) -> Party | None:
        return next((p for p in self.parties if p.id == party_id), None)

    def channels_between(self, a: str, b: str) -> list[str]:
        """The names of the channels between parties ``a`` and ``b``, in agreement order."""
        pair = tuple(sorted((a, b)))
        return [c.name for c in self.channels if c.parties == pair]


# ---- parsing: pydantic models mirror the TOML, then become the dataclasses above ----

_PartyId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
_Metres = Annotated[float, Field(ge=0, le=1_000_000, allow_inf_nan=False)]
_Seconds = Annotated[float, Field(ge=0, le=86_400 * 30, allow_inf_nan=False)]
_Duration = Annotated[timedelta, Field(ge=timedelta(0))]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class _Party(_Strict):
    id: _PartyId
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]


_SEPARATION = Separation()  # slotted dataclasses keep defaults on instances, not the class
_TACTICAL = Tactical()


class _Separation(_Strict):
    horizontal_m: _Metres = _SEPARATION.horizontal_m
    vertical_m: _Metres = _SEPARATION.vertical_m
    time_s: _Seconds = _SEPARATION.time_s


class _Tactical(_Strict):
    horizontal_m: _Metres = _TACTICAL.horizontal_m
    vertical_m: _Metres = _TACTICAL.vertical_m
    lookahead_s: Annotated[float, Field(gt=0, le=3600, allow_inf_nan=False)] = _TACTICAL.lookahead_s


_ChannelName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]


class _Channel(_Strict):
    name: _ChannelName
    parties: Annotated[list[_PartyId], Field(min_length=2, max_length=2)]


class _Agreement(_Strict):
    name: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    party: Annotated[list[_Party], Field(min_length=2)]
    separation: _Separation = _Separation()
    tactical: _Tactical = _Tactical()
    notice_period: dict[Activity, _Duration] = {}
    precedence: dict[str, _Duration] = {}
    channel: list[_Channel] = []


def parse_agreement(data: dict[str, Any]) -> Agreement:
    """Validate an agreement given as a mapping (the parsed TOML).

    >>> a = parse_agreement({"name": "M", "party": [{"id": "a", "name": "A"},
    ...                                             {"id": "b", "name": "B"}]})
    >>> a.separation.horizontal_m, a.precedence["FLASH"]
    (18520.0, datetime.timedelta(seconds=600))
    >>> parse_agreement({"name": "M", "party": []})
    Traceback (most recent call last):
    ...
    deconfliction.errors.AgreementError: agreement key 'party': List should have at least 2 items after validation, not 0
    """  # noqa: E501
    try:
        raw = _Agreement.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(part) for part in first["loc"])
        raise AgreementError(first["msg"], field=key) from None
    ids = [p.id for p in raw.party]
    duplicate = next((i for i in ids if ids.count(i) > 1), None)
    if duplicate is not None:
        raise AgreementError(f"party id {duplicate!r} appears twice", field="party.id")
    unknown = sorted(set(raw.precedence) - set(PRECEDENCES))
    if unknown:
        raise AgreementError(
            f"unknown precedence {unknown[0]!r}; valid: {', '.join(PRECEDENCES)}",
            field=f"precedence.{unknown[0]}",
        )
    channels = _channels(raw.channel, ids)
    return Agreement(
        name=raw.name,
        parties=tuple(Party(p.id, p.name) for p in raw.party),
        separation=Separation(**raw.separation.model_dump()),
        tactical=Tactical(**raw.tactical.model_dump()),
        notice_period=dict(raw.notice_period),
        precedence={**DEFAULT_PRECEDENCE, **raw.precedence},
        channels=channels,
    )


def _channels(raw: list[_Channel], ids: list[str]) -> tuple[Channel, ...]:
    """The agreement's channels; without any, a ``command`` channel between every pair."""
    if not raw:
        pairs = [(a, b) for k, a in enumerate(sorted(ids)) for b in sorted(ids)[k + 1 :]]
        return tuple(Channel(DEFAULT_CHANNEL, (a, b)) for a, b in pairs)
    channels: list[Channel] = []
    for k, c in enumerate(raw):
        stranger = next((p for p in c.parties if p not in ids), None)
        if stranger is not None:
            raise AgreementError(f"{stranger!r} is not a party", field=f"channel.{k}.parties")
        a, b = sorted(c.parties)
        if a == b:
            raise AgreementError("a channel joins two different parties", field=f"channel.{k}")
        if Channel(c.name, (a, b)) in channels:
            raise AgreementError(f"channel {c.name!r} appears twice", field=f"channel.{k}")
        channels.append(Channel(c.name, (a, b)))
    return tuple(channels)


def load_agreement(path: str | Path) -> Agreement:
    """Read and validate an agreement TOML file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise AgreementError(f"cannot read {path}: {exc.strerror}") from None
    return loads_agreement(text)


def loads_agreement(text: str) -> Agreement:
    """Validate an agreement given as TOML text."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise AgreementError(f"not valid TOML: {exc}") from None
    return parse_agreement(data)
