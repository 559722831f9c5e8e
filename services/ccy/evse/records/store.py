# SPDX-License-Identifier: Apache-2.0
"""ccy-evse's records: transactions, error history, sessions and a key-value store in SQLite.

One file, ``/var/lib/ccy/evse/evse.db`` (:func:`database_path`), in WAL mode, written only by
ccy-evse (:class:`RecordStore`) and read by ``ccyctl evse`` (:meth:`RecordReader.open_readonly`,
which never writes, migrates or creates anything).

Durability. Transaction, session and key-value rows are committed with ``synchronous=FULL``
(the WAL is fsynced at every commit: a committed start or stop survives a power loss). Error
history rows and meter notes are committed with ``synchronous=NORMAL`` (consistent after a
power loss, the last few may be lost; the next FULL commit makes them durable too): an E-stop
storm writes hundreds of error rows, and an fsync each would stall the event loop.

Opening (:meth:`RecordStore.open`) checks the file (``PRAGMA quick_check``: "file is not a
database" or a damaged page is :class:`DatabaseCorrupt`, never an empty history), migrates the
schema (:mod:`.schema`), checks the tables, prunes the error history to ``max_error_rows`` and
closes every transaction and session left open by a previous run with reason PowerLoss; the
closed transactions are in ``closed_on_open`` for the unit's "Cleaning up any other
transaction on start up". A file system so full that SQLite cannot even open the database
(its -shm needs a page) is DatabaseUnavailable naming the lack of space (exit 69: systemd
restarts the unit, which opens once space is back; without records it does not charge); once
open, a full disk follows the rule below.

Full disk (the rule). A write that fails with SQLITE_FULL is queued in memory, in order, and
``health()`` turns DiskFull; a write that meets a lock held by another process beyond
RUNTIME_BUSY_TIMEOUT_S is queued the same way (state Locked), and so is one that meets any other
SQLite error (an I/O error, damage found while writing: state Failed). While anything is
queued, new writes queue behind it (so a stop is never written before its start). The queue
holds at most
``max_pending`` writes; beyond that the oldest error-history row or meter note is dropped
(counted in ``health().dropped``), transaction, session and key-value writes are kept (they
are a handful per session). ``retry_pending()`` (the unit calls it every RETRY_INTERVAL_S
while ``health().pending``) flushes the queue; a new write tries too when the last attempt is
RETRY_INTERVAL_S old (so a storm of writes on a full disk costs one attempt per interval, not
one per write). ``on_health``
is called on every change of state or dropped count: the unit raises Errors1 RecordsDiskFull
on it and clears it when the state is Ok again. Records never stop charging.

Calls are synchronous and short (one small SQLite transaction each); use one store from one
thread (the unit's event loop).
"""

import contextlib
import itertools
import logging
import os
import sqlite3
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ccy.evse.records.errors import (
    DatabaseCorrupt,
    DatabaseLocked,
    DatabaseOutdated,
    DatabaseTooNew,
    DatabaseUnavailable,
    DuplicateTransaction,
    RecordsError,
    UnknownTransaction,
)
from ccy.evse.records.model import (
    POWER_LOSS_REASON,
    ErrorRecord,
    RecordsHealth,
    RecordsState,
    SessionRecord,
    TransactionRecord,
)
from ccy.evse.records.schema import SCHEMA_VERSION, migrate, missing_columns, user_version
from ccy.runtime.paths import Paths

DATABASE_NAME = "evse.db"
FILE_MODE = 0o640
"""The database (and, as SQLite copies the mode, its -wal and -shm): ccy-evse writes, the
folder's group (ccy, the operators) reads through ``ccyctl evse``."""
BUSY_TIMEOUT_S = 2.0
"""How long opening waits for another process's write lock before DatabaseLocked."""
RUNTIME_BUSY_TIMEOUT_S = 0.05
"""After opening: how long a write waits for a lock before it is queued (the event loop
must not stall; nothing but ccy-evse writes, ccyctl only reads and WAL readers never block)."""
WAL_SIZE_LIMIT_BYTES = 1 << 20
"""The WAL is truncated to this size after a checkpoint (it grows to about 4 MiB between
checkpoints, SQLite's 1000-page default), so a quiet charger does not keep the peak."""
CACHE_KIB = 512
"""SQLite's page cache of the unit's connection (``PRAGMA cache_size = -CACHE_KIB``). SQLite
keeps every page it read or wrote up to this bound and never gives one back, so the cache
follows the database's growth (about 0.25 KiB of SQLite heap per session, measured with the
core and recorder in one process) up to the bound: with SQLite's
default of 2,000 KiB that is thousands of sessions of slow RSS growth (the soak's ccy-evse
trend). 512 KiB holds the indexes and the newest pages every session touches; older rows are
read from the file (the OS's page cache) by the rare ``ccyctl evse`` queries."""
DEFAULT_MAX_PENDING = 10_000
DEFAULT_MAX_ERROR_ROWS = 100_000
RETRY_INTERVAL_S = 5.0
"""How often the unit calls retry_pending() while writes are queued."""
FLUSH_BATCH = 500
"""Queued writes per transaction when the queue is flushed."""

SQLITE_PERM = 3
SQLITE_BUSY = 5
SQLITE_LOCKED = 6
SQLITE_READONLY = 8
SQLITE_IOERR = 10
SQLITE_CORRUPT = 11
SQLITE_FULL = 13
SQLITE_CANTOPEN = 14
SQLITE_AUTH = 23
SQLITE_NOTADB = 26

_log = logging.getLogger(__name__)


def database_path(paths: Paths) -> Path:
    """``/var/lib/ccy/evse/evse.db`` under the root of ``paths``."""
    return paths.state_dir("evse") / DATABASE_NAME


def _primary_code(exc: sqlite3.Error) -> int | None:
    code = getattr(exc, "sqlite_errorcode", None)
    return code & 0xFF if isinstance(code, int) else None


def translate(exc: sqlite3.Error, path: Path) -> RecordsError:
    """The named RecordsError for an sqlite3 exception on the database at ``path``."""
    code = _primary_code(exc)
    text = str(exc)
    if code in (SQLITE_CORRUPT, SQLITE_NOTADB):
        return DatabaseCorrupt(path, text)
    if code in (SQLITE_BUSY, SQLITE_LOCKED):
        return DatabaseLocked(path, f"{text} (another process holds it: fuser {path})")
    if code in (SQLITE_CANTOPEN, SQLITE_PERM, SQLITE_READONLY, SQLITE_AUTH):
        return DatabaseUnavailable(path, text)
    if code == SQLITE_FULL:
        return DatabaseUnavailable(path, f"{text} (no space left for the database)")
    return RecordsError(path, text)


_TX_COLUMNS = (
    "transaction_id, session_id, token_hash, start_us, stop_us, stop_reason, "
    "meter_start_Wh, meter_stop_Wh, energy_Wh, clock_synchronized_start, clock_synchronized_stop"
)
_ERROR_COLUMNS = "unit, type, subtype, severity, message, raised_us, cleared_us"
_SESSION_COLUMNS = "session_id, start_us, end_us, reason, folder"


def _energy(start: float | None, stop: float | None) -> float | None:
    return None if start is None or stop is None else stop - start


def _check_count(n: int) -> int:
    if n < 0:
        raise ValueError(f"a row count must be 0 or more, not {n}")
    return n


class RecordReader:
    """Queries on an open database (the read side, shared by the unit and ccyctl)."""

    def __init__(self, db: sqlite3.Connection, path: Path) -> None:
        self._db = db
        self.path = path

    @classmethod
    def open_readonly(cls, path: Path, busy_timeout_s: float = BUSY_TIMEOUT_S) -> "RecordReader":
        """Open for reading only: never creates, migrates or writes (``ccyctl evse``).

        A missing file is DatabaseUnavailable (never an empty history); a schema older than
        this code is DatabaseOutdated (ccy-evse migrates it on its next start), newer is
        DatabaseTooNew. Without write access to the folder, a database whose writer has
        closed it (no -wal file) is opened ``immutable`` (SQLite then takes no locks, which
        is safe because there is no writer's WAL to see).
        """
        if not path.exists():
            raise DatabaseUnavailable(path, "no such file: ccy-evse has not written records here")
        wal = path.with_name(path.name + "-wal")
        immutable = not wal.exists() and not os.access(path.parent, os.W_OK)
        uri = f"file:{quote(str(path))}?mode=ro" + ("&immutable=1" if immutable else "")
        try:
            db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=busy_timeout_s)
            db.execute("PRAGMA query_only = ON")
            version = user_version(db)
            if version > SCHEMA_VERSION:
                raise DatabaseTooNew(
                    path, f"schema version {version}, this ccyctl knows up to {SCHEMA_VERSION}"
                )
            if version < SCHEMA_VERSION:
                raise DatabaseOutdated(
                    path,
                    f"schema version {version}, this ccyctl reads {SCHEMA_VERSION}: "
                    "start ccy-evse once to migrate it",
                )
            missing = missing_columns(db)
            if missing:
                raise DatabaseCorrupt(path, "schema lacks " + ", ".join(missing))
        except sqlite3.Error as exc:
            raise translate(exc, path) from exc
        return cls(db, path)

    def close(self) -> None:
        self._db.close()

    def _query(self, sql: str, params: Iterable[object] = ()) -> list[tuple[object, ...]]:
        try:
            return list(self._db.execute(sql, tuple(params)))
        except sqlite3.Error as exc:
            raise translate(exc, self.path) from exc

    # transactions

    @staticmethod
    def _transaction(row: tuple[object, ...]) -> TransactionRecord:
        # The clock columns are SQLite integers (1/0/NULL): booleans (or None) in the record.
        synced = tuple(None if v is None else bool(v) for v in row[-2:])
        return TransactionRecord(*row[:-2], *synced)  # type: ignore[arg-type]

    def transaction(self, transaction_id: str) -> TransactionRecord | None:
        rows = self._query(
            f"SELECT {_TX_COLUMNS} FROM transactions WHERE transaction_id = ?", (transaction_id,)
        )
        return self._transaction(rows[0]) if rows else None

    def last_transactions(self, n: int) -> list[TransactionRecord]:
        """The newest ``n`` transactions, newest first."""
        rows = self._query(
            f"SELECT {_TX_COLUMNS} FROM transactions ORDER BY start_us DESC, rowid DESC LIMIT ?",
            (_check_count(n),),
        )
        return [self._transaction(row) for row in rows]

    def transactions_of_session(self, session_id: str) -> list[TransactionRecord]:
        rows = self._query(
            f"SELECT {_TX_COLUMNS} FROM transactions WHERE session_id = ? ORDER BY start_us, rowid",
            (session_id,),
        )
        return [self._transaction(row) for row in rows]

    # error history

    @staticmethod
    def _error(row: tuple[object, ...]) -> ErrorRecord:
        return ErrorRecord(*row)  # type: ignore[arg-type]

    def errors_since(self, since_us: int, limit: int | None = None) -> list[ErrorRecord]:
        """Errors raised at or after ``since_us``, oldest first (index on raised_us)."""
        rows = self._query(
            f"SELECT {_ERROR_COLUMNS} FROM error_history WHERE raised_us >= ? "
            "ORDER BY raised_us, id LIMIT ?",
            (since_us, -1 if limit is None else _check_count(limit)),
        )
        return [self._error(row) for row in rows]

    def errors_between(self, from_us: int, to_us: int | None) -> list[ErrorRecord]:
        """Errors active at any time in [from_us, to_us] (to_us None: until now), oldest
        first: what ``ccyctl evse session show`` lists for one session."""
        end = to_us if to_us is not None else 2**62
        rows = self._query(
            f"SELECT {_ERROR_COLUMNS} FROM error_history WHERE raised_us <= ? "
            "AND (cleared_us IS NULL OR cleared_us >= ?) ORDER BY raised_us, id",
            (end, from_us),
        )
        return [self._error(row) for row in rows]

    def last_errors(self, n: int, since_us: int = 0) -> list[ErrorRecord]:
        """The ``n`` most recently raised errors raised at or after ``since_us``, newest first
        (Evse1.ListErrors; index on raised_us)."""
        rows = self._query(
            f"SELECT {_ERROR_COLUMNS} FROM error_history WHERE raised_us >= ? "
            "ORDER BY raised_us DESC, id DESC LIMIT ?",
            (since_us, _check_count(n)),
        )
        return [self._error(row) for row in rows]

    def error_count(self) -> int:
        value = self._query("SELECT count(*) FROM error_history")[0][0]
        assert isinstance(value, int)
        return value

    # sessions

    @staticmethod
    def _session(row: tuple[object, ...]) -> SessionRecord:
        return SessionRecord(*row)  # type: ignore[arg-type]

    def sessions(self, limit: int = 50) -> list[SessionRecord]:
        """The newest ``limit`` sessions, newest first."""
        rows = self._query(
            f"SELECT {_SESSION_COLUMNS} FROM sessions ORDER BY start_us DESC, rowid DESC LIMIT ?",
            (_check_count(limit),),
        )
        return [self._session(row) for row in rows]

    def session(self, session_id: str) -> SessionRecord | None:
        rows = self._query(
            f"SELECT {_SESSION_COLUMNS} FROM sessions WHERE session_id = ?", (session_id,)
        )
        return self._session(rows[0]) if rows else None

    # key-value store

    def get(self, key: str) -> str | None:
        rows = self._query("SELECT value FROM kv WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None


@dataclass(frozen=True)
class _Write:
    kind: str
    """transaction | session | kv (kept on overflow) or error | meter (dropped first)."""
    full_sync: bool
    run: Callable[[sqlite3.Connection], None]
    what: str


_DROPPABLE = frozenset({"error", "meter"})


class RecordStore(RecordReader):
    """The writing side, owned by ccy-evse (see the module docstring for the rules)."""

    def __init__(self, db: sqlite3.Connection, path: Path, max_pending: int) -> None:
        super().__init__(db, path)
        self._max_pending = max_pending
        self._pending: deque[_Write] = deque()
        self._state = RecordsState.OK
        self._dropped = 0
        self._last_error = ""
        self._dropped_reported = 0
        self._next_retry = 0.0
        self._full_sync: bool | None = None
        self.closed_on_open: tuple[TransactionRecord, ...] = ()
        self.on_health: Callable[[RecordsHealth], None] | None = None

    @classmethod
    def open(
        cls,
        path: Path,
        now_us: int,
        *,
        max_pending: int = DEFAULT_MAX_PENDING,
        max_error_rows: int = DEFAULT_MAX_ERROR_ROWS,
        busy_timeout_s: float = BUSY_TIMEOUT_S,
    ) -> "RecordStore":
        """Open (creating it and its folder if needed), check, migrate, clean up; see the module
        docstring. Raises DatabaseCorrupt, DatabaseTooNew, DatabaseLocked, DatabaseUnavailable."""
        _create(path)
        try:
            db = sqlite3.connect(str(path), isolation_level=None, timeout=busy_timeout_s)
        except sqlite3.Error as exc:
            raise translate(exc, path) from exc
        try:
            store = cls(db, path, max_pending)
            store._prepare(now_us, max_error_rows)
        except sqlite3.Error as exc:
            db.close()
            if _no_space(path) and _primary_code(exc) in (SQLITE_IOERR, SQLITE_FULL):
                raise DatabaseUnavailable(
                    path, f"no space left on its file system ({exc}): free space, it restarts"
                ) from exc
            raise translate(exc, path) from exc
        except BaseException:
            db.close()
            raise
        db.execute(f"PRAGMA busy_timeout = {int(RUNTIME_BUSY_TIMEOUT_S * 1000)}")
        db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        return store

    def _prepare(self, now_us: int, max_error_rows: int) -> None:
        db = self._db
        check = [str(row[0]) for row in db.execute("PRAGMA quick_check")]
        if check != ["ok"]:
            raise DatabaseCorrupt(self.path, "quick_check: " + "; ".join(check[:3]))
        version = user_version(db)
        if version > SCHEMA_VERSION:
            raise DatabaseTooNew(
                self.path,
                f"schema version {version}, this ccy-evse knows up to {SCHEMA_VERSION}: "
                "install the newer ccy again or move the file away",
            )
        mode = str(db.execute("PRAGMA journal_mode = WAL").fetchone()[0])
        if mode.lower() != "wal":
            raise DatabaseUnavailable(self.path, f"cannot switch to WAL (journal mode {mode})")
        self._set_sync(True)
        db.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")
        migrate(db)
        missing = missing_columns(db)
        if missing:
            raise DatabaseCorrupt(self.path, "schema lacks " + ", ".join(missing))
        self.closed_on_open = self._close_unfinished(now_us)
        self._prune_errors(max_error_rows)

    def close(self) -> None:
        """Close the database; writes still queued are lost (health() told the unit)."""
        self._db.close()

    # the write path

    def _set_sync(self, full: bool) -> None:
        if self._full_sync is not full:
            self._db.execute(f"PRAGMA synchronous = {'FULL' if full else 'NORMAL'}")
            self._full_sync = full

    def _execute(self, write: _Write) -> None:
        """Run one write in its own transaction; sqlite3 errors and RecordsErrors go up."""
        self._set_sync(write.full_sync)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            write.run(self._db)
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    @staticmethod
    def _queue_state(exc: sqlite3.Error) -> RecordsState:
        code = _primary_code(exc)
        if code == SQLITE_FULL:
            return RecordsState.DISK_FULL
        if code in (SQLITE_BUSY, SQLITE_LOCKED):
            return RecordsState.LOCKED
        return RecordsState.FAILED

    def _write(self, write: _Write) -> None:
        """Run ``write`` now or queue it (see the module docstring). A RecordsError of the
        write itself (UnknownTransaction, DuplicateTransaction) goes up to the caller."""
        if self._pending and (time.monotonic() < self._next_retry or not self.retry_pending()):
            self._enqueue(write)
            return
        try:
            self._execute(write)
        except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
            raise  # a bug in this module, not the disk
        except sqlite3.DatabaseError as exc:
            self._enqueue(write)
            self._next_retry = time.monotonic() + RETRY_INTERVAL_S
            self._set_state(self._queue_state(exc), f"{write.what}: {exc}")

    def _enqueue(self, write: _Write) -> None:
        self._pending.append(write)
        if len(self._pending) <= self._max_pending:
            return
        victim = next((w for w in self._pending if w.kind in _DROPPABLE), self._pending[0])
        self._pending.remove(victim)
        self._dropped += 1
        self._set_state(self._state, f"queue full: dropped {victim.what}")

    def retry_pending(self) -> bool:
        """Write what is queued, in order; True when nothing is left.

        After a full disk the WAL is checkpointed and truncated first (it holds the space the
        failed commits took), then the queue is written in batches of FLUSH_BATCH writes per
        transaction (one WAL commit per batch, not per row), each write in a savepoint: a
        write that can never succeed (UnknownTransaction, a constraint) is dropped and counted
        without holding back the rest.
        """
        if not self._pending:
            return True
        self._next_retry = time.monotonic() + RETRY_INTERVAL_S
        if self._state is RecordsState.DISK_FULL:
            with contextlib.suppress(sqlite3.Error):
                self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        while self._pending:
            batch = list(itertools.islice(self._pending, FLUSH_BATCH))
            try:
                failed = self._execute_batch(batch)
            except (sqlite3.ProgrammingError, sqlite3.InterfaceError):
                raise
            except sqlite3.DatabaseError as exc:
                self._set_state(self._queue_state(exc), f"{batch[0].what}: {exc}")
                return False
            for _ in batch:
                self._pending.popleft()
            for write, why in failed:
                self._dropped += 1
                self._set_state(self._state, f"{write.what}: {why}")
        self._set_state(RecordsState.OK, self._last_error)
        return True

    def _execute_batch(self, batch: list[_Write]) -> list[tuple[_Write, str]]:
        """Run ``batch`` in one transaction, each in a savepoint; the writes that failed on
        their own (and were rolled back alone). A full disk or a lock rolls back the lot."""
        self._set_sync(any(w.full_sync for w in batch))
        failed: list[tuple[_Write, str]] = []
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for write in batch:
                self._db.execute("SAVEPOINT one")
                try:
                    write.run(self._db)
                except RecordsError as exc:
                    self._db.execute("ROLLBACK TO one")
                    failed.append((write, str(exc)))
                except sqlite3.IntegrityError as exc:
                    self._db.execute("ROLLBACK TO one")
                    failed.append((write, str(exc)))
                self._db.execute("RELEASE one")
            self._db.execute("COMMIT")
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise
        return failed

    def health(self) -> RecordsHealth:
        return RecordsHealth(self._state, len(self._pending), self._dropped, self._last_error)

    def _set_state(self, state: RecordsState, last_error: str) -> None:
        before = (self._state, self._dropped_reported)
        self._state = state
        self._last_error = last_error
        if (state, self._dropped) == before:
            return
        self._dropped_reported = self._dropped
        if self.on_health is not None:
            try:
                self.on_health(self.health())
            except Exception:  # a failing listener never reaches the caller's write
                _log.exception("records health listener failed")

    # start-up cleanup

    def _close_unfinished(self, now_us: int) -> tuple[TransactionRecord, ...]:
        rows = self._query(
            "SELECT transaction_id, session_id, token_hash, start_us, meter_start_Wh, "
            "meter_last_Wh, meter_last_us, clock_synchronized_start FROM transactions "
            "WHERE stop_us IS NULL ORDER BY start_us, rowid"
        )
        closed = []
        for tid, sid, token, start, meter_start, meter_last, last_us, synced in rows:
            stop_us = last_us if isinstance(last_us, int) else max(now_us, int(start))  # type: ignore[call-overload]
            closed.append(
                TransactionRecord(
                    transaction_id=str(tid),
                    session_id=str(sid),
                    token_hash=str(token),
                    start_us=int(start),  # type: ignore[call-overload]
                    stop_us=stop_us,
                    stop_reason=POWER_LOSS_REASON,
                    meter_start_Wh=meter_start,  # type: ignore[arg-type]
                    meter_stop_Wh=meter_last,  # type: ignore[arg-type]
                    energy_Wh=_energy(meter_start, meter_last),  # type: ignore[arg-type]
                    clock_synchronized_start=None if synced is None else bool(synced),
                )
            )

        def run(db: sqlite3.Connection) -> None:
            for tx in closed:
                db.execute(
                    "UPDATE transactions SET stop_us = ?, stop_reason = ?, meter_stop_Wh = ?, "
                    "energy_Wh = ? WHERE transaction_id = ? AND stop_us IS NULL",
                    (tx.stop_us, tx.stop_reason, tx.meter_stop_Wh, tx.energy_Wh, tx.transaction_id),
                )
            db.execute(
                "UPDATE sessions SET end_us = max(start_us, ?), reason = ? WHERE end_us IS NULL",
                (now_us, POWER_LOSS_REASON),
            )

        self._write(_Write("transaction", True, run, "closing unfinished transactions"))
        return tuple(closed)

    def _prune_errors(self, max_rows: int) -> None:
        def run(db: sqlite3.Connection) -> None:
            db.execute(
                "DELETE FROM error_history WHERE id IN (SELECT id FROM error_history "
                "ORDER BY raised_us DESC, id DESC LIMIT -1 OFFSET ?)",
                (max_rows,),
            )

        self._write(_Write("error", False, run, "pruning the error history"))

    # transactions

    def start_transaction(
        self,
        transaction_id: str,
        session_id: str,
        token_hash: str,
        start_us: int,
        meter_start_Wh: float | None,
        clock_synchronized: bool | None = None,
    ) -> None:
        def run(db: sqlite3.Connection) -> None:
            try:
                db.execute(
                    "INSERT INTO transactions (transaction_id, session_id, token_hash, start_us,"
                    " meter_start_Wh, clock_synchronized_start) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        transaction_id,
                        session_id,
                        token_hash,
                        start_us,
                        meter_start_Wh,
                        clock_synchronized,
                    ),
                )
            except sqlite3.IntegrityError:
                raise DuplicateTransaction(self.path, transaction_id) from None

        self._write(_Write("transaction", True, run, f"start of transaction {transaction_id}"))

    def note_meter(self, transaction_id: str, meter_Wh: float, at_us: int) -> None:
        """Remember the latest meter reading of an open transaction (NORMAL sync): a PowerLoss
        close then records real energy up to that reading."""

        def run(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE transactions SET meter_last_Wh = ?, meter_last_us = ? "
                "WHERE transaction_id = ? AND stop_us IS NULL",
                (meter_Wh, at_us, transaction_id),
            )

        self._write(_Write("meter", False, run, f"meter of transaction {transaction_id}"))

    def stop_transaction(
        self,
        transaction_id: str,
        stop_us: int,
        reason: str,
        meter_stop_Wh: float | None,
        clock_synchronized: bool | None = None,
    ) -> None:
        def run(db: sqlite3.Connection) -> None:
            row = db.execute(
                "SELECT meter_start_Wh FROM transactions WHERE transaction_id = ? "
                "AND stop_us IS NULL",
                (transaction_id,),
            ).fetchone()
            if row is None:
                raise UnknownTransaction(self.path, transaction_id)
            db.execute(
                "UPDATE transactions SET stop_us = ?, stop_reason = ?, meter_stop_Wh = ?, "
                "energy_Wh = ?, clock_synchronized_stop = ? WHERE transaction_id = ?",
                (
                    stop_us,
                    reason,
                    meter_stop_Wh,
                    _energy(row[0], meter_stop_Wh),
                    clock_synchronized,
                    transaction_id,
                ),
            )

        self._write(_Write("transaction", True, run, f"stop of transaction {transaction_id}"))

    # error history

    @staticmethod
    def _raise_row(
        db: sqlite3.Connection,
        unit: str,
        key: tuple[str, str],
        severity: str,
        message: str,
        raised_us: int,
    ) -> None:
        open_row = db.execute(
            "SELECT id, raised_us FROM error_history WHERE unit = ? AND type = ? AND subtype = ?"
            " AND cleared_us IS NULL",
            (unit, *key),
        ).fetchone()
        if open_row is not None:
            if open_row[1] == raised_us:
                return  # the same raise seen again (ActiveErrors after a Raised signal)
            # raised again without a Cleared seen: the old one ended when the new one began
            db.execute(
                "UPDATE error_history SET cleared_us = ? WHERE id = ?", (raised_us, open_row[0])
            )
        db.execute(
            "INSERT INTO error_history (unit, type, subtype, severity, message, raised_us) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (unit, *key, severity, message, raised_us),
        )

    def error_raised(
        self, unit: str, type: str, subtype: str, severity: str, message: str, raised_us: int
    ) -> None:
        def run(db: sqlite3.Connection) -> None:
            self._raise_row(db, unit, (type, subtype), severity, message, raised_us)

        self._write(_Write("error", False, run, f"raise of {unit} {type}/{subtype}"))

    def error_cleared(self, unit: str, type: str, subtype: str, cleared_us: int) -> None:
        def run(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE error_history SET cleared_us = max(raised_us, ?) WHERE unit = ? "
                "AND type = ? AND subtype = ? AND cleared_us IS NULL",
                (cleared_us, unit, type, subtype),
            )

        self._write(_Write("error", False, run, f"clear of {unit} {type}/{subtype}"))

    def sync_active_errors(
        self,
        unit: str,
        active: Iterable[tuple[str, str, str, str, int]],
        at_us: int,
    ) -> None:
        """Make the open rows of ``unit`` match its ActiveErrors (type, subtype, severity,
        message, raised_us): rows not active any more are cleared at ``at_us``, new ones are
        inserted. Call it when a unit appears or reappears, and with ``()`` when it vanishes."""
        entries = list(active)

        def run(db: sqlite3.Connection) -> None:
            keys = {(e[0], e[1]) for e in entries}
            for row_id, typ, sub in db.execute(
                "SELECT id, type, subtype FROM error_history WHERE unit = ? AND cleared_us IS NULL",
                (unit,),
            ).fetchall():
                if (typ, sub) not in keys:
                    db.execute(
                        "UPDATE error_history SET cleared_us = max(raised_us, ?) WHERE id = ?",
                        (at_us, row_id),
                    )
            for typ, sub, severity, message, raised_us in entries:
                self._raise_row(db, unit, (typ, sub), severity, message, raised_us)

        self._write(_Write("error", False, run, f"active errors of {unit}"))

    # sessions

    def session_started(self, session_id: str, start_us: int, folder: str | None) -> None:
        def run(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT OR REPLACE INTO sessions (session_id, start_us, folder) VALUES (?, ?, ?)",
                (session_id, start_us, folder),
            )

        self._write(_Write("session", True, run, f"start of session {session_id}"))

    def session_finished(self, session_id: str, end_us: int, reason: str) -> None:
        def run(db: sqlite3.Connection) -> None:
            db.execute(
                "UPDATE sessions SET end_us = max(start_us, ?), reason = ? "
                "WHERE session_id = ? AND end_us IS NULL",
                (end_us, reason, session_id),
            )

        self._write(_Write("session", True, run, f"end of session {session_id}"))

    # key-value store

    def put(self, key: str, value: str) -> None:
        def run(db: sqlite3.Connection) -> None:
            db.execute("INSERT OR REPLACE INTO kv (key, value) VALUES (?, ?)", (key, value))

        self._write(_Write("kv", True, run, f"value of {key}"))

    def delete(self, key: str) -> None:
        def run(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM kv WHERE key = ?", (key,))

        self._write(_Write("kv", True, run, f"removal of {key}"))


def _no_space(path: Path) -> bool:
    try:
        return os.statvfs(path.parent).f_bavail == 0
    except OSError:
        return False


def _create(path: Path) -> None:
    """Create the folder and an empty database file with FILE_MODE (SQLite gives its -wal and
    -shm the database's mode), so operators of the folder's group can read them."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o750)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL, FILE_MODE)
    except FileExistsError:
        return
    except OSError as exc:
        raise DatabaseUnavailable(path, exc.strerror or str(exc)) from exc
    try:
        os.fchmod(fd, FILE_MODE)  # the umask may have taken the group's read bit
    finally:
        os.close(fd)
