# SPDX-License-Identifier: Apache-2.0
# mypy: disable-error-code="func-returns-value"
"""Every stop path of the ccy-evse core, table-driven: which error or event, how power is
withdrawn (EmergencyShutdown: stage Off and contactor open in the same input; Terminate: stage
Off, contactor once the current is low), the state, the notification and the transaction."""

import math
from collections.abc import Callable

import pytest
from evse_core_kit import Kit

from ccy.evse.effects import BspCall, Emit, Refused, StageMode


def charging() -> Kit:
    kit = Kit(imd_self_test=False)
    kit.to_charging()
    kit.stage(PresentCurrent=25.0)
    kit.take()
    return kit


STOPS: list[tuple[str, Callable[[Kit], object], str, str, str]] = [
    # (case, drive, state, notification, transaction reason or "" while still open)
    (
        "bsp E-stop",
        lambda k: k.call(
            "on_peer_errors", "ccy-bsp", [("EmergencyStop", "EmergencyInput", "High")]
        ),
        "Faulted",
        "EmergencyShutdown",
        "EmergencyStop",
    ),
    (
        "bsp E-stop property",
        lambda k: k.bsp(EmergencyStop="EmergencyInput"),
        "Faulted",
        "EmergencyShutdown",
        "EmergencyStop",
    ),
    (
        "bsp link lost",
        lambda k: k.call("on_peer_errors", "ccy-bsp", [("LinkLost", "", "High")]),
        "Faulted",
        "EmergencyShutdown",
        "Fault",
    ),
    (
        "stage isolation fault",
        lambda k: k.call("on_peer_errors", "ccy-profinet", [("IsolationFault", "", "High")]),
        "Faulted",
        "EmergencyShutdown",
        "Fault",
    ),
    (
        "stage supply fault",
        lambda k: k.call("on_peer_errors", "ccy-profinet", [("SupplyFault", "", "High")]),
        "Faulted",
        "Terminate",
        "Fault",
    ),
    (
        "stage lease expired",
        lambda k: k.call("on_peer_errors", "ccy-profinet", [("LeaseExpired", "", "High")]),
        "Faulted",
        "Terminate",
        "Fault",
    ),
    (
        "unknown High error of a known unit",
        lambda k: k.call("on_peer_errors", "ccy-bsp", [("SomethingNew", "", "High")]),
        "Faulted",
        "Terminate",
        "Fault",
    ),
    (
        "bsp vanished",
        lambda k: k.call("on_bsp_presence", False),
        "Faulted",
        "EmergencyShutdown",
        "Fault",
    ),
    (
        "stage vanished",
        lambda k: k.call("on_stage_presence", False),
        "Faulted",
        "EmergencyShutdown",
        "Fault",
    ),
    (
        "V2G ended while charging",
        lambda k: k.call("end_v2g_session", "TCP closed"),
        "Faulted",
        "Terminate",
        "Fault",
    ),
    (
        "operator stop",
        lambda k: k.call("stop_transaction", "Local"),
        "StoppingCharging",
        "Terminate",
        "Local",
    ),
    (
        "master pass",
        lambda k: k.call("stop_transaction", "MasterPass"),
        "StoppingCharging",
        "Terminate",
        "MasterPass",
    ),
    (
        "deauthorized",
        lambda k: k.call("deauthorize", k.core.state.session_id, "Expired"),
        "StoppingCharging",
        "Terminate",
        "DeAuthorized",
    ),
    ("disabled", lambda k: k.call("enable", False), "Disabled", "Terminate", "Local"),
    (
        "EV PowerDelivery Stop",
        lambda k: k.call("power_delivery", "Stop"),
        "StoppingCharging",
        "None",
        "",
    ),
    (
        "EV SessionStop without PowerDelivery",
        lambda k: k.call("session_stop", "Terminate"),
        "Finished",
        "Terminate",
        "",
    ),
    ("CE C->B", lambda k: k.bsp(CeState="B"), "ChargingPausedEV", "None", ""),
    (
        "unplugged",
        lambda k: k.bsp(IdState="NotConnected", CeState="A"),
        "Idle",
        "None",
        "EVDisconnected",
    ),
]


@pytest.mark.parametrize(("case", "drive", "state", "note", "tx"), STOPS, ids=[s[0] for s in STOPS])
def test_stop_path(
    case: str, drive: Callable[[Kit], object], state: str, note: str, tx: str
) -> None:
    kit = charging()
    drive(kit)
    fx = kit.take()
    assert kit.state == state
    assert str(kit.core.state.notification) == note
    assert StageMode("Off") in fx, "power stage Off"
    off = fx.index(StageMode("Off"))
    signals = [i for i, e in enumerate(fx) if isinstance(e, Emit)]
    assert all(off < i for i in signals), "power withdrawn before anything is said"
    finished = [e.args[1] for e in fx if isinstance(e, Emit) and e.name == "TransactionFinished"]
    assert finished == ([tx] if tx else [])
    emergency = note == "EmergencyShutdown" or case in ("CE C->B", "unplugged", "disabled")
    if emergency and case not in ("bsp vanished",):
        assert BspCall("AllowPowerOn", False) in fx, "contactor opened in the same input"
        assert fx.index(BspCall("AllowPowerOn", False)) < off or off == 0
    if note == "Terminate" and case not in ("EV SessionStop without PowerDelivery", "disabled"):
        assert BspCall("AllowPowerOn", False) not in fx, "not opened under load"
        kit.stage(PresentCurrent=0.5)
        assert BspCall("AllowPowerOn", False) in kit.take()


def test_latching_error_clears_only_at_next_plug_in() -> None:
    kit = charging()
    kit.call("on_peer_errors", "ccy-profinet", [("IsolationFault", "", "High")])
    assert kit.state == "Faulted"
    kit.call("on_peer_errors", "ccy-profinet", [])  # the stage cleared it
    assert kit.state == "Faulted"  # lasts until unplug
    assert kit.call("charge_loop", 810.0, 100.0, *[math.nan] * 5)[-1] == "EmergencyShutdown"
    kit.bsp(IdState="NotConnected", CeState="A")
    assert kit.state == "Idle"
    assert ("ccy-profinet", "IsolationFault", "") in kit.core._latched
    kit.plug()
    assert kit.state == "WaitingForAuthentication"
    assert not kit.core._latched


def test_error_still_active_at_plug_in_faults_the_new_session() -> None:
    kit = Kit()
    kit.ready()
    kit.call("on_peer_errors", "ccy-bsp", [("TemperatureStopped", "dc_plus", "High")])
    kit.plug()
    assert kit.state == "Faulted"
    kit.call("on_peer_errors", "ccy-bsp", [])
    kit.bsp(IdState="NotConnected", CeState="A")
    kit.plug()
    assert kit.state == "WaitingForAuthentication"  # it cleared by itself


def test_keeps_power_errors_do_not_stop() -> None:
    kit = charging()
    kit.call("on_peer_errors", "ccy-profinet", [("IsolationWarning", "", "Low")])
    kit.call("on_peer_errors", "ccy-bsp", [("TemperatureWarning", "aux1", "Low")])
    assert kit.state == "Charging"
    assert StageMode("Off") not in kit.take()


def test_cable_check_isolation_fault_and_timeout() -> None:
    kit = Kit(imd_self_test=False)
    kit.ready()
    kit.plug()
    kit.bind()
    kit.authorize()
    kit.parameters()
    kit.bsp(CeState="C")
    kit.call("cable_check")
    kit.obey_bsp()
    kit.at(0.2)
    kit.stage(Mode="CableCheck", PresentVoltage=800.0)
    kit.stage(IsolationResistance=50_000.0, IsolationStatus="Valid")  # 62 ohm/V < 100
    assert kit.state == "Faulted"
    assert kit.errors.is_active("CableCheckFailed", "Isolation")
    assert kit.call("cable_check") == ("Finished", "Valid", "EmergencyShutdown")
    kit2 = Kit(imd_self_test=False)
    kit2.ready()
    kit2.plug()
    kit2.bind()
    kit2.authorize()
    kit2.parameters()
    kit2.bsp(CeState="C")
    kit2.call("cable_check")
    kit2.at(31.0)
    assert kit2.errors.is_active("CableCheckFailed", "Timeout")


def test_precharge_timeout_and_welding() -> None:
    kit = Kit(imd_self_test=False)
    kit.ready()
    kit.plug()
    kit.bind()
    kit.authorize()
    kit.parameters()
    kit.cable_check()
    kit.call("pre_charge", 850.0, 2.0)
    kit.at(11.0)
    assert kit.errors.is_active("PreChargeFailed") and kit.state == "Faulted"
    kit = charging()
    kit.call("power_delivery", "Stop")
    kit.stage(PresentCurrent=0.0, PresentVoltage=700.0)
    kit.at(6.0)
    assert kit.errors.is_active("WeldingDetected") and kit.state == "Faulted"


OUT_OF_SEQUENCE: list[tuple[str, Callable[[Kit], object], str]] = [
    ("CableCheck before auth", lambda k: k.call("cable_check"), "NotPermitted"),
    ("PreCharge before cable check", lambda k: k.call("pre_charge", 400.0, 1.0), "NotPermitted"),
    (
        "ChargeLoop before PowerDelivery",
        lambda k: k.call("charge_loop", *[math.nan] * 7),
        "NotPermitted",
    ),
    ("WeldingDetection before stop", lambda k: k.call("welding_detection"), "NotPermitted"),
    ("PowerDelivery Start early", lambda k: k.call("power_delivery", "Start"), "NotPermitted"),
    ("Pause when not charging", lambda k: k.call("pause"), "NotPermitted"),
    ("Resume when not paused", lambda k: k.call("resume"), "NotPermitted"),
    ("StopTransaction without one", lambda k: k.call("stop_transaction", "Local"), "NotPermitted"),
    ("Authorize other session", lambda k: k.call("authorize", "nope", "t", "RFID"), "NotPermitted"),
    (
        "unknown token type",
        lambda k: k.call("authorize", k.core.state.session_id, "t", "Card"),
        "InvalidArgument",
    ),
    ("bad progress", lambda k: k.call("power_delivery", "Go"), "InvalidArgument"),
    (
        "negative EV max",
        lambda k: (
            k.authorize(),
            k.call("charge_parameters", -1.0, math.nan, 10.0, math.nan, 1e4, math.nan),
        ),
        "InvalidArgument",
    ),
    (
        "min above max",
        lambda k: (
            k.authorize(),
            k.call("charge_parameters", 500.0, 600.0, 10.0, math.nan, 1e4, math.nan),
        ),
        "InvalidArgument",
    ),
    (
        "external power 0",
        lambda k: k.call("set_external_limits", 0.0, math.nan, 10.0),
        "InvalidArgument",
    ),
    (
        "external validity",
        lambda k: k.call("set_external_limits", 1e4, math.nan, 1e6),
        "InvalidArgument",
    ),
    ("reservation in the past", lambda k: k.call("set_reservation", "r1", 1.0), "InvalidArgument"),
]


@pytest.mark.parametrize(
    ("case", "drive", "kind"), OUT_OF_SEQUENCE, ids=[c[0] for c in OUT_OF_SEQUENCE]
)
def test_refused_and_nothing_changes(case: str, drive: Callable[[Kit], object], kind: str) -> None:
    kit = Kit()
    kit.ready()
    kit.plug()
    kit.bind()
    kit.take()
    before = (kit.state, kit.core.state.authorized, kit.core.state.transaction_id)
    with pytest.raises(Refused) as info:
        drive(kit)
    assert info.value.kind == kind
    if kind == "NotPermitted" and "auth" not in case:
        assert "state" in str(info.value) or "session" in str(info.value)
    if case.startswith(("negative", "min above")):
        assert "ev_" in str(info.value)  # names the limit
        before = (
            before[0].replace("WaitingForAuthentication", "PrepareCharging"),
            True,
            kit.core.state.transaction_id,
        )
    assert (kit.state, kit.core.state.authorized, kit.core.state.transaction_id) == before
    assert not [e for e in kit.take() if isinstance(e, StageMode | BspCall)]


def test_bind_needs_peers_and_a_vehicle() -> None:
    kit = Kit()
    kit.ready()
    with pytest.raises(Refused, match="Idle"):
        kit.bind()
    kit.plug()
    kit.call("on_stage_presence", False)
    with pytest.raises(Refused) as info:
        kit.bind()
    assert info.value.kind in ("NotReady", "NotPermitted")


def test_pause_resume_and_ev_standby() -> None:
    kit = charging()
    kit.call("pause")
    assert kit.state == "ChargingPausedEVSE" and kit.core.state.notification == "Pause"
    result = kit.call("charge_loop", 850.0, 100.0, *[math.nan] * 5)
    assert result[-1] == "Pause" and kit.core.state.target_current == 0.0
    kit.call("resume")
    assert kit.state == "Charging"
    kit.call("power_delivery", "Standby")
    assert kit.state == "ChargingPausedEV"
    kit.call("power_delivery", "Start")
    assert kit.state == "Charging"


def test_reservation_shows_and_expires() -> None:
    kit = Kit()
    kit.ready()
    wall = kit.now + kit.core.wall_offset
    kit.call("set_reservation", "r-7", wall + 30)
    assert kit.state == "Reserved" and kit.core.state.reservation_id == "r-7"
    kit.at(31)
    assert kit.state == "Idle" and kit.core.state.reservation_id == ""


def test_waiting_for_and_bsp_reconciled_after_owner_change() -> None:
    kit = Kit()
    assert kit.core.state.waiting_for == ("org.ccy.Bsp", "org.ccy.Profinet")
    kit.ready()
    assert ("SetCcsReady", "Ready") in kit.bsp_done and ("Enable", True) in kit.bsp_done
    kit.bsp(CcsReady="NotReady")  # ccy-bsp dropped it (new owner of org.ccy.Evse)
    assert BspCall("SetCcsReady", "Ready") in kit.take()
