"""The read-back through the API and the command line: filing answers with it, a preview gives
it before anything is stored (with conflicts only against what the caller already sees), and
``deconfliction readback`` says it offline."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support import feature, row_counts, serving, write
from typer.testing import CliRunner

from deconfliction.cli import app
from deconfliction.officers import Role
from deconfliction.store import SqlUnitOfWork

DEIR_EZ_ZOR = (40.1409, 35.3359)  # GeoNames' point for the city


@pytest.fixture
def api(database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, Any, SqlUnitOfWork]]:
    with serving(database_url, tmp_path) as served:
        yield served


def collection(ref: str, lon: float, lat: float = 35.0, **top: Any) -> dict[str, Any]:
    f = feature(ref, "ignored", lon)
    f["geometry"]["coordinates"] = [lon, lat]  # type: ignore[index]
    del f["properties"]["party"]  # type: ignore[index]
    return {"type": "FeatureCollection", "features": [f], **top}


def bearer(tokens: Any, party: str, role: Role = Role.OFFICER) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens[(party, role)]}"}


def test_filing_answers_with_the_read_back_of_each_volume(api: Any) -> None:
    client, tokens, _ = api
    body = collection("C-1", DEIR_EZ_ZOR[0], DEIR_EZ_ZOR[1] + 0.09)  # ~10 km north
    answer = client.post("/v1/notices", json=body, headers=bearer(tokens, "coalition"))
    assert answer.status_code == 201, answer.text
    (rb,) = answer.json()["readback"]
    assert rb["place"]["name"] == "Deir ez-Zor" and rb["place"]["compass"] == "N"
    assert 9_000 < rb["place"]["distance_m"] < 11_000
    assert rb["centre"]["mgrs"].startswith("37S")
    assert "Deir ez-Zor" in rb["text"] and "MGRS" in rb["text"]
    assert rb["altitude"]["lower_m"] == 3000


def test_a_preview_stores_nothing_and_shows_conflicts_only_with_what_the_caller_sees(
    api: Any,
) -> None:
    client, tokens, uow = api
    shared = collection("R-1", 38.5)
    hidden = collection("T-1", 38.5, shared_with=["turkey"])
    assert (
        client.post("/v1/notices", json=shared, headers=bearer(tokens, "russia")).status_code == 201
    )
    assert (
        client.post("/v1/notices", json=hidden, headers=bearer(tokens, "turkey")).status_code == 201
    )
    before = row_counts(uow.engine)
    mine = collection("C-1", 38.5)
    preview = client.post("/v1/readback", json=mine, headers=bearer(tokens, "coalition"))
    assert preview.status_code == 200, preview.text
    assert row_counts(uow.engine) == before
    assert [
        c["b"]["notice"] if c["a"]["notice"] == "C-1" else c["a"]["notice"]
        for c in preview.json()["conflicts"]
    ] == ["R-1"]
    assert len(preview.json()["readback"]) == 1
    filed = client.post("/v1/notices", json=mine, headers=bearer(tokens, "coalition")).json()
    assert {c["a"]["notice"] for c in filed["conflicts"]} == {"R-1", "T-1"}  # now recorded


def test_a_preview_refuses_what_filing_refuses(api: Any) -> None:
    client, tokens, _ = api
    bad = collection("C-1", 38.5)
    bad["features"][0]["properties"]["upper_m"] = 1000  # below lower_m
    answer = client.post("/v1/readback", json=bad, headers=bearer(tokens, "coalition"))
    assert answer.status_code == 422 and answer.json()["field"] in ("lower_m", "upper_m")
    observer = client.post(
        "/v1/readback",
        json=collection("C-2", 38.5),
        headers=bearer(tokens, "coalition", Role.OBSERVER),
    )
    assert observer.status_code == 403
    assert client.post("/v1/readback", json=collection("C-3", 38.5)).status_code == 401


def test_the_readback_command(tmp_path: Path) -> None:
    path = write(tmp_path / "n.geojson", feature("C-1", "coalition", 38.5))
    result = CliRunner().invoke(app, ["readback", str(path)])
    assert result.exit_code == 0, result.output
    assert "C-1 (coalition) volume 0" in result.stdout and "MGRS 37S" in result.stdout
    as_json = CliRunner().invoke(app, ["readback", "--json", str(path)])
    assert '"mgrs":"37S' in as_json.stdout
    missing = CliRunner().invoke(app, ["readback", str(tmp_path / "nope.geojson")])
    assert missing.exit_code == 2
