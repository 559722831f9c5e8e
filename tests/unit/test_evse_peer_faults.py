# SPDX-License-Identifier: Apache-2.0
"""The ccy-evse core when a peer fails (issue 15's fault suite, bugs 1-5 and 7 of its notes):
the V2G session's binder vanishing, the PLC lost while charging (the current unknown), the
MCU link lost (not an unplug) and returning with the vehicle plugged in, a stale isolation
status at the next cable check, a PLC reconnect during cable check; and session-log retention
run at every session start (the recorder, on a real folder)."""

import logging
import math
from pathlib import Path

from evse_core_kit import Kit

from ccy.evse.effects import (
    BspCall,
    Emit,
    RecordSessionStarted,
    StageMode,
    StageSelfTest,
    StageTarget,
)
from ccy.evse.recorder import Recorder
from ccy.evse.records import RecordStore
from ccy.evse.session_log import SessionLogs, list_folders
from ccy.runtime.errors import ErrorRegistry

LOG = logging.getLogger("test-evse-peer-faults")


def charging() -> Kit:
    kit = Kit(imd_self_test=False)
    kit.to_charging()
    kit.stage(PresentCurrent=25.0)
    kit.take()
    return kit


def finished(kit: Kit, signal: str) -> list[object]:
    return [e.args for e in kit.fx if isinstance(e, Emit) and e.name == signal]


# ---------------------------------------------------------------- bug 1: ccy-v2g vanishes
def test_v2g_vanishing_while_power_flows_withdraws_power_first() -> None:
    kit = charging()
    kit.call("end_v2g_session", "ccy-v2g vanished")  # what the glue calls on the owner loss
    fx = kit.take()
    assert fx[0] == StageMode("Off"), fx[:3]  # power withdrawn before anything else
    assert kit.state == "Faulted"
    assert kit.errors.is_active("VehicleLost")
    assert str(kit.core.state.notification) == "Terminate"
    tx = [e.args for e in fx if isinstance(e, Emit) and e.name == "TransactionFinished"]
    assert tx and tx[0][1] == "Fault", tx
    kit.stage(Mode="Off", PresentCurrent=0.5)  # the current falls: the contactor opens
    assert BspCall("AllowPowerOn", False) in kit.take()
    assert not kit.core._want_power


def test_v2g_vanishing_without_a_bound_session_changes_nothing() -> None:
    kit = Kit()
    kit.ready()
    kit.plug()
    kit.take()
    kit.call("end_v2g_session", "ccy-v2g vanished")
    assert kit.state == "WaitingForAuthentication"
    assert not kit.errors.is_active("VehicleLost") and not kit.take()


# ---------------------------------------------------------------- bug 7: PLC lost charging
def test_plc_lost_while_charging_opens_the_contactor_at_once() -> None:
    kit = charging()
    # ccy-profinet: PlcLost (Terminate) and the stage Off with an unknown current.
    kit.call("on_peer_errors", "ccy-profinet", [("PlcLost", "", "High")])
    fx = kit.take()
    assert StageMode("Off") in fx and BspCall("AllowPowerOn", False) not in fx  # 25 A shown
    kit.stage(Mode="Off", PresentCurrent=math.nan, PresentVoltage=math.nan)
    assert BspCall("AllowPowerOn", False) in kit.take()  # same input, no 2 s wait
    assert kit.state == "Faulted"


def test_plc_lost_with_the_stage_off_first_opens_in_the_stop_input() -> None:
    kit = charging()
    kit.stage(Mode="Off", PresentCurrent=math.nan)
    kit.take()
    kit.call("on_peer_errors", "ccy-profinet", [("PlcLost", "", "High")])
    fx = kit.take()
    assert BspCall("AllowPowerOn", False) in fx


def test_a_measured_current_is_still_waited_for_after_terminate() -> None:
    kit = charging()
    kit.call("on_peer_errors", "ccy-profinet", [("SupplyFault", "", "High")])
    kit.stage(Mode="Off")  # off, but 25 A still measured
    assert BspCall("AllowPowerOn", False) not in kit.take()
    kit.stage(PresentCurrent=1.0)
    assert BspCall("AllowPowerOn", False) in kit.take()


# ---------------------------------------------------------------- bug 3: link lost
def test_link_lost_is_a_fault_not_an_unplug() -> None:
    kit = charging()
    kit.bsp(LinkUp=False, IdState="Unknown", CeState="Unknown")
    fx = kit.take()
    assert fx[0] == StageMode("Off") or fx[0] == BspCall("AllowPowerOn", False), fx[:3]
    assert BspCall("AllowPowerOn", False) in fx
    tx = [e.args for e in fx if isinstance(e, Emit) and e.name == "TransactionFinished"]
    assert tx and tx[0][1] == "Fault", tx
    sessions = [e.args for e in fx if isinstance(e, Emit) and e.name == "SessionFinished"]
    assert sessions and sessions[0][1] == "Fault", sessions
    assert kit.state == "Idle" and kit.core.session is None


def test_link_lost_after_the_bsp_error_records_the_fault_once() -> None:
    kit = charging()
    kit.call("on_peer_errors", "ccy-bsp", [("LinkLost", "", "High")])
    kit.bsp(LinkUp=False, IdState="Unknown", CeState="Unknown")
    fx = kit.take()
    tx = [e.args[1] for e in fx if isinstance(e, Emit) and e.name == "TransactionFinished"]
    assert tx == ["Fault"]
    sessions = [e.args[1] for e in fx if isinstance(e, Emit) and e.name == "SessionFinished"]
    assert sessions == ["Fault"]


# ---------------------------------------------------------------- bug 2: link returns
def test_link_return_with_the_vehicle_plugged_in_starts_a_clean_session() -> None:
    kit = Kit()
    kit.ready()
    first = kit.plug()
    kit.bsp(LinkUp=False, IdState="Unknown", CeState="Unknown")
    kit.call("on_peer_errors", "ccy-bsp", [("LinkLost", "", "High")])
    assert kit.core.session is None
    # ccy-bsp's one input: Bsp1 first, its Errors1 (LinkLost cleared) 3 ms later.
    kit.bsp(LinkUp=True, IdState="Connected", CeState="B")
    assert kit.core.session is None  # waits for ccy-bsp's Errors1
    kit.now += 0.003
    kit.call("on_peer_errors", "ccy-bsp", [])
    assert kit.state == "WaitingForAuthentication"
    assert kit.core.state.session_id not in ("", first)


def test_link_return_with_the_error_still_active_faults_after_the_bound() -> None:
    kit = Kit()
    kit.ready()
    kit.plug()
    kit.bsp(LinkUp=False, IdState="Unknown", CeState="Unknown")
    kit.call("on_peer_errors", "ccy-bsp", [("LinkLost", "", "High")])
    kit.bsp(LinkUp=True, IdState="Connected", CeState="B")
    kit.call("on_peer_errors", "ccy-bsp", [("LinkLost", "", "High")])  # still there
    assert kit.state == "Faulted"


def test_link_return_without_a_stopping_error_starts_at_once() -> None:
    kit = Kit()
    kit.ready()
    kit.bsp(LinkUp=False, IdState="Unknown", CeState="Unknown")
    kit.bsp(LinkUp=True, IdState="Connected", CeState="B")
    assert kit.state == "WaitingForAuthentication"


def test_link_return_waits_at_most_the_bound() -> None:
    kit = Kit()
    kit.ready()
    kit.bsp(LinkUp=False, IdState="Unknown", CeState="Unknown")
    kit.call("on_peer_errors", "ccy-bsp", [("LinkLost", "", "High")])
    kit.bsp(LinkUp=True, IdState="Connected", CeState="B")
    assert kit.core.session is None
    kit.at(1.0)  # no Errors1 update came: start (and stop for the error still shown)
    assert kit.state == "Faulted"


# ---------------------------------------------------------------- bug 4: stale isolation
def cable_check_started(kit: Kit) -> None:
    kit.ready()
    kit.plug()
    kit.bind()
    kit.authorize()
    kit.parameters()
    kit.bsp(CeState="C")


def test_cable_check_answers_invalid_until_its_own_measurement() -> None:
    kit = Kit(imd_self_test=False)
    kit.ready()
    kit.stage(IsolationStatus="Fault", IsolationResistance=1000.0)  # the last session's
    kit.stage(IsolationStatus="Fault")
    kit.plug()
    kit.bind()
    kit.authorize()
    kit.parameters()
    kit.bsp(CeState="C")
    assert kit.call("cable_check") == ("Ongoing", "Invalid", "None")
    kit.obey_bsp()
    kit.at(0.1)
    assert kit.call("cable_check")[1] == "Invalid"
    kit.stage(Mode="CableCheck")
    kit.stage(IsolationStatus="Valid", IsolationResistance=1e7)
    kit.stage(PresentVoltage=800.0)
    assert kit.call("cable_check")[1] == "Valid"
    kit.stage(PresentVoltage=40.0)
    assert kit.call("cable_check") == ("Finished", "Valid", "None")


def test_a_fault_measured_in_this_check_is_answered() -> None:
    kit = Kit(imd_self_test=False)
    cable_check_started(kit)
    kit.call("cable_check")
    kit.obey_bsp()
    kit.at(0.1)
    kit.call("cable_check")
    kit.stage(Mode="CableCheck", PresentVoltage=800.0)
    kit.stage(IsolationStatus="Fault", IsolationResistance=1000.0)
    assert kit.call("cable_check") == ("Finished", "Fault", "EmergencyShutdown")


# ---------------------------------------------------------------- bug 5: PLC reconnect
def test_plc_reconnect_during_cable_check_restarts_it() -> None:
    kit = Kit(imd_self_test=False)
    cable_check_started(kit)
    kit.call("cable_check")
    kit.obey_bsp()
    kit.at(0.1)
    kit.call("cable_check")
    kit.stage(Mode="CableCheck", PresentVoltage=500.0)  # ramping up
    kit.take()
    # the PLC lost: stage Off, SupplyReady false, PlcReconnecting (KeepsPower)
    kit.call("on_peer_errors", "ccy-profinet", [("PlcReconnecting", "", "Medium")])
    kit.stage(Mode="Off", SupplyReady=False, PresentVoltage=math.nan, PresentCurrent=math.nan)
    kit.at(0.5)
    assert kit.state == "PrepareCharging"
    assert StageMode("CableCheck") not in kit.take()
    # back: PlcReconnecting cleared, SupplyReady, the measurement forgotten
    kit.call("on_peer_errors", "ccy-profinet", [])
    kit.stage(SupplyReady=True, PresentVoltage=0.0, PresentCurrent=0.0, IsolationStatus="Invalid")
    kit.at(0.1)  # the contactor is still closed: contactor_close_time, then the ramp
    fx = kit.take()
    assert StageMode("CableCheck") in fx, fx
    assert any(isinstance(e, StageTarget) and e.voltage == 800.0 for e in fx), fx
    kit.stage(Mode="CableCheck", PresentVoltage=800.0)
    kit.stage(IsolationStatus="Valid", IsolationResistance=1e7)
    kit.stage(PresentVoltage=40.0)
    assert kit.call("cable_check") == ("Finished", "Valid", "None")


def test_plc_reconnecting_outside_cable_check_does_not_restart() -> None:
    kit = charging()
    kit.call("on_peer_errors", "ccy-profinet", [("PlcReconnecting", "", "Medium")])
    kit.call("on_peer_errors", "ccy-profinet", [])
    kit.at(0.2)
    assert StageMode("CableCheck") not in kit.take()
    assert kit.state == "Charging"


# ---------------------------------------------------------------- session-log retention
def test_session_start_enforces_session_log_retention(tmp_path: Path) -> None:
    store = RecordStore.open(tmp_path / "evse.db", 1_755_000_000_000_000)
    logs = SessionLogs(tmp_path / "sessions", 3, 10_000_000)
    recorder = Recorder(store, logs, ErrorRegistry(LOG), LOG)
    try:
        names = []
        for i in range(5):
            at = 1_755_000_000_000_000 + i * 2_000_000
            recorder.apply(RecordSessionStarted(f"session-{i}", at))
            assert recorder.folder is not None
            names.append(recorder.folder.folder_name)
        kept = [f.name for f in list_folders(tmp_path / "sessions")]
        assert len(kept) == 3, kept
        assert names[-1] in kept and names[0] not in kept and names[1] not in kept
    finally:
        store.close()


# ------------------------------------------- a failed IMD self-test does not hold the port
def _plugged_with_stage_error(error: str) -> Kit:
    """The stage's error raised during a session (so ccy-evse mirrors it as PowerStageFault),
    that session unplugged, the error still active, and the next vehicle plugged in."""
    kit = Kit()  # imd_self_test on: every cable check begins with the IMD self-test
    kit.ready()
    kit.at(0.5)
    kit.plug(hlc_after=0.5)
    kit.call("on_peer_errors", "ccy-profinet", [(error, "", "High")])
    assert kit.errors.is_active("PowerStageFault", error)
    kit.bsp(IdState="NotConnected", CeState="A")
    kit.stage(Mode="Off", PresentCurrent=0.0, PresentVoltage=0.0)
    kit.obey_bsp()
    kit.at(5.0)
    kit.plug(hlc_after=0.5)
    kit.take()
    return kit


def test_a_failed_self_test_still_active_lets_the_next_session_test_again() -> None:
    # PowerStage1 keeps SelfTestFailed until the next StartSelfTest, and only a session's
    # cable check asks for one: blocking the session on it would hold the port for good.
    kit = _plugged_with_stage_error("SelfTestFailed")
    assert kit.state == "WaitingForAuthentication"
    kit.bind()
    kit.authorize()
    kit.parameters()
    kit.call("schedule", "Dynamic", math.nan)
    kit.bsp(CeState="C")
    kit.call("cable_check")
    kit.obey_bsp()
    kit.at(0.1)
    kit.call("cable_check")
    kit.stage(Mode="CableCheck", TargetVoltage=800.0, TargetCurrent=10.0)
    kit.at(0.3)
    kit.stage(PresentVoltage=800.0)
    assert any(isinstance(e, StageSelfTest) for e in kit.take())


def test_an_isolation_fault_still_active_stops_the_next_session_at_once() -> None:
    kit = _plugged_with_stage_error("IsolationFault")
    assert kit.state == "Faulted"
