# SPDX-License-Identifier: Apache-2.0
"""Opening the records database: unfinished transactions and sessions closed with PowerLoss;
a corrupt, locked or unopenable file is a named error with the file and the reason (and the
exit code the unit ends with), never a silently empty history."""

import contextlib
import io
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ccy.evse.records import (
    POWER_LOSS_REASON,
    DatabaseCorrupt,
    DatabaseLocked,
    DatabaseUnavailable,
    RecordReader,
    RecordsError,
    RecordStore,
    database_path,
)
from ccy.runtime.paths import Paths
from ccy.testing.as_user import NOBODY, call_as
from ccy.testing.folders import traversable_tmp

T0 = 1_764_680_000_000_000
TOKEN = "[redacted] hash: 0123456789abcde"


def test_the_database_lives_in_the_units_state_folder(tmp_path: Path) -> None:
    assert database_path(Paths(tmp_path)) == tmp_path / "var/lib/ccy/evse/evse.db"


def test_a_new_database_is_made_with_its_folder_in_wal_mode_readable_by_the_group(
    tmp_path: Path,
) -> None:
    path = database_path(Paths(tmp_path))
    store = RecordStore.open(path, T0)
    store.put("k", "v")
    assert (path.stat().st_mode & 0o777) == 0o640
    assert (path.with_name("evse.db-wal").stat().st_mode & 0o777) == 0o640
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    db.close()
    store.close()


def test_unfinished_transactions_and_sessions_are_closed_with_power_loss(tmp_path: Path) -> None:
    path = tmp_path / "evse.db"
    store = RecordStore.open(path, T0)
    store.session_started("s-1", T0, "folder-1")
    store.start_transaction("tx-metered", "s-1", TOKEN, T0 + 10, 1000.0)
    store.note_meter("tx-metered", 1012.5, T0 + 500)
    store.start_transaction("tx-no-meter", "s-1", TOKEN, T0 + 20, None)
    store.session_started("s-0", T0 - 100, None)
    store.session_finished("s-0", T0 - 50, "EVDisconnected")
    store.close()  # as after SIGKILL: nothing was stopped

    restart = T0 + 10_000
    store = RecordStore.open(path, restart)
    closed = {t.transaction_id: t for t in store.closed_on_open}
    assert set(closed) == {"tx-metered", "tx-no-meter"}
    metered = closed["tx-metered"]
    assert (metered.stop_reason, metered.stop_us) == (POWER_LOSS_REASON, T0 + 500)
    assert metered.meter_stop_Wh == 1012.5 and metered.energy_Wh == 12.5
    unmetered = closed["tx-no-meter"]
    assert (unmetered.stop_us, unmetered.energy_Wh, unmetered.meter_stop_Wh) == (
        restart,
        None,
        None,
    )
    assert store.transaction("tx-metered") == metered  # the rows say what was returned
    assert store.transaction("tx-no-meter") == unmetered
    session = store.session("s-1")
    assert session is not None and (session.end_us, session.reason) == (restart, POWER_LOSS_REASON)
    finished = store.session("s-0")
    assert finished is not None and finished.reason == "EVDisconnected"
    store.close()
    store = RecordStore.open(path, restart + 1)
    assert store.closed_on_open == ()  # closed once only
    store.close()


def test_power_loss_close_survives_a_killed_writer(tmp_path: Path) -> None:
    """A process that started a transaction and was killed with SIGKILL (no close, WAL not
    checkpointed): the next open finds the transaction and closes it."""
    path = tmp_path / "evse.db"
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from ccy.evse.records import RecordStore\n"
        f"s = RecordStore.open(Path({str(path)!r}), {T0})\n"
        f"s.start_transaction('tx-k', 's-k', {TOKEN!r}, {T0}, 5.0)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], check=False, timeout=30)
    assert proc.returncode == -9
    store = RecordStore.open(path, T0 + 1)
    assert [t.transaction_id for t in store.closed_on_open] == ["tx-k"]
    assert store.closed_on_open[0].meter_start_Wh == 5.0
    store.close()


def write_garbage(path: Path) -> None:
    path.write_bytes(b"this is not an SQLite database, it is a text file\n" * 200)


def test_a_file_that_is_not_a_database_is_corrupt(tmp_path: Path) -> None:
    path = tmp_path / "evse.db"
    write_garbage(path)
    with pytest.raises(DatabaseCorrupt) as caught:
        RecordStore.open(path, T0)
    assert caught.value.exit_code == 78
    assert caught.value.path == path
    assert str(path) in str(caught.value) and "not a database" in str(caught.value)
    assert "\n" not in str(caught.value)
    with pytest.raises(DatabaseCorrupt):
        RecordReader.open_readonly(path)


def test_a_damaged_page_is_corrupt_not_an_empty_history(tmp_path: Path) -> None:
    path = tmp_path / "evse.db"
    store = RecordStore.open(path, T0)
    for i in range(400):
        store.error_raised("ccy-bsp", "LinkLost", str(i), "High", "x" * 100, T0 + i)
    store.close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    page_size = db.execute("PRAGMA page_size").fetchone()[0]
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    db.close()
    assert pages > 4
    with open(path, "r+b") as f:  # scribble over two pages in the middle of the table
        f.seek(page_size * (pages // 2))
        f.write(b"\xa5" * page_size * 2)
    with pytest.raises(DatabaseCorrupt) as caught:
        RecordStore.open(path, T0)
    assert "quick_check" in str(caught.value) or "malformed" in str(caught.value)


def test_a_database_locked_by_another_process_is_named(tmp_path: Path) -> None:
    path = tmp_path / "evse.db"
    RecordStore.open(path, T0).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseLocked) as caught:
            RecordStore.open(path, T0, busy_timeout_s=0.05)
        assert caught.value.exit_code == 69
        assert str(path) in str(caught.value) and "locked" in str(caught.value)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    RecordStore.open(path, T0).close()  # free again: opens


def test_a_rollback_journal_lock_blocks_even_the_check_and_is_named(tmp_path: Path) -> None:
    """A database someone switched out of WAL and holds exclusively (an sqlite3 shell)."""
    path = tmp_path / "evse.db"
    RecordStore.open(path, T0).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode = DELETE")
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(DatabaseLocked):
            RecordStore.open(path, T0, busy_timeout_s=0.05)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_a_folder_that_cannot_exist_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "lib").write_text("a file where the folder should be")
    path = tmp_path / "lib" / "evse" / "evse.db"
    with pytest.raises(DatabaseUnavailable) as caught:
        RecordStore.open(path, T0)
    assert caught.value.exit_code == 69 and str(path) in str(caught.value)


def open_and_report(path: Path) -> None:
    try:
        RecordStore.open(path, 1)
    except RecordsError as exc:
        print(type(exc).__name__, exc.exit_code, exc)


def test_a_file_without_permission_is_unavailable() -> None:
    folder = traversable_tmp("ccy-evse-perm-")
    try:
        path = folder / "evse.db"
        RecordStore.open(path, T0).close()
        path.chmod(0o600)  # the owner's (root's, or the test user's after chmod 000 below)
        if os.geteuid() == 0:  # another user: nobody, in a forked child
            done = call_as(NOBODY, NOBODY, lambda: open_and_report(path))
            assert done.returncode == 0, done.stderr
            out = done.stdout
        else:
            path.chmod(0o000)
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                open_and_report(path)
            out = buffer.getvalue()
        assert out.startswith("DatabaseUnavailable 69 "), out
        assert str(path) in out
    finally:
        shutil.rmtree(folder)


def test_the_reader_does_not_invent_an_empty_history(tmp_path: Path) -> None:
    path = tmp_path / "evse.db"
    with pytest.raises(DatabaseUnavailable, match="no such file"):
        RecordReader.open_readonly(path)
    assert not path.exists()
