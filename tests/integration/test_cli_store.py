"""The store commands end to end: ``init``, ``import``, ``conflicts``, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import AGREEMENT_TOML, feature, write
from typer.testing import CliRunner

from deconfliction.cli import app

EXAMPLES = Path(__file__).parents[2] / "examples"
runner = CliRunner()


def test_init__twice_is_harmless(store: str, tmp_path: Path) -> None:
    args = ["init", "--agreement", str(tmp_path / "agreement.toml"), "--database-url", store]
    assert runner.invoke(app, args).exit_code == 0


def test_init__with_another_agreement_exits_2(store: str) -> None:
    result = runner.invoke(
        app, ["init", "--agreement", str(EXAMPLES / "agreement.toml"), "--database-url", store]
    )
    assert result.exit_code == 2
    assert "another agreement" in result.stderr
    assert "Traceback" not in result.output


def test_init__with_a_bad_agreement_names_the_key(database_url: str, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(AGREEMENT_TOML.replace("time_s = 900", "time_s = -1"))
    result = runner.invoke(app, ["init", "--agreement", str(bad), "--database-url", database_url])
    assert result.exit_code == 2
    assert "separation.time_s" in result.stderr


def test_import_then_conflicts__lists_what_check_finds(store: str) -> None:
    notices = EXAMPLES / "notices.geojson"
    imported = runner.invoke(
        app, ["import", str(notices), "--database-url", store, "--print-conflicts"]
    )
    assert imported.exit_code == 0, imported.output
    checked = runner.invoke(app, ["check", str(notices)])
    assert checked.exit_code == 1
    assert sorted(imported.stdout.splitlines()) == sorted(checked.stdout.splitlines())
    assert "3 new conflicts" in imported.stderr
    listed = runner.invoke(app, ["conflicts", "--database-url", store])
    assert listed.exit_code == 0
    assert listed.stdout == imported.stdout
    for line in listed.stdout.splitlines():
        assert set(json.loads(line)) == {
            "a",
            "b",
            "start",
            "end",
            "horizontal_m",
            "vertical_m",
            "time_gap_s",
        }


def test_import__without_print_conflicts_keeps_stdout_empty(store: str, tmp_path: Path) -> None:
    path = write(
        tmp_path / "n.geojson", feature("C-1", "coalition", 38.5), feature("R-1", "russia", 38.6)
    )
    result = runner.invoke(app, ["import", str(path), "--database-url", store])
    assert result.exit_code == 0
    assert result.stdout == ""
    assert "filed 2 notices, 2 volumes: 1 new conflicts" in result.stderr


def test_import__again_is_refused_naming_the_notice(store: str, tmp_path: Path) -> None:
    path = write(tmp_path / "n.geojson", feature("C-1", "coalition", 38.5))
    assert runner.invoke(app, ["import", str(path), "--database-url", store]).exit_code == 0
    again = runner.invoke(app, ["import", str(path), "--database-url", store])
    assert again.exit_code == 2
    assert "'coalition' already has a notice 'C-1'" in again.stderr


@pytest.mark.parametrize(
    ("props", "named"),
    [
        ({"radius_m": -5}, "field 'radius_m'"),
        ({"party": "zeta"}, "field 'party'"),
        ({"lower_m": "high"}, "field 'lower_m'"),
        ({"target": "bridge"}, "field 'target'"),
    ],
)
def test_import__bad_input_exits_2_naming_the_field_and_stores_nothing(
    store: str, tmp_path: Path, props: dict[str, object], named: str
) -> None:
    path = write(
        tmp_path / "n.geojson",
        feature("C-1", "coalition", 38.5),
        feature("R-1", "russia", 38.6, **props),
    )
    result = runner.invoke(app, ["import", str(path), "--database-url", store])
    assert result.exit_code == 2
    assert named in result.stderr
    assert "Traceback" not in result.output
    listed = runner.invoke(app, ["conflicts", "--database-url", store])
    assert listed.stdout == ""


def test_import__into_a_store_never_initialised_exits_2(database_url: str, tmp_path: Path) -> None:
    path = write(tmp_path / "n.geojson", feature("C-1", "coalition", 38.5))
    result = runner.invoke(app, ["import", str(path), "--database-url", database_url])
    assert result.exit_code == 2
    assert "deconfliction init" in result.stderr


def test_import__a_file_that_is_not_there_exits_2(store: str, tmp_path: Path) -> None:
    result = runner.invoke(app, ["import", str(tmp_path / "none.geojson"), "--database-url", store])
    assert result.exit_code == 2
    assert "cannot read" in result.stderr


def test_conflicts__as_a_table(store: str, tmp_path: Path) -> None:
    path = write(
        tmp_path / "n.geojson", feature("C-1", "coalition", 38.5), feature("R-1", "russia", 38.6)
    )
    runner.invoke(app, ["import", str(path), "--database-url", store])
    result = runner.invoke(app, ["conflicts", "--database-url", store, "--format", "table"])
    assert result.exit_code == 0
    assert "1 conflicts" in result.stdout and "C-1/0" in result.stdout


def test_the_database_url_defaults_to_the_environment(store: str) -> None:
    result = runner.invoke(app, ["conflicts"], env={"DECONFLICTION_DATABASE_URL": store})
    assert result.exit_code == 0


def test_a_bad_database_url_exits_2() -> None:
    result = runner.invoke(app, ["conflicts", "--database-url", "nosuchdb://x"])
    assert result.exit_code == 2
    assert "nosuchdb" in result.stderr
