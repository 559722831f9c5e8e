# SPDX-License-Identifier: Apache-2.0
"""Schema migrations of the records database: from every old version, with rows, to the
current one; a newer or damaged schema is refused by name."""

import sqlite3
from pathlib import Path

import pytest

from ccy.evse.records import (
    SCHEMA_VERSION,
    DatabaseCorrupt,
    DatabaseOutdated,
    DatabaseTooNew,
    RecordReader,
    RecordStore,
)
from ccy.evse.records.schema import EXPECTED_COLUMNS, MIGRATIONS, migrate, user_version

NOW_US = 1_764_680_000_000_000
TOKEN = "[redacted] hash: 0123456789abcde"

ROWS_AT: dict[int, list[tuple[str, tuple[object, ...]]]] = {
    1: [
        (
            "INSERT INTO transactions (transaction_id, session_id, token_hash, start_us, stop_us,"
            " stop_reason, meter_start_Wh, meter_stop_Wh, energy_Wh) VALUES (?,?,?,?,?,?,?,?,?)",
            ("tx-done", "s-1", TOKEN, 10, 20, "EVStopped", 1.0, 3.5, 2.5),
        ),
        (
            "INSERT INTO transactions (transaction_id, session_id, token_hash, start_us,"
            " meter_start_Wh) VALUES (?,?,?,?,?)",
            ("tx-open", "s-2", TOKEN, 30, 7.0),
        ),
        ("INSERT INTO kv (key, value) VALUES (?, ?)", ("enabled", "false")),
    ],
    2: [
        (
            "INSERT INTO error_history (unit, type, subtype, severity, message, raised_us,"
            " cleared_us) VALUES (?,?,?,?,?,?,?)",
            ("ccy-bsp", "LinkLost", "", "High", "no ChargeState2", 11, 12),
        )
    ],
    3: [
        (
            "INSERT INTO sessions (session_id, start_us, folder) VALUES (?,?,?)",
            ("s-3", 40, "20251202T000000Z-s-3"),
        )
    ],
}  # fmt: skip
"""Rows a database at each version may hold (inserted right after that version's migration)."""


def database_at(path: Path, version: int) -> None:
    """A database file at schema ``version`` with the rows of every version up to it."""
    db = sqlite3.connect(path, isolation_level=None)
    for step in range(1, version + 1):
        migrate(db, upto=step)
        for sql, params in ROWS_AT.get(step, []):
            db.execute(sql, params)
    assert user_version(db) == version
    db.close()


@pytest.mark.parametrize("version", range(SCHEMA_VERSION))
def test_every_old_version_migrates_and_keeps_its_rows(tmp_path: Path, version: int) -> None:
    path = tmp_path / "evse.db"
    database_at(path, version)
    store = RecordStore.open(path, NOW_US)
    try:
        db = sqlite3.connect(path)
        assert user_version(db) == SCHEMA_VERSION
        for table, columns in EXPECTED_COLUMNS.items():
            have = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            assert set(have) == set(columns), table
        db.close()
        if version >= 1:
            done = store.transaction("tx-done")
            assert done is not None and done.energy_Wh == 2.5 and done.stop_reason == "EVStopped"
            assert store.get("enabled") == "false"
            # the open one was closed with PowerLoss by this open
            assert [t.transaction_id for t in store.closed_on_open] == ["tx-open"]
            reopened = store.transaction("tx-open")
            assert reopened is not None and reopened.stop_reason == "PowerLoss"
            # rows from before version 4 do not know the clock: None, not False
            assert (done.clock_synchronized_start, done.clock_synchronized_stop) == (None, None)
        else:
            assert store.last_transactions(10) == []
        errors = store.last_errors(10)
        assert [e.type for e in errors] == (["LinkLost"] if version >= 2 else [])
        sessions = store.sessions()
        assert [s.session_id for s in sessions] == (["s-3"] if version >= 3 else [])
    finally:
        store.close()


def test_migrations_are_counted_by_user_version() -> None:
    assert SCHEMA_VERSION == len(MIGRATIONS) >= 3


def test_opening_a_current_database_changes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "evse.db"
    RecordStore.open(path, NOW_US).close()
    db = sqlite3.connect(path)
    before = db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall()
    db.close()
    RecordStore.open(path, NOW_US).close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall() == before
    assert user_version(db) == SCHEMA_VERSION
    db.close()


def test_a_failing_migration_leaves_the_old_version(tmp_path: Path) -> None:
    """Each step is one transaction with its user_version: a crash inside it changes nothing."""
    path = tmp_path / "evse.db"
    database_at(path, 1)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("CREATE TABLE error_history (x)")  # makes migration 2's CREATE TABLE fail
    with pytest.raises(sqlite3.OperationalError):
        migrate(db)
    assert user_version(db) == 1
    db.close()


def test_a_newer_schema_is_refused_and_not_touched(tmp_path: Path) -> None:
    path = tmp_path / "evse.db"
    RecordStore.open(path, NOW_US).close()
    db = sqlite3.connect(path)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    before = path.read_bytes()
    with pytest.raises(DatabaseTooNew) as caught:
        RecordStore.open(path, NOW_US)
    assert caught.value.exit_code == 78
    assert str(path) in str(caught.value) and f"{SCHEMA_VERSION + 1}" in str(caught.value)
    assert path.read_bytes() == before
    with pytest.raises(DatabaseTooNew):
        RecordReader.open_readonly(path)


def test_a_current_version_without_its_tables_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "evse.db"
    RecordStore.open(path, NOW_US).close()
    db = sqlite3.connect(path)
    db.execute("DROP TABLE sessions")
    db.commit()
    db.close()
    with pytest.raises(DatabaseCorrupt, match="schema lacks sessions"):
        RecordStore.open(path, NOW_US)


def test_the_reader_refuses_an_old_schema_without_migrating(tmp_path: Path) -> None:
    path = tmp_path / "evse.db"
    database_at(path, 1)
    with pytest.raises(DatabaseOutdated, match="start ccy-evse once"):
        RecordReader.open_readonly(path)
    db = sqlite3.connect(path)
    assert user_version(db) == 1
    db.close()
