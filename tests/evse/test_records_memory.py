# SPDX-License-Identifier: Apache-2.0
"""ccy-evse's memory across sessions (the soak's RSS trend of ccy-evse), structurally: SQLite's
heap levels off while the records database grows, and listing the session-log folders leaves
no per-session string behind in the interpreter.

SQLite keeps every page it read or wrote in its page cache up to ``cache_size`` and does not
give pages back; the records database only grows (transactions, sessions, error history up to
its cap), so with SQLite's default cache (2,000 KiB) the unit's heap grew with every session
for thousands of sessions. RecordStore bounds the cache (store.CACHE_KIB). The measure is
SQLite's own allocator count (``sqlite3_memory_used()`` of the library the sqlite3 module is
linked to), not the RSS: it counts exactly what SQLite holds, whatever the C heap does.
"""

import ctypes
import ctypes.util
import gc
import os
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from ccy.evse.records import RecordStore
from ccy.evse.records.store import CACHE_KIB
from ccy.evse.session_log import enforce_retention, folder_name, list_folders

T0 = 1_764_680_000_000_000
TOKEN = "[redacted] hash: 0123456789abcde"
PAD = "x" * 4000
"""Error messages this long make the database grow past the cache bound in a few hundred
sessions (a real message is shorter; the pages the inserts touch are the same)."""


def _sqlite_memory_used() -> Callable[[], int]:
    import _sqlite3

    lib = ctypes.CDLL(_sqlite3.__file__)  # its libsqlite3 is loaded: symbols resolve through it
    try:
        fn = lib.sqlite3_memory_used
    except AttributeError:  # pragma: no cover - a statically linked module without the export
        name = ctypes.util.find_library("sqlite3")
        if name is None:
            pytest.fail("cannot find libsqlite3 to read sqlite3_memory_used()")
        fn = ctypes.CDLL(name).sqlite3_memory_used
    fn.restype = ctypes.c_int64
    fn.argtypes = []
    return lambda: int(fn())


def session(store: RecordStore, n: int) -> None:
    """The writes of one charging session with two errors raised and cleared in it."""
    at = T0 + n * 10_000_000
    sid, tid = f"s-{n}", f"tx-{n}"
    store.session_started(sid, at, f"20251202T000000Z-{sid}")
    store.start_transaction(tid, sid, TOKEN, at + 1, 1000.0 * n)
    for k in range(2):
        store.note_meter(tid, 1000.0 * n + k, at + 2 + k)
        store.error_raised("ccy-profinet", "SupplyFault", str(k), "High", f"{n} {PAD}", at + 4)
        store.error_cleared("ccy-profinet", "SupplyFault", str(k), at + 5)
    store.stop_transaction(tid, at + 6, "EVStopped", 1000.0 * n + 10)
    store.session_finished(sid, at + 7, "EVDisconnected")


def test_the_sqlite_heap_stops_growing_once_the_database_outgrows_the_page_cache(
    tmp_path: Path,
) -> None:
    used = _sqlite_memory_used()
    store = RecordStore.open(tmp_path / "evse.db", T0)
    try:
        batch = 150  # ~1.2 MiB of rows: more than CACHE_KIB, less than SQLite's default
        for n in range(batch):
            session(store, n)
        gc.collect()
        filled = used()
        for n in range(batch, 2 * batch):
            session(store, n)
        gc.collect()
        grown = used() - filled
        db_kib = (tmp_path / "evse.db").stat().st_size / 1024
        wal = tmp_path / "evse.db-wal"
        data_kib = db_kib + (wal.stat().st_size / 1024 if wal.exists() else 0)
        assert data_kib > 2 * CACHE_KIB, "the database did not outgrow the cache: test too small"
        assert grown < 64 * 1024, f"SQLite's heap grew {grown / 1024:.0f} KiB in {batch} sessions"
        assert store.error_count() == 4 * batch  # every write landed
    finally:
        store.close()


def test_the_store_bounds_its_page_cache(tmp_path: Path) -> None:
    store = RecordStore.open(tmp_path / "evse.db", T0)
    try:
        check = sqlite3.connect(tmp_path / "evse.db")  # a plain connection: SQLite's default
        default = int(check.execute("PRAGMA cache_size").fetchone()[0])
        check.close()
        bound = int(store._db.execute("PRAGMA cache_size").fetchone()[0])
    finally:
        store.close()
    assert bound == -CACHE_KIB
    assert -bound < -default, "the bound is not below SQLite's default"


def _is_interned(text: str) -> bool:
    """Whether this very string object is in the interpreter's table of interned strings
    (an equal copy interned now returns the table's object when there is one)."""
    copy = "".join(list(text))
    return sys.intern(copy) is text


def test_listing_the_session_folders_interns_no_folder_name(tmp_path: Path) -> None:
    """Retention lists every folder at every session start; a pathlib object per folder
    interned each folder's name, so the interpreter's interned-string table (a dict that
    never shrinks) churned through hundreds of unique names per session and grew in a step
    (+0.5 MiB RSS of ccy-evse in the soak)."""
    base = tmp_path / "sessions"
    base.mkdir()
    for n in range(5):
        (base / folder_name(f"soak-{n}-{os.getpid()}", T0 + n * 1_000_000)).mkdir()
    folders = list_folders(base)
    removed = enforce_retention(base, 3, 10**9)
    assert len(folders) == 5 and len(removed) == 2  # the listing and the retention work
    assert [f.name for f in folders if _is_interned(f.name)] == []
    assert folders[-1].path == base / folders[-1].name  # a Path on demand
