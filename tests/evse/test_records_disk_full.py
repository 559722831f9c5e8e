# SPDX-License-Identifier: Apache-2.0
"""The full-disk rule of the records: writes queue in memory (bounded, in order), the health
flag goes DiskFull for the unit's RecordsDiskFull error, and everything is written once space
returns. A fake full condition (SQLite's own page limit, which fails exactly as a full disk
does: SQLITE_FULL) for the details; a real full tmpfs (root) for the whole story."""

import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

import ccy.evse.records.store as store_module
from ccy.evse.records import DatabaseUnavailable, RecordsHealth, RecordsState, RecordStore

T0 = 1_764_680_000_000_000
TOKEN = "[redacted] hash: 0123456789abcde"


def fill_database(store: RecordStore) -> None:
    """No page left for the database: cap it at its size, then fill its free space with a
    scratch table, so the next write of any row fails with SQLITE_FULL."""
    db = store._db
    db.execute("CREATE TABLE IF NOT EXISTS test_filler (junk BLOB)")
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.execute(f"PRAGMA max_page_count = {pages}")
    for size in (4096, 512, 64, 8, 1):
        try:
            while True:
                db.execute("INSERT INTO test_filler VALUES (zeroblob(?))", (size,))
        except sqlite3.OperationalError as exc:
            assert "full" in str(exc)


BIG = "m" * 6000
"""A message longer than a page: its row needs new (overflow) pages, which a full database
cannot give, whatever free space its pages still have."""


def make_room(store: RecordStore) -> None:
    store._db.execute("PRAGMA max_page_count = 1073741823")


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordStore]:
    s = RecordStore.open(tmp_path / "evse.db", T0)
    yield s
    s.close()


def test_writes_queue_while_full_and_are_written_in_order_once_room_returns(
    store: RecordStore,
) -> None:
    seen: list[RecordsHealth] = []
    store.on_health = seen.append
    fill_database(store)
    store.error_raised("ccy-bsp", "McuWarning", "big", "Low", BIG, T0)
    store.start_transaction("tx-1", "s-1", TOKEN, T0, 10.0)
    for i in range(199):
        store.error_raised("ccy-bsp", "McuWarning", str(i), "Low", "m" * 200, T0 + i)
    store.stop_transaction("tx-1", T0 + 1000, "EVStopped", 20.0)  # queued behind its start
    store.put("enabled", "true")
    health = store.health()
    assert health.disk_full and health.state is RecordsState.DISK_FULL
    assert health.pending > 0 and health.dropped == 0
    assert "database or disk is full" in health.last_error
    assert [h.state for h in seen] == [RecordsState.DISK_FULL]  # told once, not per write
    assert store.get("enabled") is None  # reads show written rows only

    assert store.retry_pending() is False  # still full: nothing lost, still queued
    assert store.health().pending == health.pending

    make_room(store)
    assert store.retry_pending() is True
    assert store.health() == RecordsHealth(RecordsState.OK, 0, 0, store.health().last_error)
    assert [h.state for h in seen] == [RecordsState.DISK_FULL, RecordsState.OK]
    tx = store.transaction("tx-1")
    assert tx is not None and (tx.stop_reason, tx.energy_Wh) == ("EVStopped", 10.0)
    assert store.error_count() == 200
    assert store.get("enabled") == "true"


def test_the_queue_is_bounded_and_gives_up_error_rows_first(tmp_path: Path) -> None:
    store = RecordStore.open(tmp_path / "evse.db", T0, max_pending=5)
    seen: list[RecordsHealth] = []
    store.on_health = seen.append
    fill_database(store)
    store.error_raised("ccy-bsp", "McuWarning", "big", "Low", BIG, T0)
    store.start_transaction("tx-1", "s-1", TOKEN, T0, None)
    for i in range(10):
        store.error_raised("ccy-bsp", "McuWarning", str(i), "Low", "", T0 + i)
    store.session_started("s-1", T0, None)
    store.stop_transaction("tx-1", T0 + 100, "Local", None)
    health = store.health()
    assert (health.pending, health.dropped) == (5, 9)
    assert seen[-1].dropped == 9
    make_room(store)
    assert store.retry_pending()
    tx = store.transaction("tx-1")
    assert tx is not None and tx.stop_reason == "Local"
    assert store.session("s-1") is not None
    assert [e.subtype for e in store.errors_since(0)] == ["8", "9"]  # the newest two kept
    store.close()


def test_a_queued_write_that_can_never_succeed_is_dropped_not_blocking(store: RecordStore) -> None:
    fill_database(store)
    store.put("big", BIG)
    store.start_transaction("tx-1", "s", TOKEN, T0, None)
    store.stop_transaction("tx-unknown", T0, "Local", None)  # a caller bug, seen at the flush
    store.start_transaction("tx-2", "s", TOKEN, T0 + 1, None)
    make_room(store)
    assert store.retry_pending()
    assert store.health().dropped == 1
    assert "tx-unknown" in store.health().last_error
    assert [t.transaction_id for t in store.last_transactions(5)] == ["tx-2", "tx-1"]


def test_new_writes_flush_the_queue_once_the_retry_interval_passed(
    store: RecordStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill_database(store)
    store.put("a", BIG)
    assert store.health().pending == 1
    make_room(store)
    store.put("b", "2")  # within the interval: queued behind "a", no attempt
    assert store.health().pending == 2
    monkeypatch.setattr(store_module, "RETRY_INTERVAL_S", 0.0)
    store._next_retry = 0.0
    store.put("c", "3")  # interval over: flushes, then writes
    assert store.health().pending == 0
    assert [store.get(k) for k in "abc"] == [BIG, "2", "3"]


def test_a_lock_held_by_another_process_queues_as_locked(store: RecordStore) -> None:
    holder = sqlite3.connect(store.path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        store.put("k", "v")
        assert store.health().state is RecordsState.LOCKED
        assert store.health().pending == 1
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert store.retry_pending()
    assert store.get("k") == "v"


def test_a_failing_health_listener_does_not_reach_the_writer(store: RecordStore) -> None:
    def broken(_: RecordsHealth) -> None:
        raise RuntimeError("listener bug")

    store.on_health = broken
    fill_database(store)
    store.put("k", BIG)  # no exception
    assert store.health().pending == 1
    make_room(store)
    assert store.retry_pending()
    assert store.get("k") == BIG


def fill_file_system(folder: Path) -> Path:
    filler = folder / "filler"
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError as exc:
            assert exc.errno == 28  # ENOSPC
    return filler


@pytest.fixture
def small_tmpfs() -> Iterator[Path]:
    mount = Path(tempfile.mkdtemp(prefix="ccy-evse-full-"))
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m,mode=0755", "ccy-evse-test", str(mount)],
        check=True,
    )
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], check=True)
        mount.rmdir()


@pytest.mark.root
def test_a_real_full_disk_while_charging(small_tmpfs: Path) -> None:
    """8 MiB tmpfs: a transaction starts, the disk fills up, the stop and an error storm
    are queued (state DiskFull), space returns, everything is on disk after a reopen."""
    path = small_tmpfs / "evse.db"
    store = RecordStore.open(path, T0)
    try:
        seen: list[RecordsHealth] = []
        store.on_health = seen.append
        store.start_transaction("tx-1", "s-1", TOKEN, T0, 100.0)
        filler = fill_file_system(small_tmpfs)
        for i in range(300):
            store.error_raised("ccy-profinet", "Fault", str(i), "High", "x" * 300, T0 + i)
        store.stop_transaction("tx-1", T0 + 5_000, "EmergencyStop", 150.0)
        assert store.health().state is RecordsState.DISK_FULL
        assert seen and seen[0].disk_full
        assert store.retry_pending() is False

        os.unlink(filler)
        assert store.retry_pending() is True
        assert store.health().state is RecordsState.OK and store.health().dropped == 0
    finally:
        store.close()

    again = RecordStore.open(path, T0 + 10_000)
    assert again.closed_on_open == ()
    tx = again.transaction("tx-1")
    assert tx is not None and (tx.stop_reason, tx.energy_Wh) == ("EmergencyStop", 50.0)
    assert again.error_count() == 300
    again.close()


@pytest.mark.root
def test_a_disk_too_full_to_open_is_named_then_the_transaction_is_found(
    small_tmpfs: Path,
) -> None:
    path = small_tmpfs / "evse.db"
    store = RecordStore.open(path, T0)
    store.start_transaction("tx-1", "s-1", TOKEN, T0, None)
    store.close()  # as after SIGKILL: the transaction is open
    filler = fill_file_system(small_tmpfs)
    with pytest.raises(DatabaseUnavailable, match="no space left") as caught:
        RecordStore.open(path, T0 + 1)
    assert caught.value.exit_code == 69 and str(path) in str(caught.value)
    os.unlink(filler)
    store = RecordStore.open(path, T0 + 2)
    try:
        assert [t.transaction_id for t in store.closed_on_open] == ["tx-1"]
        tx = store.transaction("tx-1")
        assert tx is not None and tx.stop_reason == "PowerLoss"
    finally:
        store.close()


def test_any_other_write_failure_queues_as_failed(store: RecordStore) -> None:
    """A write SQLite refuses for another reason (here: the connection made read-only, as a
    file system remounted read-only would) is kept too, under state Failed."""
    store._db.execute("PRAGMA query_only = ON")
    store.start_transaction("tx-1", "s", TOKEN, T0, None)
    health = store.health()
    assert (health.state, health.pending) == (RecordsState.FAILED, 1)
    assert "readonly" in health.last_error or "read-only" in health.last_error
    store._db.execute("PRAGMA query_only = OFF")
    assert store.retry_pending()
    assert store.transaction("tx-1") is not None
