# SPDX-License-Identifier: Apache-2.0
"""The schema of the records database and its migrations.

The version is SQLite's ``PRAGMA user_version``: 0 is an empty file, and MIGRATIONS[i] takes a
database from version i to i + 1. Each migration runs in one write transaction together with
the new user_version, so a crash in the middle leaves the old version intact and the next start
runs it again. Migrations are only ever appended; a released one is never edited (a database
in the field may stand at any version). tests/evse/test_records_schema.py builds a database at
every old version, with rows, and opens it with the current code.

History:
    1  transactions (id, session, token hash, start/stop time and reason, meter start/stop,
       energy) and the key-value store
    2  error history (every Errors1 raise/clear of every unit), indexed by raise time and by
       the open rows of one (unit, type, subtype)
    3  sessions (id, start, end, reason, session-log folder); transactions remember the last
       meter reading (meter_last_Wh/meter_last_us) so a PowerLoss close keeps real energy
    4  transactions say whether the system clock was synchronized when they started and
       stopped (clock_synchronized_start/_stop: 1 yes, 0 no, NULL unknown: rows from before
       version 4, and the stop of a PowerLoss close)
"""

import sqlite3
from collections.abc import Callable

Migration = Callable[[sqlite3.Connection], None]


def _v1(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE transactions (
            transaction_id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL,
            token_hash TEXT NOT NULL,
            start_us INTEGER NOT NULL,
            stop_us INTEGER,
            stop_reason TEXT,
            meter_start_Wh REAL,
            meter_stop_Wh REAL,
            energy_Wh REAL
        )"""
    )
    db.execute("CREATE INDEX transactions_start ON transactions (start_us)")
    db.execute("CREATE TABLE kv (key TEXT PRIMARY KEY, value TEXT NOT NULL)")


def _v2(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE error_history (
            id INTEGER PRIMARY KEY,
            unit TEXT NOT NULL,
            type TEXT NOT NULL,
            subtype TEXT NOT NULL,
            severity TEXT NOT NULL,
            message TEXT NOT NULL,
            raised_us INTEGER NOT NULL,
            cleared_us INTEGER
        )"""
    )
    db.execute("CREATE INDEX error_history_raised ON error_history (raised_us)")
    db.execute(
        "CREATE INDEX error_history_open ON error_history (unit, type, subtype) "
        "WHERE cleared_us IS NULL"
    )


def _v3(db: sqlite3.Connection) -> None:
    db.execute(
        """CREATE TABLE sessions (
            session_id TEXT PRIMARY KEY,
            start_us INTEGER NOT NULL,
            end_us INTEGER,
            reason TEXT,
            folder TEXT
        )"""
    )
    db.execute("CREATE INDEX sessions_start ON sessions (start_us)")
    db.execute("ALTER TABLE transactions ADD COLUMN meter_last_Wh REAL")
    db.execute("ALTER TABLE transactions ADD COLUMN meter_last_us INTEGER")


def _v4(db: sqlite3.Connection) -> None:
    db.execute("ALTER TABLE transactions ADD COLUMN clock_synchronized_start INTEGER")
    db.execute("ALTER TABLE transactions ADD COLUMN clock_synchronized_stop INTEGER")


MIGRATIONS: tuple[Migration, ...] = (_v1, _v2, _v3, _v4)
SCHEMA_VERSION = len(MIGRATIONS)

EXPECTED_COLUMNS: dict[str, tuple[str, ...]] = {
    "transactions": (
        "transaction_id",
        "session_id",
        "token_hash",
        "start_us",
        "stop_us",
        "stop_reason",
        "meter_start_Wh",
        "meter_stop_Wh",
        "energy_Wh",
        "meter_last_Wh",
        "meter_last_us",
        "clock_synchronized_start",
        "clock_synchronized_stop",
    ),
    "kv": ("key", "value"),
    "error_history": (
        "id",
        "unit",
        "type",
        "subtype",
        "severity",
        "message",
        "raised_us",
        "cleared_us",
    ),
    "sessions": ("session_id", "start_us", "end_us", "reason", "folder"),
}
"""The tables and columns of SCHEMA_VERSION: checked on every open (a database that says it is
current but lacks them was edited or damaged, and is reported corrupt)."""


def user_version(db: sqlite3.Connection) -> int:
    version: int = db.execute("PRAGMA user_version").fetchone()[0]
    return version


def migrate(db: sqlite3.Connection, upto: int = SCHEMA_VERSION) -> list[int]:
    """Bring ``db`` (autocommit connection) to version ``upto``; the versions reached, in order.

    Every step is ``BEGIN IMMEDIATE``; migration; ``PRAGMA user_version``; ``COMMIT``.
    The caller checks first that the version is not newer than SCHEMA_VERSION.
    """
    reached: list[int] = []
    while True:
        db.execute("BEGIN IMMEDIATE")
        try:
            version = user_version(db)  # read under the write lock: another opener may have won
            if version >= upto:
                db.execute("COMMIT")
                return reached
            MIGRATIONS[version](db)
            db.execute(f"PRAGMA user_version = {version + 1}")
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        reached.append(version + 1)


def missing_columns(db: sqlite3.Connection) -> list[str]:
    """``table.column`` (or ``table``) of EXPECTED_COLUMNS that the database lacks."""
    missing = []
    for table, columns in EXPECTED_COLUMNS.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        if not have:
            missing.append(table)
            continue
        missing += [f"{table}.{column}" for column in columns if column not in have]
    return missing
