# SPDX-License-Identifier: Apache-2.0
"""ccy-evse started as a process (``ccy-evse --root DIR``) on a records database it cannot use:
a corrupt file ends it with 78 (EX_CONFIG: someone must look), a file another process holds
locked with 69 (EX_UNAVAILABLE: try again later), each with one journal line naming the file
and no traceback; the file is left as it was, never replaced by an empty history.

The database is made with the real store (ccy.evse.records), then damaged or locked by this
test; no bus is given (DBUS_SYSTEM_BUS_ADDRESS points nowhere), so a unit that wrongly got past
its records would fail on the bus instead, with a line that does not name the database.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ccy.evse.records import RecordReader, RecordStore, database_path
from ccy.runtime.paths import Paths
from ccy.testing.folders import traversable_tmp

EXE = Path(sys.executable).with_name("ccy-evse")
PAGE = 4096
RUN_TIMEOUT_S = 30.0
"""Failure bound of one run (the store's busy timeout is 2 s)."""
QUIET_LEVELS = ("[INFO]", "[DEBUG]", "[NOTICE]")


@pytest.fixture
def root() -> Iterator[Path]:
    directory = traversable_tmp("ccy-evse-records-")
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def make_database(root: Path) -> Path:
    """A real records database with a finished transaction and 300 error rows (many pages)."""
    path = database_path(Paths.from_root(root))
    store = RecordStore.open(path, 1_000_000)
    store.start_transaction("tx-1", "s-1", "[redacted] hash: 0123456789ABCDE", 2_000_000, 10.0)
    store.stop_transaction("tx-1", 3_000_000, "EVDisconnected", 12.5)
    for i in range(300):
        store.error_raised("ccy-bsp", f"Type{i}", "", "High", "x" * 200, 4_000_000 + i)
    store.close()
    db = sqlite3.connect(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every page in the main file
    db.close()
    return path


def run_evse(root: Path) -> tuple[int, list[str]]:
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": f"unix:path={root}/no-bus"}
    done = subprocess.run(
        [str(EXE), "--root", str(root)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=RUN_TIMEOUT_S,
    )
    output = done.stdout + done.stderr
    assert "Traceback" not in output, output
    return done.returncode, output.splitlines()


def not_quiet(lines: list[str]) -> list[str]:
    return [line for line in lines if not any(level in line for level in QUIET_LEVELS)]


def header_overwritten(path: Path) -> None:
    with path.open("r+b") as f:
        f.write(b"this is no SQLite database at all".ljust(100, b"!"))


def page_damaged(path: Path) -> None:
    assert path.stat().st_size > 8 * PAGE
    with path.open("r+b") as f:
        f.seek(5 * PAGE)  # a b-tree page of the error history
        f.write(bytes(range(256)) * (PAGE // 256))


@pytest.mark.parametrize(
    ("damage", "said"),
    [(header_overwritten, "not a database"), (page_damaged, "quick_check")],
    ids=["header", "page"],
)
def test_a_corrupt_database_ends_the_unit_with_78_and_one_line(
    root: Path, damage: Callable[[Path], None], said: str
) -> None:
    path = make_database(root)
    damage(path)
    before = path.read_bytes()
    status, lines = run_evse(root)
    assert status == 78, lines
    (line,) = not_quiet(lines)
    assert "[CRIT]" in line and str(path) in line and "corrupt" in line and said in line, line
    assert path.read_bytes() == before  # left for someone to look at, not replaced


def test_a_locked_database_ends_the_unit_with_69_and_one_line(root: Path) -> None:
    path = make_database(root)
    # Another process takes the database's exclusive lock and holds it until told to go.
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            "db = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
            "db.execute('PRAGMA locking_mode = EXCLUSIVE')\n"
            "db.execute('BEGIN EXCLUSIVE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.read()\n",
            str(path),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
        status, lines = run_evse(root)
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(RUN_TIMEOUT_S)
    assert status == 69, lines
    (line,) = not_quiet(lines)
    assert "[CRIT]" in line and str(path) in line and "locked" in line, line
    reader = RecordReader.open_readonly(path)  # the history is all there once the lock is gone
    try:
        (tx,) = reader.last_transactions(10)
        assert tx.transaction_id == "tx-1" and tx.stop_reason == "EVDisconnected"
        assert len(reader.last_errors(1000)) == 300
    finally:
        reader.close()
