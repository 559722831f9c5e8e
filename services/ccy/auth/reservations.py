# SPDX-License-Identifier: Apache-2.0
"""Reservations, persisted in SQLite in ccy-auth's state folder (/var/lib/ccy/auth).

One row per reservation: id (UUID), token hash, parent hash ("" for none), connector, expiry
(seconds since the epoch) and creation time. Only hashes are stored: the clear token never
reaches the disk. Every change is one committed transaction (journal mode WAL, synchronous
FULL), so a reservation made survives a restart or a power cut.

A store that cannot be used (not a database, a failed integrity check, a table of another
shape) is not silently emptied, unlike the seed's "Can not load reservations: reservations is
not a json array": :meth:`ReservationStore.open` moves it aside as
``<file>.damaged-<UTC time>`` (with its -wal/-shm files), starts a new one and returns a
:class:`Damaged` naming the file, the reason and where it went; the unit logs it and raises
ReservationStoreDamaged.
"""

import contextlib
import datetime
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from ccy.runtime.ids import uuid4_text

FILE_NAME = "reservations.sqlite"
SCHEMA_VERSION = 1
_COLUMNS = ("id", "token_hash", "parent_hash", "connector", "expires_at", "created_at")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS reservations (
    id          TEXT PRIMARY KEY,
    token_hash  TEXT NOT NULL,
    parent_hash TEXT NOT NULL,
    connector   INTEGER NOT NULL UNIQUE,
    expires_at  REAL NOT NULL,
    created_at  REAL NOT NULL
)
"""


class StoreError(RuntimeError):
    """The store could not be written (message names the file and reason)."""


@dataclass(frozen=True)
class Reservation:
    id: str
    token_hash: str
    parent_hash: str
    connector: int
    expires_at: float
    created_at: float

    def admits(self, token_hash: str, parent_hash: str) -> bool:
        """Whether a token (hash) with this parent (hash) may use the reservation."""
        if token_hash == self.token_hash:
            return True
        return bool(self.parent_hash) and parent_hash == self.parent_hash


@dataclass(frozen=True)
class Damaged:
    file: Path
    reason: str
    moved_to: Path


class ReservationStore:
    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, folder: Path) -> "tuple[ReservationStore, Damaged | None]":
        """The store in ``folder``; a damaged one is moved aside first (see the module)."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / FILE_NAME
        damaged: Damaged | None = None
        if path.exists():
            reason = _check(path)
            if reason is not None:
                damaged = Damaged(path, reason, _move_aside(path))
        try:
            db = sqlite3.connect(path, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.execute(_SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.Error as exc:
            raise StoreError(f"{path}: cannot create the reservation store: {exc}") from exc
        return cls(db, path), damaged

    def close(self) -> None:
        self._db.close()

    def all(self) -> list[Reservation]:
        rows = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM reservations ORDER BY connector"
        ).fetchall()
        return [Reservation(*row) for row in rows]

    def add(
        self, token_hash: str, parent_hash: str, connector: int, expires_at: float, now: float
    ) -> Reservation:
        r = Reservation(uuid4_text(), token_hash, parent_hash, connector, expires_at, now)
        try:
            self._db.execute(
                "INSERT INTO reservations VALUES (?, ?, ?, ?, ?, ?)",
                (r.id, r.token_hash, r.parent_hash, r.connector, r.expires_at, r.created_at),
            )
        except sqlite3.IntegrityError as exc:
            raise ValueError(f"connector {connector} is reserved already") from exc
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot store the reservation: {exc}") from exc
        return r

    def remove(self, reservation_id: str) -> bool:
        try:
            cur = self._db.execute("DELETE FROM reservations WHERE id = ?", (reservation_id,))
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot remove the reservation: {exc}") from exc
        return cur.rowcount > 0


def _check(path: Path) -> str | None:
    """Why the file at ``path`` is not a usable store, or None."""
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return f"cannot open: {exc}"
    try:
        result = db.execute("PRAGMA integrity_check").fetchone()
        if result is None or result[0] != "ok":
            return f"integrity check failed: {result[0] if result else 'no answer'}"
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if "reservations" not in tables:
            return "no table 'reservations'" + (f" (tables: {sorted(tables)})" if tables else "")
        columns = tuple(row[1] for row in db.execute("PRAGMA table_info(reservations)"))
        if columns != _COLUMNS:
            return f"table 'reservations' has columns {list(columns)}, expected {list(_COLUMNS)}"
        for row in db.execute(f"SELECT {', '.join(_COLUMNS)} FROM reservations"):
            if not (
                isinstance(row[0], str)
                and isinstance(row[1], str)
                and isinstance(row[2], str)
                and isinstance(row[3], int)
                and isinstance(row[4], float | int)
            ):
                return "a row has values of the wrong type"
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        db.close()
    return None


def _move_aside(path: Path) -> Path:
    stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    path.rename(target)
    for suffix in ("-wal", "-shm"):
        side = path.with_name(path.name + suffix)
        with contextlib.suppress(FileNotFoundError):
            side.rename(target.with_name(target.name + suffix))
    return target
