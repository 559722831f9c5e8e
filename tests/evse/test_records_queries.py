# SPDX-License-Identifier: Apache-2.0
"""Writes and queries of the records database: transactions (energy unknown is None, not 0),
the error history of every unit, sessions and the key-value store."""

import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ccy.evse.records import (
    DuplicateTransaction,
    ErrorRecord,
    RecordStore,
    TransactionRecord,
    UnknownTransaction,
)

T0 = 1_764_680_000_000_000
TOKEN = "[redacted] hash: 0123456789abcde"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[RecordStore]:
    s = RecordStore.open(tmp_path / "evse.db", T0)
    yield s
    s.close()


def test_a_metered_transaction_records_its_energy(store: RecordStore) -> None:
    store.start_transaction("tx-1", "s-1", TOKEN, T0, 1000.0)
    open_tx = store.transaction("tx-1")
    assert open_tx is not None and open_tx.open and open_tx.energy_Wh is None
    store.stop_transaction("tx-1", T0 + 60_000_000, "EVStopped", 1042.25)
    tx = store.transaction("tx-1")
    assert tx is not None and not tx.open
    assert (tx.token_hash, tx.stop_reason, tx.meter_stop_Wh, tx.energy_Wh) == (
        TOKEN,
        "EVStopped",
        1042.25,
        42.25,
    )


@pytest.mark.parametrize(("start", "stop"), [(None, None), (10.0, None), (None, 12.0)])
def test_energy_without_both_meter_values_is_unknown_not_zero(
    store: RecordStore, start: float | None, stop: float | None
) -> None:
    store.start_transaction("tx", "s", TOKEN, T0, start)
    store.stop_transaction("tx", T0 + 1, "Local", stop)
    tx = store.transaction("tx")
    assert tx is not None and tx.energy_Wh is None
    db = sqlite3.connect(store.path)
    assert db.execute("SELECT energy_Wh IS NULL FROM transactions").fetchone()[0] == 1
    db.close()


@pytest.mark.parametrize(("at_start", "at_stop"), [(True, True), (False, True), (None, False)])
def test_the_clock_state_is_recorded_at_start_and_stop(
    store: RecordStore, at_start: bool | None, at_stop: bool
) -> None:
    store.start_transaction("tx", "s", TOKEN, T0, 1.0, clock_synchronized=at_start)
    opened = store.transaction("tx")
    assert opened is not None and opened.clock_synchronized_start is at_start
    assert opened.clock_synchronized_stop is None
    store.stop_transaction("tx", T0 + 1, "Local", 2.0, clock_synchronized=at_stop)
    tx = store.transaction("tx")
    assert tx is not None
    assert (tx.clock_synchronized_start, tx.clock_synchronized_stop) == (at_start, at_stop)
    db = sqlite3.connect(store.path)
    row = db.execute(
        "SELECT clock_synchronized_start, clock_synchronized_stop FROM transactions"
    ).fetchone()
    assert row == (None if at_start is None else int(at_start), int(at_stop))


def test_zero_energy_is_kept_as_zero(store: RecordStore) -> None:
    store.start_transaction("tx", "s", TOKEN, T0, 5.0)
    store.stop_transaction("tx", T0 + 1, "Local", 5.0)
    tx = store.transaction("tx")
    assert tx is not None and tx.energy_Wh == 0.0


def test_transaction_misuse_is_named_and_changes_nothing(store: RecordStore) -> None:
    with pytest.raises(UnknownTransaction, match="tx-x"):
        store.stop_transaction("tx-x", T0, "Local", None)
    store.start_transaction("tx", "s", TOKEN, T0, None)
    with pytest.raises(DuplicateTransaction, match="tx"):
        store.start_transaction("tx", "s2", TOKEN, T0 + 5, None)
    store.stop_transaction("tx", T0 + 1, "Local", None)
    with pytest.raises(UnknownTransaction):
        store.stop_transaction("tx", T0 + 2, "Remote", None)  # stopped already
    tx = store.transaction("tx")
    assert tx is not None and (tx.session_id, tx.stop_reason) == ("s", "Local")
    assert store.health().pending == 0


def test_last_transactions_newest_first(store: RecordStore) -> None:
    for i in range(12):
        store.start_transaction(f"tx-{i:02}", f"s-{i}", TOKEN, T0 + i, None)
    assert [t.transaction_id for t in store.last_transactions(3)] == ["tx-11", "tx-10", "tx-09"]
    assert len(store.last_transactions(100)) == 12
    assert [t.transaction_id for t in store.transactions_of_session("s-4")] == ["tx-04"]
    with pytest.raises(ValueError):
        store.last_transactions(-1)


def test_error_raise_and_clear_per_unit(store: RecordStore) -> None:
    store.error_raised("ccy-bsp", "EmergencyStop", "EmergencyInput", "High", "opened", T0)
    store.error_raised("ccy-profinet", "LeaseExpired", "", "Medium", "no setpoint", T0 + 1)
    store.error_raised("ccy-bsp", "EmergencyStop", "EmergencyInput", "High", "opened", T0)
    store.error_cleared("ccy-bsp", "EmergencyStop", "EmergencyInput", T0 + 10)
    store.error_cleared("ccy-bsp", "EmergencyStop", "EmergencyInput", T0 + 20)  # no-op
    assert store.last_errors(10) == [
        ErrorRecord("ccy-profinet", "LeaseExpired", "", "Medium", "no setpoint", T0 + 1, None),
        ErrorRecord("ccy-bsp", "EmergencyStop", "EmergencyInput", "High", "opened", T0, T0 + 10),
    ]
    store.error_raised("ccy-bsp", "EmergencyStop", "EmergencyInput", "High", "again", T0 + 30)
    assert [(e.message, e.cleared_us) for e in store.errors_since(T0 + 2)] == [("again", None)]


def test_a_raise_without_a_seen_clear_ends_the_previous_row(store: RecordStore) -> None:
    store.error_raised("ccy-bsp", "LinkLost", "", "High", "first", T0)
    store.error_raised("ccy-bsp", "LinkLost", "", "High", "second", T0 + 5)
    rows = store.errors_since(0)
    assert [(e.message, e.cleared_us) for e in rows] == [("first", T0 + 5), ("second", None)]


def test_sync_active_errors_reconciles_one_unit(store: RecordStore) -> None:
    store.error_raised("ccy-bsp", "LinkLost", "", "High", "lost", T0)
    store.error_raised("ccy-bsp", "McuWarning", "7", "Low", "warn", T0 + 1)
    store.error_raised("ccy-profinet", "LeaseExpired", "", "Medium", "m", T0 + 2)
    # ccy-bsp came back: LinkLost is gone, McuWarning still active, a new one appeared
    store.sync_active_errors(
        "ccy-bsp",
        [
            ("McuWarning", "7", "Low", "warn", T0 + 1),
            ("TemperatureWarning", "aux1", "Low", "t", T0 + 3),
        ],
        T0 + 100,
    )
    by_type = {e.type: e for e in store.errors_since(0)}
    assert len(by_type) == 4
    assert by_type["LinkLost"].cleared_us == T0 + 100
    assert by_type["McuWarning"].cleared_us is None
    assert by_type["TemperatureWarning"].cleared_us is None
    assert by_type["LeaseExpired"].cleared_us is None  # another unit: untouched
    store.sync_active_errors("ccy-bsp", (), T0 + 200)  # it vanished
    assert all(e.cleared_us is not None for e in store.errors_since(0) if e.unit == "ccy-bsp")
    assert len(store.errors_since(0)) == 4


def test_errors_since_and_last_errors_on_10000_rows_use_the_index(store: RecordStore) -> None:
    for i in range(10_000):
        store.error_raised("ccy-bsp", "McuWarning", str(i % 50), "Low", f"w{i}", T0 + i)
    assert store.error_count() == 10_000
    last = store.last_errors(100)
    assert [e.raised_us for e in last] == [T0 + i for i in range(9_999, 9_899, -1)]
    since = store.errors_since(T0 + 9_990)
    assert [e.message for e in since] == [f"w{i}" for i in range(9_990, 10_000)]
    assert len(store.errors_since(T0 + 5_000, limit=7)) == 7
    db = sqlite3.connect(store.path)
    for sql in (
        "SELECT * FROM error_history WHERE raised_us >= 1 ORDER BY raised_us, id LIMIT 5",
        "SELECT * FROM error_history ORDER BY raised_us DESC, id DESC LIMIT 100",
    ):
        plan = " ".join(str(row) for row in db.execute(f"EXPLAIN QUERY PLAN {sql}"))
        assert "error_history_raised" in plan, plan
    db.close()


def test_errors_between_lists_what_was_active_during_a_session(store: RecordStore) -> None:
    store.error_raised("ccy-bsp", "Before", "", "Low", "", T0 - 100)
    store.error_cleared("ccy-bsp", "Before", "", T0 - 50)
    store.error_raised("ccy-bsp", "Spanning", "", "Low", "", T0 - 10)
    store.error_raised("ccy-bsp", "During", "", "High", "", T0 + 10)
    store.error_cleared("ccy-bsp", "During", "", T0 + 20)
    store.error_raised("ccy-bsp", "After", "", "Low", "", T0 + 1000)
    assert [e.type for e in store.errors_between(T0, T0 + 100)] == ["Spanning", "During"]
    assert [e.type for e in store.errors_between(T0, None)] == ["Spanning", "During", "After"]


def test_error_history_is_pruned_to_its_limit_on_open(tmp_path: Path) -> None:
    path = tmp_path / "evse.db"
    store = RecordStore.open(path, T0)
    for i in range(50):
        store.error_raised("ccy-bsp", "E", str(i), "Low", "", T0 + i)
    store.close()
    store = RecordStore.open(path, T0, max_error_rows=20)
    assert store.error_count() == 20
    assert store.last_errors(1)[0].subtype == "49"
    assert min(e.raised_us for e in store.errors_since(0)) == T0 + 30
    store.close()


def test_sessions_newest_first_with_their_folders(store: RecordStore) -> None:
    store.session_started("s-1", T0, "20251202T000000Z-s-1")
    store.session_started("s-2", T0 + 10, None)
    store.session_finished("s-1", T0 + 5, "EVDisconnected")
    store.session_finished("s-1", T0 + 9, "Fault")  # finished once only
    sessions = store.sessions()
    assert [s.session_id for s in sessions] == ["s-2", "s-1"]
    assert (sessions[1].end_us, sessions[1].reason, sessions[1].folder) == (
        T0 + 5,
        "EVDisconnected",
        "20251202T000000Z-s-1",
    )
    assert store.sessions(limit=1)[0].session_id == "s-2"
    assert store.session("s-3") is None


def test_key_value_store(store: RecordStore) -> None:
    assert store.get("enabled") is None
    store.put("enabled", "false")
    store.put("enabled", "true")
    assert store.get("enabled") == "true"
    store.delete("enabled")
    assert store.get("enabled") is None


def test_writes_are_durable_across_reopen(tmp_path: Path) -> None:
    path = tmp_path / "evse.db"
    store = RecordStore.open(path, T0)
    store.put("enabled", "false")
    store.error_raised("ccy-evse", "BspLost", "", "High", "gone", T0)
    store.close()
    again = RecordStore.open(path, T0)
    assert again.get("enabled") == "false"
    assert [e.type for e in again.last_errors(5)] == ["BspLost"]
    again.close()


def test_last_errors_since_newest_first(store: RecordStore) -> None:
    for i in range(10):
        store.error_raised("ccy-bsp", "E", str(i), "Low", "", T0 + i)
    assert [e.subtype for e in store.last_errors(3, since_us=T0 + 5)] == ["9", "8", "7"]
    assert [e.subtype for e in store.last_errors(10, since_us=T0 + 8)] == ["9", "8"]


def test_bus_structs_carry_unknown_as_nan_and_back(store: RecordStore) -> None:
    store.start_transaction("tx-open", "s", TOKEN, T0, None)
    store.start_transaction("tx-done", "s", TOKEN, T0 + 1, 1.5)
    store.stop_transaction("tx-done", T0 + 2_500_000, "EVStopped", 4.0)
    store.error_raised("ccy-bsp", "LinkLost", "", "High", "lost", T0)
    open_tx, done = store.transaction("tx-open"), store.transaction("tx-done")
    assert open_tx is not None and done is not None
    struct = open_tx.as_struct()
    assert struct[:4] == ["tx-open", "s", TOKEN, T0 / 1e6] and struct[5] == ""
    assert math.isnan(struct[4]) and math.isnan(struct[6])  # type: ignore[arg-type]
    assert done.as_struct()[4:] == [(T0 + 2_500_000) / 1e6, "EVStopped", 2.5]
    back = TransactionRecord.from_struct(struct)
    assert (back.stop_us, back.stop_reason, back.energy_Wh, back.start_us) == (None, None, None, T0)
    again = TransactionRecord.from_struct(done.as_struct())
    assert (again.stop_us, again.stop_reason, again.energy_Wh) == (T0 + 2_500_000, "EVStopped", 2.5)
    (error,) = store.last_errors(1)
    assert ErrorRecord.from_struct(error.as_struct()) == error
