"""The ledger's pure core: canonical hashing, the chain, audience stubs, JSON lines, verification.

One chain of 50 entries, with random audiences among parties a, b and c and payloads that hold
the awkward values (unicode, control characters, exponents, -0.0), is exported in full and as each
party sees it; every export must verify, and every tampering must be found at the right entry.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import struct
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from itertools import pairwise
from typing import Any

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from deconfliction.errors import LedgerError
from deconfliction.ledger import (
    GENESIS,
    Entry,
    Stub,
    Verdict,
    append,
    body_bytes,
    dumps_lines,
    entry_after,
    entry_hash,
    from_json,
    loads_lines,
    to_json,
    verify,
    view,
)
from deconfliction.ledger.canonical import NotPlain, Ready, canonical, ready, ready_floats

T0 = datetime(2015, 10, 21, 6, tzinfo=UTC)
PARTIES = ("a", "b", "c")
KINDS = ("notice.filed", "notice.withdrawn", "conflict.found", "message.sent", "message.acked")
N = 50


def _payload(i: int, rng: random.Random) -> dict[str, Any]:
    return {
        "notice": f"N-{i:04d}",
        "volume": i % 3,
        "lower_m": rng.uniform(-100.0, 9_000.0),
        "ratio": [0.1, 1e21, 1e-7, -0.0, 5e-324][i % 5],
        "note": ["Überflug ✈", "Ωμέγα", "😀 ok", "tab\there", "ctl\x0f\x1f", 'q"\\/'][i % 6],
        "nested": {"z": [True, False, None], "a": {"k": i}},
    }


def _chain(n: int = N, seed: int = 1015) -> list[Entry]:
    rng = random.Random(seed)
    chain: list[Entry] = []
    last: Entry | None = None
    for i in range(n):
        last = append(
            last,
            at=T0 + timedelta(seconds=37 * i, microseconds=rng.randrange(1_000_000)),
            actor=rng.choice(("service", f"officer:{rng.randrange(1, 30)}")),
            kind=rng.choice(KINDS),
            payload=_payload(i, rng),
            audience=[p for p in PARTIES if rng.random() < 0.5],
        )
        chain.append(last)
    return chain


CHAIN = _chain()
EXPORT = dumps_lines(CHAIN)
LINES = EXPORT.splitlines(keepends=True)


def _lines(items: list[Entry | Stub]) -> list[bytes]:
    return dumps_lines(items).splitlines(keepends=True)


def _broken_at(verdict: Verdict, seq: int) -> bool:
    return not verdict.ok and verdict.first_broken == seq and f"{seq}" in verdict.reason


# --- the chain -------------------------------------------------------------------------------


def test_append__numbers_from_one_and_links_each_entry_to_the_last() -> None:
    assert [e.seq for e in CHAIN] == list(range(1, N + 1))
    assert CHAIN[0].prev == GENESIS == "0" * 64
    assert all(b.prev == a.hash for a, b in pairwise(CHAIN))
    assert all(e.hash == entry_hash(e) == hashlib.sha256(body_bytes(e)).hexdigest() for e in CHAIN)


def test_entry_after__is_append_from_the_head_alone() -> None:
    last = CHAIN[-1]
    kwargs: dict[str, Any] = {
        "at": T0,
        "actor": "service",
        "kind": "ledger.sealed",
        "payload": {"n": N},
        "audience": ["c", "a"],
    }
    assert entry_after(last.seq, last.hash, **kwargs) == append(last, **kwargs)


def test_append__sorts_the_audience_and_copies_the_payload() -> None:
    payload: dict[str, Any] = {"volumes": [1, 2]}
    entry = append(None, at=T0, actor="service", kind="k", payload=payload, audience="cbab")
    payload["volumes"].append(3)
    assert entry.audience == ("a", "b", "c")
    assert entry.payload == {"volumes": [1, 2]}
    assert verify([entry]).ok


def test_body_bytes__are_the_canonical_json_of_everything_but_the_hash() -> None:
    entry = append(
        None,
        at=datetime(2015, 10, 21, 9, tzinfo=timezone(timedelta(hours=3))),
        actor="officer:12",
        kind="notice.filed",
        payload={"notice": "C-0142", "lower_m": 3000.0, "end": None},
        audience=["russia", "coalition"],
    )
    assert body_bytes(entry) == (
        b'{"actor":"officer:12","at":"2015-10-21T06:00:00.000000Z",'
        b'"audience":["coalition","russia"],"kind":"notice.filed",'
        b'"payload":{"end":null,"lower_m":3000,"notice":"C-0142"},'
        b'"prev":"' + b"0" * 64 + b'","seq":1}'
    )
    assert entry.at == T0 and entry.at.tzinfo is UTC


# --- canonical JSON ---------------------------------------------------------------------------


def _payload_bytes(payload: dict[str, Any]) -> bytes:
    """The canonical payload, cut out of the body it is hashed in."""
    body = body_bytes(append(None, at=T0, actor="service", kind="k", payload=payload, audience=[]))
    start = body.index(b'"payload":') + len(b'"payload":')
    return body[start : body.rindex(b',"prev":')]


def test_canonical__key_order_does_not_change_the_hash() -> None:
    one = {"b": 1, "a": {"y": [1, {"q": 2, "p": 3}], "x": "é"}}
    other = {"a": {"x": "é", "y": [1, {"p": 3, "q": 2}]}, "b": 1}
    assert list(json.dumps(one)) != list(json.dumps(other))

    def entry(payload: dict[str, Any]) -> Entry:
        return append(None, at=T0, actor="service", kind="k", payload=payload, audience=["a"])

    assert entry(one).hash == entry(other).hash
    assert body_bytes(entry(one)) == body_bytes(entry(other))


def test_canonical__matches_the_rfc_8785_example() -> None:
    """RFC 8785 §3.2.2's example, as in the reference implementation's test data."""
    given_text = (
        '{"numbers": [1E30, 4.50, 333333333.33333329, 2e-3, 0.000000000000000000000000001],'
        ' "escaping": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",'
        ' "literals": [null, true, false]}'
    )
    expected = (
        '{"escaping":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/","literals":[null,true,false],'
        '"numbers":[1e+30,4.5,333333333.3333333,0.002,1e-27]}'
    ).encode()
    assert _payload_bytes(json.loads(given_text)) == expected


def test_canonical__sorts_keys_by_utf16_code_units() -> None:
    """RFC 8785 §3.2.3: U+1F602 (a surrogate pair, D83D DE02) sorts before U+FB33."""
    payload = {
        "\u20ac": "Euro Sign",
        "1": "One",
        "\u0080": "Control\u007f",
        "\U0001f602": "Smiley",
        "\u00f6": "Latin Small Letter O With Diaeresis",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "</script>": "Browser Challenge",
    }
    expected = (
        '{"1":"One","</script>":"Browser Challenge","\u0080":"Control\u007f",'
        '"\u00f6":"Latin Small Letter O With Diaeresis","\u20ac":"Euro Sign",'
        '"\U0001f602":"Smiley","\ufb33":"Hebrew Letter Dalet With Dagesh"}'
    ).encode()
    assert _payload_bytes(payload) == expected


@pytest.mark.parametrize(
    ("ieee_hex", "expected"),
    [  # RFC 8785 Appendix B
        ("0000000000000000", b"0"),
        ("8000000000000000", b"0"),
        ("0000000000000001", b"5e-324"),
        ("7fefffffffffffff", b"1.7976931348623157e+308"),
        ("4340000000000000", b"9007199254740992"),
        ("4430000000000000", b"295147905179352830000"),
        ("444b1ae4d6e2ef50", b"1e+21"),
        ("44b52d02c7e14af6", b"1e+23"),
        ("3eb0c6f7a0b5ed8d", b"0.000001"),
        ("3eb0c6f7a0b5ed8c", b"9.999999999999997e-7"),
        ("41b3de4355555555", b"333333333.3333333"),
        ("becbf647612f3696", b"-0.0000033333333333333333"),
    ],
)
def test_canonical__numbers_as_rfc_8785_appendix_b(ieee_hex: str, expected: bytes) -> None:
    (number,) = struct.unpack(">d", bytes.fromhex(ieee_hex))
    assert _payload_bytes({"x": number}) == b'{"x":' + expected + b"}"


def test_canonical__floats_and_unicode_hash_the_same_every_time() -> None:
    assert _payload_bytes({"a": 0.1, "b": 1e21, "c": -0.0, "d": 1.0}) == (
        b'{"a":0.1,"b":1e+21,"c":0,"d":1}'
    )
    assert _payload_bytes({"s": "Überflug ✈ 😀"}) == '{"s":"Überflug ✈ 😀"}'.encode()

    def entry(payload: dict[str, Any]) -> Entry:
        return append(None, at=T0, actor="service", kind="k", payload=payload, audience=[])

    assert entry({"x": -0.0}).hash == entry({"x": 0}).hash == entry({"x": 0.0}).hash
    assert entry({"x": 1.0}).hash == entry({"x": 1}).hash
    assert entry({"x": 0.1}).hash != entry({"x": 0.1 + 2**-56}).hash
    # no unicode normalisation: the same letter composed and decomposed are different content
    assert entry({"s": "\u00e9"}).hash != entry({"s": "e\u0301"}).hash


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"speed_mps": math.nan}, "payload.speed_mps"),
        ({"track": {"points": [1.0, math.inf]}}, r"payload.track.points\[1\]"),
        ({"x": -math.inf}, "payload.x"),
        ({"big": 2**53}, "payload.big"),
        ({"when": T0}, "payload.when"),
        ({"ids": {1: "a"}}, "payload.ids"),
    ],
)
def test_append__refuses_what_json_cannot_carry_naming_where(
    payload: dict[str, Any], where: str
) -> None:
    with pytest.raises(ValueError, match=where):
        append(None, at=T0, actor="service", kind="k", payload=payload, audience=[])


def test_append__refuses_a_naive_time_and_an_empty_kind() -> None:
    naive = datetime(2015, 10, 21, 6)
    with pytest.raises(ValueError, match="timezone-aware"):
        append(None, at=naive, actor="service", kind="k", payload={}, audience=[])
    with pytest.raises(ValueError, match="kind"):
        append(None, at=T0, actor="service", kind="", payload={}, audience=[])


# --- views and JSON lines ---------------------------------------------------------------------


def test_view__full_inside_the_audience_a_stub_outside() -> None:
    entry = next(e for e in CHAIN if e.audience == ("a", "c"))
    assert view(entry, "a") is entry
    assert view(entry, None) is entry
    assert view(entry, "b") == Stub(seq=entry.seq, prev=entry.prev, hash=entry.hash)


def test_json__round_trips_entries_and_stubs() -> None:
    for entry in CHAIN[:12]:
        assert from_json(json.loads(json.dumps(to_json(entry)))) == entry
    stub = view(CHAIN[3], "nobody")
    assert to_json(stub) == {"seq": 4, "prev": CHAIN[2].hash, "hash": CHAIN[3].hash, "stub": True}
    assert from_json(to_json(stub)) == stub
    assert loads_lines(EXPORT) == CHAIN
    assert loads_lines(EXPORT.rstrip(b"\n")) == CHAIN
    assert loads_lines(b"") == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"extra": 1}, "entry 7: unknown key 'extra'"),
        ({"kind": None}, "entry 7: kind must be a non-empty string"),
        ({"at": "2015-10-21T06:00:00Z"}, "entry 7: at must be RFC 3339"),
        ({"at": "2015-10-21 06:00:00.000000Z"}, "entry 7: at must be RFC 3339"),
        ({"audience": ["b", "a"]}, "entry 7: audience must be sorted"),
        ({"hash": "A" * 64}, "entry 7: hash must be 64 lowercase hex"),
        ({"seq": 0}, "seq must be a whole number"),
        ({"stub": True}, "entry 7: unknown key 'actor'"),
    ],
)
def test_from_json__names_the_entry_and_what_is_wrong(change: dict[str, Any], message: str) -> None:
    doc = {**to_json(CHAIN[6]), **change}
    with pytest.raises(LedgerError, match=message):
        from_json(doc)


def test_from_json__needs_every_key() -> None:
    doc = to_json(CHAIN[6])
    del doc["payload"]
    with pytest.raises(LedgerError, match="entry 7: missing key 'payload'"):
        from_json(doc)
    with pytest.raises(LedgerError, match="entry 3: stub must be true"):
        from_json({"seq": 3, "prev": GENESIS, "hash": GENESIS, "stub": False})


@pytest.mark.parametrize(
    ("line", "message"),
    [
        (b"not json", r"not JSON.*\(line 3\)"),
        (b"[1, 2]", r"not a JSON object \(line 3\)"),
        (b"", r"line 3"),
        (json.dumps(to_json(CHAIN[2]), indent=1).replace("\n", "").encode(), r"canonical.*line 3"),
        (dumps_lines([CHAIN[2]]).replace(b'"hash"', b'"hush"', 1).rstrip(), r"entry 3.*line 3"),
    ],
)
def test_loads_lines__names_the_line(line: bytes, message: str) -> None:
    data = b"".join([*LINES[:2], line + b"\n", *LINES[3:]])
    with pytest.raises(LedgerError, match=message):
        loads_lines(data)


# --- verification -----------------------------------------------------------------------------


def test_verify__accepts_the_full_export() -> None:
    verdict = verify(loads_lines(EXPORT))
    assert verdict == Verdict(
        ok=True,
        entries=N,
        stubs=0,
        first_broken=None,
        reason=f"entries 1 to {N} hold: {N} in full, 0 stubs",
    )
    assert verify([]).ok


@pytest.mark.parametrize("party", PARTIES)
def test_verify__accepts_each_partys_view(party: str) -> None:
    items = loads_lines(dumps_lines(view(e, party) for e in CHAIN))
    readable = sum(party in e.audience for e in CHAIN)
    assert 0 < readable < N  # the chain has both kinds for every party
    verdict = verify(items)
    assert verdict.ok, verdict.reason
    assert (verdict.entries, verdict.stubs) == (readable, N - readable)


def test_verify__a_stub_in_place_of_an_entry_keeps_the_chain() -> None:
    items: list[Entry | Stub] = list(CHAIN)
    items[16] = view(CHAIN[16], "nobody")
    verdict = verify(loads_lines(dumps_lines(items)))
    assert verdict.ok and (verdict.entries, verdict.stubs) == (N - 1, 1)


def test_verify__a_feed_read_after_n_is_checked_from_where_it_starts() -> None:
    feed = [view(e, "b") for e in CHAIN[20:]]
    assert verify(feed, partial=True).ok
    assert verify(feed).reason == "line 1: expected entry 1, found 21"
    assert verify(CHAIN, partial=True).ok
    assert _broken_at(verify([*feed[:5], *feed[6:]], partial=True), 26)


def test_verify__a_changed_payload_breaks_its_own_hash() -> None:
    items = list(CHAIN)
    items[16] = replace(CHAIN[16], payload={**CHAIN[16].payload, "volume": 7})
    verdict = verify(items)
    assert _broken_at(verdict, 17)
    assert verdict.reason == "entry 17: hash does not match its content"


def test_verify__a_rehashed_entry_breaks_the_next_link() -> None:
    forged = replace(CHAIN[16], audience=("a", "b", "c"))
    items = [*CHAIN[:16], replace(forged, hash=entry_hash(forged)), *CHAIN[17:]]
    verdict = verify(items)
    assert _broken_at(verdict, 18)
    assert verdict.reason == "entry 18: prev does not match the hash of entry 17"


def test_verify__entry_1_must_follow_the_genesis() -> None:
    forged = replace(CHAIN[0], prev="1" * 64)
    verdict = verify([replace(forged, hash=entry_hash(forged)), *CHAIN[1:]])
    assert verdict.reason == "entry 1: prev is not the genesis hash"
    assert verdict.first_broken == 1


def test_verify__an_unhashable_entry_is_broken_not_an_error() -> None:
    items = [*CHAIN[:4], replace(CHAIN[4], payload={"x": math.nan}), *CHAIN[5:]]
    verdict = verify(items)
    assert _broken_at(verdict, 5) and "cannot be hashed" in verdict.reason


@pytest.mark.parametrize("k", [1, 2, 17, N - 1])
def test_verify__a_removed_line_is_found_where_it_was(k: int) -> None:
    lines = [*LINES[: k - 1], *LINES[k:]]
    verdict = verify(loads_lines(b"".join(lines)))
    assert _broken_at(verdict, k)
    assert verdict.reason == f"line {k}: expected entry {k}, found {k + 1}"


@pytest.mark.parametrize(("i", "j"), [(1, 2), (17, 18), (5, 40), (N - 1, N)])
def test_verify__swapped_lines_are_found_at_the_first(i: int, j: int) -> None:
    lines = list(LINES)
    lines[i - 1], lines[j - 1] = lines[j - 1], lines[i - 1]
    verdict = verify(loads_lines(b"".join(lines)))
    assert _broken_at(verdict, i)
    assert verdict.reason == f"line {i}: expected entry {i}, found {j}"


@pytest.mark.parametrize("k", [1, 17, N])
def test_verify__a_duplicated_line_is_found_at_the_copy(k: int) -> None:
    lines = [*LINES[:k], LINES[k - 1], *LINES[k:]]
    verdict = verify(loads_lines(b"".join(lines)))
    assert _broken_at(verdict, k + 1)
    assert verdict.reason == f"line {k + 1}: expected entry {k + 1}, found {k}"


def test_verify__cannot_yet_see_what_only_a_signed_head_shows() -> None:
    """Pinned limits (issue 4's countersignature closes them): a cut-off tail, and the hash of a
    trailing stub, which nothing after it links to and no content recomputes."""
    assert verify(CHAIN[:-1]).ok
    forged = [*CHAIN[:-1], Stub(seq=N, prev=CHAIN[-2].hash, hash="f" * 64)]
    assert verify(forged).ok


def _changed(data: bytes, position: int, delta: int) -> bytes:
    changed = bytearray(data)
    changed[position] = (changed[position] + delta) % 256
    return bytes(changed)


def _found_on_line(data: bytes, line: int, *, partial: bool = False) -> bool:
    """Whether reading and verifying ``data`` fails on ``line`` (entry ``line`` of a full chain)."""
    try:
        verdict = verify(loads_lines(data), partial=partial)
    except LedgerError as exc:
        return f"(line {line})" in str(exc)
    return _broken_at(verdict, line)


@settings(max_examples=200, deadline=None)
@given(position=st.integers(0, len(EXPORT) - 1), delta=st.integers(1, 255))
def test_export__any_changed_byte_is_found_on_its_line(position: int, delta: int) -> None:
    line = EXPORT.count(b"\n", 0, position) + 1  # a changed newline joins its line to the next
    assert _found_on_line(_changed(EXPORT, position, delta), line)


VIEW_B = dumps_lines(view(e, "b") for e in CHAIN)


@settings(max_examples=100, deadline=None)
@given(position=st.integers(0, len(VIEW_B) - 1), delta=st.integers(1, 255))
def test_view__any_changed_byte_is_found_on_its_line_or_the_next(position: int, delta: int) -> None:
    """A stub's own hash is checked by the next entry's ``prev``, so its change is found there."""
    line = VIEW_B.count(b"\n", 0, position) + 1
    data = _changed(VIEW_B, position, delta)
    assert _found_on_line(data, line) or (line < N and _found_on_line(data, line + 1))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=20,
)


@settings(max_examples=500, deadline=None)
@given(json_values)
def test_canonical__writes_exactly_what_rfc8785_writes(value: object) -> None:
    assert canonical(value) == rfc8785.dumps(value)


@pytest.mark.parametrize(
    "value",
    [
        *(0.1, 1e-7, 1e-4, 123.456, 1e16, 1e21, 2.0**53, -0.0, 5e-324, 1.7976931348623157e308),
        # either side of where repr (and orjson) switch to an exponent
        *(math.nextafter(1e-4, 0), math.nextafter(1e-4, 1), -1e-4, 0.00012345678901234),
        *(math.nextafter(1e16, 0), 1234567890123456.7, -9999999999999998.0, 1e15 + 0.5),
    ],
)
def test_canonical__floats_at_the_edges_of_plain_notation(value: float) -> None:
    assert canonical({"x": value}) == rfc8785.dumps({"x": value})


EDGE_FLOATS = [
    *(0.0, -0.0, 1e-4, math.nextafter(1e-4, 0), 1e16, math.nextafter(1e16, 0), 2.0**53),
    *(math.nextafter(2.0**53, 0), -(2.0**53), 5e-324, math.inf, -math.inf, math.nan, 1852.5),
]


@settings(max_examples=500, deadline=None)
@given(st.lists(st.floats() | st.sampled_from(EDGE_FLOATS), max_size=8))
def test_ready_floats__is_ready_of_each_value(values: list[float]) -> None:
    """The column-at-once path gives what :func:`ready` gives value by value, type for type, and
    refuses exactly when it refuses one of them."""
    try:
        expected = [ready(v) for v in values]
    except NotPlain:
        with pytest.raises(NotPlain):
            ready_floats(values)
        return
    got = ready_floats(values)
    assert got == expected
    assert [type(v) for v in got] == [type(v) for v in expected]


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(max_size=8), json_values, max_size=5))
def test_append__hashes_what_rfc8785_writes_of_the_payload_as_given(payload: dict) -> None:
    """The one-walk path (check, copy and ready at once) and the general one hash alike, and
    the copy says the same as what was given: an independent RFC 8785 writer is the oracle."""
    entry = append(None, at=T0, actor="service", kind="k", payload=payload, audience=["a"])
    body = {
        "seq": 1,
        "at": "2015-10-21T06:00:00.000000Z",
        "actor": "service",
        "kind": "k",
        "payload": payload,
        "audience": ["a"],
        "prev": entry.prev,
    }
    assert entry.hash == hashlib.sha256(rfc8785.dumps(body)).hexdigest()
    assert rfc8785.dumps(entry.payload) == rfc8785.dumps(payload)


@given(
    st.lists(
        st.fixed_dictionaries(
            {"id": st.integers(1, 2**31), "name": st.text(max_size=8)},
            optional={"m": st.floats(allow_nan=False, allow_infinity=False)},
        ),
        max_size=5,
    )
)
def test_entry_after__a_ready_part_hashes_as_the_plain_value_would(
    lines: list[dict[str, Any]],
) -> None:
    try:
        part: Any = Ready([ready(line) for line in lines])
    except NotPlain:  # a float orjson would spell with an exponent: no ready part to make
        return
    kwargs: dict[str, Any] = {"at": T0, "actor": "service", "kind": "k", "audience": ["a"]}
    fast = entry_after(0, GENESIS, payload={"lines": part}, **kwargs)
    plain = entry_after(0, GENESIS, payload={"lines": lines}, **kwargs)
    assert fast.hash == plain.hash == entry_hash(fast)
    assert rfc8785.dumps(fast.payload) == rfc8785.dumps({"lines": lines})


def test_entry_after__a_ready_part_inside_a_payload_that_needs_the_slow_walk() -> None:
    # the exponent sends the payload to the walk that names what it refuses: it unwraps the part
    payload = {"tiny": 1e-7, "lines": Ready([{"id": 1}])}
    entry = entry_after(0, GENESIS, at=T0, actor="service", kind="k", payload=payload, audience="a")
    assert entry.payload == {"tiny": 1e-7, "lines": [{"id": 1}]}
    assert entry.hash == entry_hash(entry)
