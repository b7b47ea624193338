"""Notices from GeoJSON (the DESIGN.md format) and conflicts back to GeoJSON.

One Feature is one volume; features with the same ``notice`` are that notice's volumes, in order.
Every problem is a :class:`NoticeError` naming the notice, the volume and the field. Properties
that are not in the format are rejected rather than ignored: a party that sends ``target`` learns
at once that the system does not take it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import numpy as np
import orjson

from deconfliction.errors import NoticeError
from deconfliction.geo.frame import GEOD
from deconfliction.geo.volume import FT_M, Circle, Outline, Polygon, Volume
from deconfliction.strategic.detect import Conflict
from deconfliction.strategic.notice import Activity, Notice
from deconfliction.utc import rfc3339

MAX_FEATURES = 1_000_000
_ALLOWED = {
    "notice",
    "party",
    "activity",
    "start",
    "end",
    "lower_m",
    "upper_m",
    "lower_ft",
    "upper_ft",
    "radius_m",
    "remarks",
}
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")
_PARTY = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def loads_notices(text: str | bytes) -> list[Notice]:
    """Parse a GeoJSON FeatureCollection of volumes into notices, in order of first appearance."""
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise NoticeError(f"not valid JSON: {exc}") from None
    return parse_notices(doc)


def parse_notices(doc: Any) -> list[Notice]:
    """Notices from an already decoded FeatureCollection (see :func:`loads_notices`)."""
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection":
        raise NoticeError("expected a GeoJSON FeatureCollection", field="type")
    features = doc.get("features")
    if not isinstance(features, list):
        raise NoticeError("expected a list of features", field="features")
    if len(features) > MAX_FEATURES:
        raise NoticeError(f"{len(features)} features; at most {MAX_FEATURES}", field="features")
    shared = _shared_with(doc.get("shared_with"))
    grouped: dict[tuple[str, str], list[tuple[dict[str, Any], Volume]]] = {}
    for n, feature in enumerate(features):
        props = _properties(feature, n)
        key = (props["party"], props["notice"])
        volume_index = len(grouped.get(key, []))
        volume = _volume(feature, props, volume_index)
        grouped.setdefault(key, []).append((props, volume))
    return [_notice(ref, party, entries, shared) for (party, ref), entries in grouped.items()]


def _shared_with(value: Any) -> tuple[str, ...] | None:
    """The optional top-level ``shared_with``: the parties that see these notices (default all)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(p, str) and _PARTY.match(p) for p in value
    ):
        raise NoticeError("must be a list of party ids", field="shared_with")
    return tuple(sorted(set(value)))


def _properties(feature: Any, n: int) -> dict[str, Any]:
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise NoticeError("expected a GeoJSON Feature", field=f"features[{n}]")
    props = feature.get("properties")
    if not isinstance(props, dict):
        raise NoticeError("a feature needs properties", field=f"features[{n}].properties")
    ref = props.get("notice")
    if not isinstance(ref, str) or not _REF.match(ref):
        raise NoticeError(
            "needs a reference of 1-64 letters, digits or ._:/- characters",
            field=f"features[{n}].properties.notice",
        )
    party = props.get("party")
    if not isinstance(party, str) or not _PARTY.match(party):
        raise NoticeError(
            "needs a party id (lower-case letters, digits, _ or -)", notice=ref, field="party"
        )
    return props


def _number(props: dict[str, Any], name: str, ref: str, i: int) -> float:
    value = props.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise NoticeError("must be a number", notice=ref, volume=i, field=name)
    if not math.isfinite(value):
        raise NoticeError("must be a finite number", notice=ref, volume=i, field=name)
    return float(value)


def _time(props: dict[str, Any], name: str, ref: str, i: int) -> datetime:
    value = props.get(name)
    try:
        if not isinstance(value, str):
            raise ValueError
        t = datetime.fromisoformat(value)
    except ValueError:
        raise NoticeError(
            "must be an RFC 3339 time, e.g. 2015-10-21T06:00:00Z", notice=ref, volume=i, field=name
        ) from None
    if t.tzinfo is None:
        raise NoticeError(
            "needs a UTC offset, e.g. 2015-10-21T06:00:00Z", notice=ref, volume=i, field=name
        )
    return t


def _band(props: dict[str, Any], ref: str, i: int) -> tuple[float, float]:
    metres, feet = (
        "lower_m" in props or "upper_m" in props,
        "lower_ft" in props or "upper_ft" in props,
    )
    if metres and feet:
        raise NoticeError(
            "give the band in metres or in feet, not both", notice=ref, volume=i, field="lower_ft"
        )
    if feet:
        return (
            _number(props, "lower_ft", ref, i) * FT_M,
            _number(props, "upper_ft", ref, i) * FT_M,
        )
    return _number(props, "lower_m", ref, i), _number(props, "upper_m", ref, i)


def _position(value: Any, ref: str, i: int, field: str) -> tuple[float, float]:
    ok = (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    )
    if not ok:
        raise NoticeError(
            "a position is [longitude, latitude] (altitudes go in lower/upper)",
            notice=ref,
            volume=i,
            field=field,
        )
    return float(value[0]), float(value[1])


def _ring(positions: list[Any], ref: str, i: int) -> list[tuple[float, float]]:
    """A ring's positions as (lon, lat) tuples: one array conversion, or the exact culprit."""
    try:
        arr = np.array(positions)
    except (ValueError, TypeError):  # ragged
        arr = None
    if arr is None or arr.dtype.kind not in "fi" or arr.ndim != 2 or arr.shape[1] != 2:
        return [
            _position(p, ref, i, f"geometry.coordinates[0][{k}]") for k, p in enumerate(positions)
        ]
    return list(zip(arr[:, 0].tolist(), arr[:, 1].tolist(), strict=True))


def _outline(feature: dict[str, Any], props: dict[str, Any], ref: str, i: int) -> Outline:
    geometry = feature.get("geometry")
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if kind == "Point":
        lon, lat = _position(coords, ref, i, "geometry.coordinates")
        if "radius_m" not in props:
            raise NoticeError(
                "a Point is a circle and needs radius_m", notice=ref, volume=i, field="radius_m"
            )
        return Circle(lon, lat, _number(props, "radius_m", ref, i))
    if kind == "Polygon":
        if "radius_m" in props:
            raise NoticeError("only a Point takes radius_m", notice=ref, volume=i, field="radius_m")
        if not isinstance(coords, list) or len(coords) != 1 or not isinstance(coords[0], list):
            raise NoticeError(
                "a Polygon is exactly one ring (holes are not supported)",
                notice=ref,
                volume=i,
                field="geometry.coordinates",
            )
        ring = _ring(coords[0], ref, i)
        if len(ring) < 4 or ring[0] != ring[-1]:
            raise NoticeError(
                "the ring is not closed: its last position must repeat the first",
                notice=ref,
                volume=i,
                field="geometry.coordinates",
            )
        return Polygon(tuple(ring[:-1]))
    raise NoticeError(
        "the geometry must be a Polygon or a Point with radius_m",
        notice=ref,
        volume=i,
        field="geometry.type",
    )


def _volume(feature: dict[str, Any], props: dict[str, Any], i: int) -> Volume:
    ref = props["notice"]
    unknown = sorted(set(props) - _ALLOWED)
    if unknown:
        raise NoticeError(
            f"unknown property; allowed: {', '.join(sorted(_ALLOWED))}",
            notice=ref,
            volume=i,
            field=unknown[0],
        )
    lower, upper = _band(props, ref, i)
    start, end = _time(props, "start", ref, i), _time(props, "end", ref, i)
    return Volume(_outline(feature, props, ref, i), lower, upper, start, end)


def _notice(
    ref: str,
    party: str,
    entries: list[tuple[dict[str, Any], Volume]],
    shared: tuple[str, ...] | None,
) -> Notice:
    first = entries[0][0]
    try:
        activity = Activity(first.get("activity"))
    except ValueError:
        raise NoticeError(
            f"must be one of {', '.join(a.value for a in Activity)}",
            notice=ref,
            volume=0,
            field="activity",
        ) from None
    for k, (props, _) in enumerate(entries):
        if props.get("activity") != activity.value:
            raise NoticeError(
                "every volume of a notice has the same activity",
                notice=ref,
                volume=k,
                field="activity",
            )
    remarks = first.get("remarks", "")
    if not isinstance(remarks, str) or len(remarks) > 2000:
        raise NoticeError("must be text of at most 2000 characters", notice=ref, field="remarks")
    if "\x00" in remarks:
        raise NoticeError("must not contain NUL characters", notice=ref, field="remarks")
    others = None if shared is None else tuple(p for p in shared if p != party)
    return Notice(ref, party, activity, tuple(v for _, v in entries), remarks, others)


def outline_geometry(outline: Outline, *, circle_points: int = 72) -> dict[str, Any]:
    """A GeoJSON Polygon for an outline (circles drawn with ``circle_points`` geodesic points)."""
    if isinstance(outline, Circle):
        az = np.linspace(0.0, 360.0, circle_points, endpoint=False)
        lon, lat, _ = GEOD.fwd(
            np.full(circle_points, outline.lon),
            np.full(circle_points, outline.lat),
            az,
            np.full(circle_points, outline.radius_m),
        )
        ring = [[float(x), float(y)] for x, y in zip(lon, lat, strict=True)]
    else:
        ring = [[x, y] for x, y in outline.vertices]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def volume_feature(notice: Notice, volume: Volume, *, remarks: bool = False) -> dict[str, Any]:
    """One volume as a Feature in the format :func:`loads_notices` reads (a circle stays a Point
    with ``radius_m``); the notice's remarks only when asked, since they are the owner's alone."""
    props: dict[str, Any] = {
        "notice": notice.ref,
        "party": notice.party,
        "activity": notice.activity.value,
        "start": rfc3339(volume.start),
        "end": rfc3339(volume.end),
        "lower_m": volume.lower_m,
        "upper_m": volume.upper_m,
    }
    outline = volume.outline
    if isinstance(outline, Circle):
        geometry: dict[str, Any] = {"type": "Point", "coordinates": [outline.lon, outline.lat]}
        props["radius_m"] = outline.radius_m
    else:
        geometry = outline_geometry(outline)
    if remarks and notice.remarks:
        props["remarks"] = notice.remarks
    return {"type": "Feature", "geometry": geometry, "properties": props}


def notices_geojson(notices: Iterable[Notice], *, remarks: bool = False) -> dict[str, Any]:
    """Notices as a FeatureCollection that :func:`loads_notices` reads back unchanged."""
    return {
        "type": "FeatureCollection",
        "features": [volume_feature(n, v, remarks=remarks) for n in notices for v in n.volumes],
    }


def conflicts_geojson(conflicts: Iterable[Conflict], notices: Iterable[Notice]) -> dict[str, Any]:
    """Conflicts as a FeatureCollection: the two outlines, with the conflict line as properties.

    Outlines are drawn from the vertices (viewers draw straight edges, not geodesics).
    """
    outlines = {(n.party, n.ref, k): v.outline for n in notices for k, v in enumerate(n.volumes)}
    features = []
    for c in conflicts:
        geoms = [outline_geometry(outlines[(r.party, r.notice, r.volume)]) for r in (c.a, c.b)]
        features.append(
            {
                "type": "Feature",
                "properties": c.to_json(),
                "geometry": {"type": "GeometryCollection", "geometries": geoms},
            }
        )
    return {"type": "FeatureCollection", "features": features}
