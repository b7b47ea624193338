"""The service's commands end to end: officers and tokens, ledger export and verify, the demo."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from support import feature, write
from typer.testing import CliRunner

from deconfliction.cli import app
from deconfliction.demo import set_up
from deconfliction.service.officers import authenticate
from deconfliction.service.views import conflicts_for, notices_for
from deconfliction.store import SqlUnitOfWork, create_engine

runner = CliRunner()


def add(store: str, party: str, role: str = "officer") -> dict[str, object]:
    args = ["officer", "add", "--party", party, "--name", f"{party} duty", "--role", role]
    result = runner.invoke(app, [*args, "--json", "--database-url", store])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_officer_add__prints_a_token_that_authenticates_until_revoked(store: str) -> None:
    made = add(store, "coalition", "admin")
    engine = create_engine(store)
    uow = SqlUnitOfWork(engine)
    officer = authenticate(uow, str(made["token"]))
    assert officer.party == "coalition" and officer.role == "admin"
    listed = runner.invoke(
        app, ["officer", "list", "--party", "coalition", "--database-url", store]
    )
    assert json.loads(listed.stdout)["id"] == officer.id and "token" not in listed.stdout
    revoked = runner.invoke(app, ["officer", "revoke", str(officer.id), "--database-url", store])
    assert revoked.exit_code == 0
    with pytest.raises(Exception, match="not valid"):
        authenticate(uow, str(made["token"]))
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (["--party", "nobody", "--name", "X", "--role", "officer"], "party"),
        (["--party", "coalition", "--name", " ", "--role", "officer"], "name"),
        (["--party", "coalition", "--name", "X", "--role", "officer", "--level", "0"], "level"),
    ],
)
def test_officer_add__bad_input_exits_2_naming_the_field(
    store: str, args: list[str], field: str
) -> None:
    result = runner.invoke(app, ["officer", "add", *args, "--database-url", store])
    assert result.exit_code == 2
    assert field in result.stderr


def test_ledger_export_verifies_and_a_changed_byte_does_not(store: str, tmp_path: Path) -> None:
    add(store, "coalition")
    notices = write(
        tmp_path / "n.geojson", feature("C-1", "coalition", 38.5), feature("R-1", "russia", 38.6)
    )
    assert runner.invoke(app, ["import", str(notices), "--database-url", store]).exit_code == 0
    out = tmp_path / "ledger.jsonl"
    exported = runner.invoke(app, ["ledger", "export", "--out", str(out), "--database-url", store])
    assert exported.exit_code == 0, exported.output
    lines = out.read_bytes().splitlines(keepends=True)
    assert len(lines) >= 4  # officer added, two notices filed, a conflict found
    ok = runner.invoke(app, ["ledger", "verify", str(out)])
    assert ok.exit_code == 0 and "chain intact" in ok.stderr
    for k, line in enumerate(lines):
        changed = bytearray(line)
        changed[len(changed) // 2] ^= 0x01
        tampered = tmp_path / f"tampered-{k}.jsonl"
        tampered.write_bytes(b"".join([*lines[:k], bytes(changed), *lines[k + 1 :]]))
        result = runner.invoke(app, ["ledger", "verify", str(tampered)])
        assert result.exit_code == 1, (k, result.output)
        assert f"{k + 1}" in result.stderr
    dropped = tmp_path / "dropped.jsonl"
    dropped.write_bytes(b"".join(lines[:1] + lines[2:]))
    result = runner.invoke(app, ["ledger", "verify", str(dropped)])
    assert result.exit_code == 1 and "2" in result.stderr


def test_the_demo_sets_up_two_parties_that_see_their_conflicts(database_url: str) -> None:
    engine = create_engine(database_url)
    uow = SqlUnitOfWork(engine)
    made = set_up(uow, now=datetime(2026, 11, 24, 12, tzinfo=UTC))
    assert set(made.officers) == {"coalition", "russia"}
    assert made.conflicts > 0
    for party, (officer, token) in made.officers.items():
        assert authenticate(uow, token) == officer
        assert len(conflicts_for(uow, party)) == made.conflicts
        assert len(notices_for(uow, party)) == made.notices
    engine.dispose()
