"""``deconfliction check``: exit codes, output formats and flags, compared with the library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from deconfliction.agreement import Separation, load_agreement
from deconfliction.cli import app
from deconfliction.ingest.geojson import loads_notices
from deconfliction.strategic.detect import find_conflicts, prepare_many

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTICES = EXAMPLES / "notices.geojson"
AGREEMENT = EXAMPLES / "agreement.toml"

runner = CliRunner()


def check(*args: str | Path) -> Any:
    return runner.invoke(app, ["check", *map(str, args)])


def expected(sep: Separation, path: Path = NOTICES) -> list[dict[str, Any]]:
    """The conflict lines as the library gives them, through JSON and back."""
    items = prepare_many(loads_notices(path.read_bytes()))
    return [json.loads(orjson.dumps(c.to_json())) for c in find_conflicts(items, sep)]


def lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines()]


def write(path: Path, *features: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"type": "FeatureCollection", "features": list(features)}))
    return path


def circle(notice: str, party: str, lon: float, **props: Any) -> dict[str, Any]:
    p = {
        "notice": notice,
        "party": party,
        "activity": "air",
        "radius_m": 5_000,
        "start": "2015-10-21T06:00:00Z",
        "end": "2015-10-21T09:00:00Z",
        "lower_m": 1_000,
        "upper_m": 3_000,
    }
    p.update(props)
    return {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [lon, 35.0]},
        "properties": p,
    }


# ---- the example ------------------------------------------------------------------------------


def test_check__example_exits_1_with_the_conflicts_as_json_lines() -> None:
    result = check(NOTICES, "--agreement", AGREEMENT)
    assert result.exit_code == 1, result.output
    got = lines(result.stdout)
    assert got == expected(load_agreement(AGREEMENT).separation)
    assert len(got) == 3
    assert result.stdout.endswith("\n")


def test_check__example_lines_have_the_design_fields() -> None:
    got = lines(check(NOTICES, "--agreement", AGREEMENT).stdout)
    for line in got:
        assert set(line) == {"a", "b", "start", "end", "horizontal_m", "vertical_m", "time_gap_s"}
        for side in ("a", "b"):
            assert set(line[side]) == {"notice", "volume", "party"}
        assert line["a"]["party"] != line["b"]["party"]
        assert line["start"].endswith("Z") and line["end"].endswith("Z")
        assert line["start"] <= line["end"]
    pairs = {(line["a"]["notice"], line["b"]["notice"]) for line in got}
    assert ("C-0142", "R-77") in pairs  # the two overlapping in the DESIGN example


def test_check__without_an_agreement_uses_the_default_minima() -> None:
    result = check(NOTICES)
    assert result.exit_code == 1
    assert lines(result.stdout) == expected(Separation())


def test_check__format_table() -> None:
    result = check(NOTICES, "--agreement", AGREEMENT, "--format", "table")
    assert result.exit_code == 1
    assert "3 conflicts" in result.stdout
    for notice in ("C-0142", "R-77", "R-78", "C-0151", "R-80", "C-0155"):
        assert notice in result.stdout
    assert "horiz. m" in result.stdout


def test_check__format_geojson_is_a_feature_collection_of_the_conflicts() -> None:
    result = check(NOTICES, "--agreement", AGREEMENT, "--format", "geojson")
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["type"] == "FeatureCollection"
    assert [f["properties"] for f in doc["features"]] == expected(
        load_agreement(AGREEMENT).separation
    )
    for f in doc["features"]:
        assert f["type"] == "Feature"
        assert f["geometry"]["type"] == "GeometryCollection"
        for g in f["geometry"]["geometries"]:
            assert g["type"] == "Polygon"
            ring = g["coordinates"][0]
            assert ring[0] == ring[-1] and len(ring) >= 4


def test_check__unknown_format_is_a_usage_error() -> None:
    result = check(NOTICES, "--format", "csv")
    assert result.exit_code == 2
    assert result.stdout == ""


# ---- flags --------------------------------------------------------------------------------------


def test_check__horizontal_flag_overrides_the_agreement() -> None:
    sep = load_agreement(AGREEMENT).separation
    result = check(NOTICES, "--agreement", AGREEMENT, "--horizontal-m", "1")
    assert result.exit_code == 1
    got = lines(result.stdout)
    assert got == expected(Separation(1.0, sep.vertical_m, sep.time_s))
    assert len(got) < len(expected(sep))
    assert all(line["horizontal_m"] == 0.0 for line in got)


def test_check__time_flag_is_a_strict_minimum() -> None:
    """R-78 and C-0151 are 600 s apart: a 600 s minimum separates them, 601 s does not."""
    sep = load_agreement(AGREEMENT).separation

    def pairs(time_s: str) -> set[tuple[str, str]]:
        out = check(NOTICES, "--agreement", AGREEMENT, "--time-s", time_s).stdout
        return {(line["a"]["notice"], line["b"]["notice"]) for line in lines(out)}

    assert ("R-78", "C-0151") in pairs("601")
    assert ("R-78", "C-0151") not in pairs("600")
    assert pairs("600") == {
        (c["a"]["notice"], c["b"]["notice"])
        for c in expected(Separation(sep.horizontal_m, sep.vertical_m, 600.0))
    }


def test_check__vertical_flag() -> None:
    result = check(NOTICES, "--vertical-m", "0")
    assert result.exit_code == 0
    assert result.stdout == ""
    wide = check(NOTICES, "--vertical-m", "100000", "--horizontal-m", "100000", "--time-s", "86400")
    assert lines(wide.stdout) == expected(Separation(100_000.0, 100_000.0, 86_400.0))
    assert len(lines(wide.stdout)) > 3


@pytest.mark.parametrize("flag", ["--horizontal-m", "--vertical-m", "--time-s"])
@pytest.mark.parametrize("value", ["-1", "inf", "nan"])
def test_check__a_bad_minimum_exits_2_naming_the_flag(flag: str, value: str) -> None:
    result = check(NOTICES, flag, value)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert flag in result.stderr


# ---- no conflict, bad input ---------------------------------------------------------------------


def test_check__no_conflict_exits_0_and_prints_nothing(tmp_path: Path) -> None:
    path = write(
        tmp_path / "n.geojson", circle("C-1", "coalition", 38.0), circle("R-1", "russia", 39.0)
    )
    for fmt in ("jsonl", "geojson"):
        result = check(path, "--agreement", AGREEMENT, "--format", fmt)
        assert result.exit_code == 0, result.output
        if fmt == "jsonl":
            assert result.stdout == ""
        else:
            assert json.loads(result.stdout) == {"type": "FeatureCollection", "features": []}


def test_check__one_party_only_exits_0(tmp_path: Path) -> None:
    path = write(
        tmp_path / "n.geojson", circle("C-1", "coalition", 38.0), circle("C-2", "coalition", 38.0)
    )
    result = check(path)
    assert (result.exit_code, result.stdout) == (0, "")


@pytest.mark.parametrize(
    ("props", "named"),
    [
        ({"radius_m": -5}, "field 'radius_m'"),
        ({"lower_m": 5_000}, "field 'lower_m'"),
        ({"end": "2015-10-21T05:00:00Z"}, "field 'end'"),
        ({"target": "bridge"}, "field 'target'"),
        ({"activity": "strike"}, "field 'activity'"),
    ],
)
def test_check__bad_file_exits_2_naming_the_field(
    tmp_path: Path, props: dict[str, Any], named: str
) -> None:
    path = write(
        tmp_path / "n.geojson",
        circle("C-1", "coalition", 38.0),
        circle("R-1", "russia", 38.0, **props),
    )
    result = check(path, "--agreement", AGREEMENT)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert named in result.stderr
    assert "notice 'R-1'" in result.stderr
    assert "Traceback" not in result.output


def test_check__party_not_in_the_agreement_exits_2(tmp_path: Path) -> None:
    path = write(
        tmp_path / "n.geojson", circle("C-1", "coalition", 38.0), circle("Z-1", "zeta", 38.0)
    )
    result = check(path, "--agreement", AGREEMENT)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "field 'party'" in result.stderr and "'zeta'" in result.stderr
    assert check(path).exit_code == 1  # without an agreement any party is accepted


def test_check__invalid_json_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "n.geojson"
    path.write_text('{"type": "FeatureCollection", "features": [')
    result = check(path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "not valid JSON" in result.stderr


def test_check__missing_file_exits_2(tmp_path: Path) -> None:
    result = check(tmp_path / "none.geojson")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "cannot read" in result.stderr and "none.geojson" in result.stderr


def test_check__missing_or_bad_agreement_exits_2(tmp_path: Path) -> None:
    result = check(NOTICES, "--agreement", tmp_path / "none.toml")
    assert (result.exit_code, result.stdout) == (2, "")
    assert "cannot read" in result.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(AGREEMENT.read_text().replace("horizontal_m = 18520", "horizontal_m = -1"))
    result = check(NOTICES, "--agreement", bad)
    assert (result.exit_code, result.stdout) == (2, "")
    assert "agreement key 'separation.horizontal_m'" in result.stderr


# ---- the real entry point -----------------------------------------------------------------------


def test_check__as_a_module_in_a_subprocess() -> None:
    """``python -m deconfliction.cli``: stdout is written through sys.stdout.buffer, which the
    in-process runner imitates; here it is the real thing."""
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "deconfliction.cli",
            "check",
            str(NOTICES),
            "--agreement",
            str(AGREEMENT),
        ],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1, proc.stderr
    assert lines(proc.stdout.decode()) == expected(load_agreement(AGREEMENT).separation)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS is Linux's")
def test_check__the_largest_minima_an_agreement_allows_fit_in_memory(tmp_path: Path) -> None:
    """A query asks for every key its box and window, grown by the minima, overlap at every level
    pair in use. At the finest level pair (0.35° × 4 h) a 1,000 km minimum with a 30-day time
    minimum (both within what agreement.py accepts) is ~1.4 million keys for each small volume:
    asked all at once, 50 small volumes needed gigabytes and ``check`` died with a MemoryError
    (exit code 1, which reads as "conflicts found"). Asked in parts, it fits in 1 GiB."""
    features = [
        circle(f"N-{k}", "coalition" if k % 2 else "russia", 38.0 + 0.01 * k, radius_m=1_000)
        for k in range(50)
    ]
    path = write(tmp_path / "n.geojson", *features)

    def run(*flags: str) -> subprocess.CompletedProcess[bytes]:
        import resource

        def limit() -> None:
            resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

        return subprocess.run(
            [sys.executable, "-m", "deconfliction.cli", "check", str(path), *flags],
            capture_output=True,
            timeout=120,
            check=False,
            preexec_fn=limit,
            env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
        )

    control = run()
    assert control.returncode == 1, control.stderr.decode()[-2000:]
    assert len(control.stdout.splitlines()) > 0

    big = run("--horizontal-m", "1000000", "--time-s", str(30 * 86_400))
    assert b"Traceback" not in big.stderr, big.stderr.decode()[-600:]
    assert big.returncode == 1
    assert len(big.stdout.splitlines()) == 25 * 25  # every coalition-russia pair


def test_check__an_internal_error_exits_3_not_1() -> None:
    """A crash must never read as "conflicts found" (exit 1) or "bad input" (exit 2)."""
    code = (
        "import sys, deconfliction.cli as cli\n"
        "def boom(*args, **kwargs):\n"
        "    raise RuntimeError('boom')\n"
        "cli.find_conflicts = boom\n"
        f"sys.argv = ['deconfliction', 'check', {str(NOTICES)!r}]\n"
        "cli.main()\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert proc.returncode == 3
    assert b"internal error" in proc.stderr and b"RuntimeError: boom" in proc.stderr
    assert proc.stdout == b""
