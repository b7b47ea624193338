"""The store's plumbing: engines, transactions, migrations, timestamps and error translation."""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from support import AGREEMENT_TOML, NOW, circle, notice, volume

from deconfliction.agreement import loads_agreement
from deconfliction.errors import StoreError
from deconfliction.officers import Role
from deconfliction.service import file_notices, list_conflicts
from deconfliction.service.officers import add_officer, revoke_officer
from deconfliction.store import SqlUnitOfWork, create_engine, upgrade
from deconfliction.store.bulk import COPY_FROM, DEFERRED, Arrays, Copy, insert_rows
from deconfliction.store.migrate import MIGRATIONS
from deconfliction.store.repository import CONFLICT_COLUMNS
from deconfliction.store.sql import read_together
from deconfliction.store.tables import agreement, ledger_entry, metadata, party
from deconfliction.store.tables import conflict as conflict_table
from deconfliction.store.tables import volume as volume_table
from deconfliction.strategic.detect import prepare_many

CHECKED_BY_TRIGGERS = {"fk_conflict_volume_a_volume", "fk_conflict_volume_b_volume"}
"""Foreign keys that migration 0006 replaces by statement triggers on PostgreSQL."""


def test_migrated_schema_matches_the_tables(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        upgrade(conn)
    postgresql = engine.dialect.name == "postgresql"

    def compared(obj: object, name: str | None, kind: str, *_: object) -> bool:
        return not (postgresql and kind == "foreign_key_constraint" and name in CHECKED_BY_TRIGGERS)

    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_object": compared,
            },
        )
        assert compare_metadata(context, metadata) == []


LATEST = "0006"


def test_upgrading_twice_changes_nothing(engine: sa.Engine) -> None:
    for _ in range(2):
        with engine.begin() as conn:
            upgrade(conn)
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).all() == [(LATEST,)]


def test_a_store_made_by_0001_upgrades_with_its_notices(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        upgrade(conn, "0001")
        conn.execute(sa.text("INSERT INTO party (id, name) VALUES ('c', 'C')"))
        conn.execute(
            sa.text(
                "INSERT INTO notice (id, party_id, ref, activity, remarks, status, filed_at) "
                "VALUES (1, 'c', 'C-1', 'air', '', 'active', '2015-10-21 06:00:00')"
            )
        )
    with engine.begin() as conn:
        upgrade(conn)
    with engine.connect() as conn:
        row = conn.execute(sa.text("SELECT ref, version, late, shared_with FROM notice")).one()
        assert tuple(row) == ("C-1", 1, False, "null")
        assert conn.execute(sa.text("SELECT seq, hash FROM ledger_head")).one() == (0, "0" * 64)


def test_the_migration_scripts_ship_inside_the_package() -> None:
    assert (MIGRATIONS / "env.py").is_file()
    assert (MIGRATIONS / "script.py.mako").is_file()
    assert sorted(p.name for p in (MIGRATIONS / "versions").glob("*.py")) == [
        "0001_initial.py",
        "0002_service.py",
        "0003_hotline.py",
        "0004_signatures.py",
        "0005_tracks.py",
        "0006_conflict_references.py",
    ]


def test_timestamps_come_back_in_utc_whatever_zone_went_in(engine: sa.Engine) -> None:
    east = timezone(timedelta(hours=3))
    written = datetime(2015, 10, 21, 9, 30, 0, 123456, tzinfo=east)
    with engine.begin() as conn:
        upgrade(conn)
        conn.execute(agreement.insert(), {"id": 1, "name": "x", "text": "", "created_at": written})
    with engine.connect() as conn:
        (read,) = conn.execute(sa.select(agreement.c.created_at)).one()
    assert read == written
    assert read.utcoffset() == timedelta(0)
    assert read.isoformat() == "2015-10-21T06:30:00.123456+00:00"


def test_a_naive_timestamp_is_refused(engine: sa.Engine) -> None:
    with engine.begin() as conn:
        upgrade(conn)
    with pytest.raises(sa.exc.StatementError, match="naive"), engine.begin() as conn:
        row = {"id": 1, "name": "x", "text": "", "created_at": datetime(2015, 10, 21)}
        conn.execute(agreement.insert(), row)


def test_sqlite_connections_are_set_up_for_durability_and_concurrency(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'db' / 'new' / 'x.db'}")
    try:
        with engine.connect() as conn:
            pragmas = {
                name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
            }
    finally:
        engine.dispose()
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 30000,
    }


def test_a_sqlite_write_transaction_holds_the_write_lock_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    engine = create_engine(f"sqlite:///{path}")
    other = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        with SqlUnitOfWork(engine):
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            with SqlUnitOfWork(engine).read_only() as reader:  # readers never wait
                assert reader.connection.exec_driver_sql("SELECT 1").scalar() == 1
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()
        engine.dispose()


def test_database_errors_leave_as_store_errors(engine: sa.Engine) -> None:
    uow = SqlUnitOfWork(engine)
    with pytest.raises(StoreError) as caught, uow:
        uow.connection.exec_driver_sql("SELECT * FROM nowhere_at_all")
    assert isinstance(caught.value.__cause__, sa.exc.SQLAlchemyError)


def test_a_refused_write_leaves_as_a_store_error(uow: SqlUnitOfWork) -> None:
    with pytest.raises(StoreError, match="refused"), uow:
        uow.connection.execute(
            agreement.insert(), {"id": 1, "name": "again", "text": "", "created_at": NOW}
        )


@pytest.mark.parametrize("url", ["not a url", "nosuchdb://x/y"])
def test_a_bad_database_url_is_a_store_error(url: str) -> None:
    with pytest.raises(StoreError):
        create_engine(url)


def test_an_unreachable_server_is_a_store_error() -> None:
    engine = create_engine("postgresql://nobody@127.0.0.1:9/nothing?connect_timeout=2")
    try:
        with pytest.raises(StoreError, match="unavailable"):
            list_conflicts(SqlUnitOfWork(engine))
    finally:
        engine.dispose()


def test_uncommitted_work_is_rolled_back(uow: SqlUnitOfWork, engine: sa.Engine) -> None:
    with uow:
        uow.connection.execute(agreement.delete())
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(agreement)).scalar() == 1


def _parties(conn: sa.Connection) -> set[str]:
    return set(conn.execute(sa.select(party.c.id)).scalars())


def test_held_back_writes_go_with_the_commit_in_order(
    uow: SqlUnitOfWork, engine: sa.Engine
) -> None:
    with uow:
        uow.lock_ledger()
        uow.defer_writes()
        insert_rows(uow.connection, party, [{"id": "ngo", "name": "NGO"}])
        insert_rows(uow.connection, party, [{"id": "ngo2", "name": "NGO 2"}])
        with uow.read_only() as peek:  # nothing has reached the store yet
            assert "ngo" not in _parties(peek.connection)
        with pytest.raises(RuntimeError, match="savepoint"):
            uow.savepoint().__enter__()
        uow.commit()
    with engine.connect() as conn:
        assert {"ngo", "ngo2"} <= _parties(conn)


def test_a_refused_held_back_write_stores_nothing_and_leaves_the_connection_clean(
    uow: SqlUnitOfWork, engine: sa.Engine
) -> None:
    with pytest.raises(StoreError, match="refused"), uow:
        uow.defer_writes()
        insert_rows(uow.connection, party, [{"id": "ngo", "name": "NGO"}])
        insert_rows(uow.connection, party, [{"id": "coalition", "name": "again"}])  # taken
        uow.commit()
    with engine.connect() as conn:
        assert "ngo" not in _parties(conn)
    _pooled_connections_work(uow)


def _pooled_connections_work(uow: SqlUnitOfWork) -> None:
    """Whichever pooled connection comes next takes a write and a commit."""
    for k in range(3):
        with uow:
            uow.lock_ledger()
            insert_rows(uow.connection, party, [{"id": f"ok-{k}", "name": "fine"}])
            uow.commit()


def _ledger_rows(first: int, count: int) -> list[dict[str, object]]:
    """Rows of every kind of value a ledger row holds (a bigint, an instant, text, a null)."""
    at = datetime(2015, 10, 21, 6, 30, 0, 123456, tzinfo=timezone(timedelta(hours=3)))
    return [
        {
            "seq": seq,
            "at": at + timedelta(seconds=seq),
            "actor": "officer:1",
            "kind": "test",
            "payload": '{"x":"é"}',
            "audience": '["coalition"]',
            "prev": "0" * 64,
            "hash": f"{seq:064x}",
            "countersig": None if seq % 2 else "sig",
        }
        for seq in range(first, first + count)
    ]


def _stored_ledger(conn: sa.Connection) -> list[dict[str, object]]:
    rows = conn.execute(sa.select(ledger_entry).order_by(ledger_entry.c.seq)).mappings()
    return [dict(r) for r in rows]


@pytest.mark.parametrize("held_back", [False, True])
def test_a_large_insert_stores_exactly_what_row_by_row_inserts_store(
    uow: SqlUnitOfWork, engine: sa.Engine, held_back: bool
) -> None:
    """On PostgreSQL a batch of COPY_FROM rows or more goes as a binary COPY, between the
    pipelined writes before and after it; the rows read back as the INSERTs of a small batch."""
    small, large = _ledger_rows(10_001, 3), _ledger_rows(20_001, COPY_FROM)
    with uow:
        uow.lock_ledger()
        if held_back:
            uow.defer_writes()
        insert_rows(uow.connection, party, [{"id": "ngo", "name": "NGO"}])
        insert_rows(uow.connection, ledger_entry, small)
        insert_rows(uow.connection, ledger_entry, large)
        insert_rows(uow.connection, party, [{"id": "ngo2", "name": "NGO 2"}])
        if held_back:
            statements = [sql for sql, _ in uow.connection.info[DEFERRED]]
            copies = [isinstance(sql, Copy) for sql in statements]
            postgresql = engine.dialect.name == "postgresql"
            assert copies == [False, False, postgresql, False]
        uow.commit()
    with engine.connect() as conn:
        stored = _stored_ledger(conn)
        assert {"ngo", "ngo2"} <= _parties(conn)
    mine = [r for r in stored if r["seq"] > 10_000]
    assert [r["seq"] for r in mine] == [r["seq"] for r in small + large]
    for got, want in zip(mine, small + large, strict=True):
        assert got == {**want, "at": want["at"].astimezone(UTC)}  # type: ignore[union-attr]


def test_held_back_small_inserts_into_one_table_go_as_one_statement(
    uow: SqlUnitOfWork, engine: sa.Engine
) -> None:
    """On PostgreSQL rows below COPY_FROM go as one INSERT over an array per column, and the
    next held-back insert into the same columns joins it (a filing's messages, one by one); the
    rows read back exactly as inserted, quotes, nulls and instants included."""
    rows = _ledger_rows(40_001, 5)
    rows[2]["payload"] = '{"text":"it\'s \\"quoted\\", {a,b} NULL"}'
    with uow:
        uow.lock_ledger()
        uow.defer_writes()
        for row in rows:
            insert_rows(uow.connection, ledger_entry, [row])
        insert_rows(uow.connection, party, [{"id": "ngo", "name": "NGO"}])
        held = [(type(sql), len(params or ())) for sql, params in uow.connection.info[DEFERRED]]
        if engine.dialect.name == "postgresql":
            assert held == [(Arrays, 5), (Arrays, 1)]
        else:
            assert held == [(str, 1)] * 6
        uow.commit()
    with engine.connect() as conn:
        assert "ngo" in _parties(conn)
        mine = [r for r in _stored_ledger(conn) if r["seq"] > 40_000]
    assert mine == [{**r, "at": r["at"].astimezone(UTC)} for r in rows]  # type: ignore[attr-defined]


def test_a_refused_copy_stores_nothing_of_its_transaction(
    uow: SqlUnitOfWork, engine: sa.Engine
) -> None:
    rows = _ledger_rows(30_001, COPY_FROM)
    rows[-1]["seq"] = rows[0]["seq"]  # a key twice: the whole batch is refused
    with pytest.raises(StoreError, match="refused"), uow:
        uow.defer_writes()
        insert_rows(uow.connection, party, [{"id": "ngo", "name": "NGO"}])
        insert_rows(uow.connection, ledger_entry, rows)
        uow.commit()
    with engine.connect() as conn:
        assert "ngo" not in _parties(conn)
        assert not [r for r in _stored_ledger(conn) if r["seq"] > 30_000]
    with uow:  # the connection is clean
        uow.lock_ledger()
        insert_rows(uow.connection, ledger_entry, _ledger_rows(30_001, COPY_FROM))
        uow.commit()


def test_held_back_writes_of_an_abandoned_transaction_are_dropped(
    uow: SqlUnitOfWork, engine: sa.Engine
) -> None:
    with uow:
        uow.defer_writes()
        insert_rows(uow.connection, party, [{"id": "ngo", "name": "NGO"}])
    with uow:  # the same pooled connection, maybe: nothing of the last one is sent
        uow.commit()
    with engine.connect() as conn:
        assert "ngo" not in _parties(conn)


def _send_ahead_between(uow: SqlUnitOfWork, rows: list[dict[str, object]]) -> None:
    """Hold back a party "ngo" and ``rows`` of the ledger, send them ahead, then hold back a
    party "ngo2"; the commit is the caller's."""
    uow.lock_ledger()
    uow.defer_writes()
    insert_rows(uow.connection, party, [{"id": "ngo", "name": "NGO"}])
    insert_rows(uow.connection, ledger_entry, rows)
    uow.send_ahead()
    insert_rows(uow.connection, party, [{"id": "ngo2", "name": "NGO 2"}])


def test_writes_sent_ahead_and_held_back_after_commit_together_in_order(
    uow: SqlUnitOfWork, engine: sa.Engine
) -> None:
    """What was held back before send_ahead (a COPY among it) and what after both reach the
    store with the commit, and nothing before it; a read after send_ahead is refused."""
    large = _ledger_rows(50_001, COPY_FROM)
    with uow:
        _send_ahead_between(uow, large)
        if engine.dialect.name == "postgresql":  # the second insert is still held back
            assert [sql for sql, _ in uow.connection.info[DEFERRED]] != []
            with pytest.raises(RuntimeError, match="send_ahead"):
                uow.connection.execute(sa.select(party.c.id))
            with pytest.raises(RuntimeError, match="send_ahead"):  # nor past the engine
                read_together(uow.connection, [sa.select(party.c.id)])
        with uow.read_only() as peek:  # nothing is committed before the commit
            assert not {"ngo", "ngo2"} & _parties(peek.connection)
        uow.commit()
    with engine.connect() as conn:
        assert {"ngo", "ngo2"} <= _parties(conn)
        mine = [r for r in _stored_ledger(conn) if r["seq"] > 50_000]
    assert [r["seq"] for r in mine] == [r["seq"] for r in large]


def test_a_refused_write_sent_ahead_stores_nothing_and_leaves_the_connection_clean(
    uow: SqlUnitOfWork, engine: sa.Engine
) -> None:
    rows = _ledger_rows(60_001, COPY_FROM)
    rows[-1]["seq"] = rows[0]["seq"]  # a key twice: refused while the caller goes on
    with pytest.raises(StoreError, match="refused"), uow:
        _send_ahead_between(uow, rows)
        uow.commit()
    with engine.connect() as conn:
        assert not {"ngo", "ngo2"} & _parties(conn)
        assert not [r for r in _stored_ledger(conn) if r["seq"] > 60_000]
    _pooled_connections_work(uow)


def test_writes_sent_ahead_of_an_abandoned_transaction_are_rolled_back(
    uow: SqlUnitOfWork, engine: sa.Engine
) -> None:
    with pytest.raises(ValueError, match="changed its mind"), uow:
        uow.lock_ledger()
        uow.defer_writes()
        insert_rows(uow.connection, ledger_entry, _ledger_rows(70_001, COPY_FROM))
        uow.send_ahead()
        raise ValueError("the caller changed its mind")
    with engine.connect() as conn:
        assert not [r for r in _stored_ledger(conn) if r["seq"] > 70_000]
    _pooled_connections_work(uow)  # the connection is free again


def test_on_file_finds_each_party_reference_pair_only(uow: SqlUnitOfWork) -> None:
    far = volume(circle(lon=20.0))  # apart from the first: no conflict to record
    notices = [notice("R-1", "coalition", volume(circle())), notice("R-2", "russia", far)]
    file_notices(uow, notices, loads_agreement(AGREEMENT_TOML), now=NOW)
    with uow:
        asked = {("coalition", "R-1"), ("coalition", "R-2"), ("russia", "R-2"), ("turkey", "R-1")}
        assert uow.notices.on_file(asked) == {("coalition", "R-1"), ("russia", "R-2")}
        assert uow.notices.on_file(set()) == set()


def test_two_additions_in_one_transaction_get_their_own_ids_while_held_back(
    uow: SqlUnitOfWork,
) -> None:
    first = notice("R-1", "coalition", volume(circle()))
    second = notice("R-2", "russia", volume(circle(lon=20.0)), volume(circle(lon=21.0)))
    with uow:
        uow.lock_ledger()
        uow.defer_writes()
        ids = [
            uow.notices.add([n], prepare_many([n]), filed_at=NOW, late=[False])
            for n in (first, second)
        ]
        uow.commit()
    (n1, v1), (n2, v2) = ids
    assert n2.tolist() == [n1[0] + 1]
    assert v2.tolist() == [v1[0] + 1, v1[0] + 2]
    with uow.read_only() as tx:
        assert tx.notices.on_file({("coalition", "R-1"), ("russia", "R-2")}) == {
            ("coalition", "R-1"),
            ("russia", "R-2"),
        }


def _conflict_row(conflict_id: int, volume_a: int, volume_b: int) -> tuple[object, ...]:
    return (conflict_id, volume_a, volume_b, NOW, NOW, 0.0, 0.0, 0.0, NOW)


REFERENCE_REFUSED = "FOREIGN KEY|names a volume|names this volume"
"""SQLite's foreign key error, or the message of migration 0006's triggers on PostgreSQL."""


@pytest.mark.parametrize("rows", [1, COPY_FROM], ids=["insert", "copy-on-postgresql"])
def test_a_conflict_naming_a_volume_not_stored_is_refused(
    uow: SqlUnitOfWork, engine: sa.Engine, rows: int
) -> None:
    """Foreign keys on SQLite, statement triggers on PostgreSQL (migration 0006): one bad row
    among many refuses the batch, by INSERT or by COPY, and nothing of it is stored; a stored
    conflict cannot be moved off its volumes, nor a volume it names deleted."""
    ten = [volume(circle()) for _ in range(10)]
    far = [volume(circle(lon=20.0)) for _ in range(10)]  # apart: no conflict is found
    file_notices(
        uow,
        [notice("C-1", "coalition", *ten), notice("R-1", "russia", *far)],
        loads_agreement(AGREEMENT_TOML),
        now=NOW,
    )
    with engine.connect() as conn:
        ids = list(conn.execute(sa.select(volume_table.c.id).order_by(volume_table.c.id)).scalars())
    pairs = [(a, b) for a in ids[:10] for b in ids[10:]]
    good = [_conflict_row(1_000 + k, a, b) for k, (a, b) in enumerate(pairs[: max(rows - 1, 1)])]
    a, b = pairs[0]
    for bad in ((a, 999_999), (999_999, b)):
        with pytest.raises(StoreError, match=REFERENCE_REFUSED), uow:
            insert_rows(
                uow.connection,
                conflict_table,
                [*good[: rows - 1], _conflict_row(2_000, *bad)],
                columns=CONFLICT_COLUMNS,
            )
            uow.commit()
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(conflict_table)).scalar() == 0
    with uow:  # the same rows with stored volumes go in
        insert_rows(uow.connection, conflict_table, good, columns=CONFLICT_COLUMNS)
        uow.commit()
    moved = conflict_table.update().where(conflict_table.c.id == 1_000).values(volume_b=999_999)
    with pytest.raises(StoreError, match=REFERENCE_REFUSED), uow:
        uow.connection.execute(moved)
    with pytest.raises(StoreError, match=REFERENCE_REFUSED), uow:
        uow.connection.execute(volume_table.delete().where(volume_table.c.id == a))
    with engine.connect() as conn:
        stored = conn.execute(
            sa.select(conflict_table.c.volume_a, conflict_table.c.volume_b).order_by(
                conflict_table.c.id
            )
        )
        assert stored.all() == [(r[1], r[2]) for r in good]


def test_rosters_hold_each_partys_answering_levels_read_at_once(uow: SqlUnitOfWork) -> None:
    """Every party's roster comes from one read: the distinct levels of its officers who can
    answer (an observer or a revoked officer cannot), empty for a party without officers."""
    for name, role, level in (
        ("duty", Role.OFFICER, 1),
        ("deputy", Role.OFFICER, 2),
        ("second deputy", Role.ADMIN, 2),
        ("watcher", Role.OBSERVER, 3),
        ("gone", Role.OFFICER, 4),
    ):
        added, _ = add_officer(
            uow, party="coalition", name=name, role=role, level=level, by=None, now=NOW
        )
    revoke_officer(uow, added.id, by=None, now=NOW)  # "gone"
    add_officer(uow, party="russia", name="duty", role=Role.OFFICER, level=3, by=None, now=NOW)
    with uow.read_only() as tx:
        assert tx.messages.roster("coalition") == [1, 2]
        assert tx.messages.roster("russia") == [3]
        assert tx.messages.roster("turkey") == []
        tx.messages.roster("coalition").append(9)  # a copy: the next answer is the same
        assert tx.messages.roster("coalition") == [1, 2]


def test_a_transaction_that_waited_for_the_ledger_lock_reads_the_store_after_it(
    uow: SqlUnitOfWork, engine: sa.Engine
) -> None:
    """What is read with the lock (the last ids, here) is read once the lock is granted, never
    before the wait: ids handed out after the wait follow those of the holder it waited for."""
    first = notice("C-1", "coalition", volume(circle()))
    second = notice("R-1", "russia", volume(circle()))
    handed: list[int] = []

    def wait_then_add() -> None:
        with SqlUnitOfWork(engine) as other:
            other.lock_ledger()  # waits for the commit below
            ids, _ = other.notices.add([second], prepare_many([second]), filed_at=NOW, late=[False])
            handed.append(int(ids[0]))
            other.commit()

    with uow:
        uow.lock_ledger()
        ids, _ = uow.notices.add([first], prepare_many([first]), filed_at=NOW, late=[False])
        waiting = threading.Thread(target=wait_then_add)
        waiting.start()
        time.sleep(0.3)
        assert waiting.is_alive()  # it waits for the lock
        uow.commit()
    waiting.join(10)
    assert handed == [int(ids[0]) + 1]
