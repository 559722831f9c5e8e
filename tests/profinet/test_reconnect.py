# SPDX-License-Identifier: Apache-2.0
"""A PLC that reconnects during a session (ccy.profinet.reconnect and the PLC-driven stage).

Both ways of the issue: lost before current flows → PlcReconnecting, back within the grace
time → resume from a new cable check; lost while charging → PlcLost at once, Off, no resume.
On a fake clock: every input names its time.
"""

import math

import pytest

from ccy.profinet.contract import PLC_LOST, PLC_RECONNECTING, IsolationStatus, Mode
from ccy.profinet.io_layout import IsolationCode, PlcStatus, PlcToCharger, StageMode
from ccy.profinet.power_stage_plc import PlcPowerStage, PlcStageConfig
from ccy.profinet.reconnect import Phase, Reconnect, Verdict
from ccy.profinet.stage.model import Refused

GRACE_S = 5.0
READY = PlcStatus.SUPPLY_READY | PlcStatus.IMD_INSTALLED


def data(
    voltage: float = 0.0,
    current: float = 0.0,
    isolation: IsolationCode = IsolationCode.INVALID,
    status: PlcStatus = READY,
) -> PlcToCharger:
    return PlcToCharger(
        status=status,
        isolation_status=isolation,
        stage_mode=StageMode.OFF,
        present_voltage=voltage,
        present_current=current,
        isolation_ohm=5e6 if isolation is not IsolationCode.INVALID else math.nan,
        max_voltage=1250.0,
        min_voltage=50.0,
        max_current=3000.0,
        min_current=10.0,
        max_power=3.75e6,
        meter_energy=1000,
    )


# ---------------------------------------------------------------- the policy alone
def test_before_the_first_connect_a_loss_means_nothing() -> None:
    r = Reconnect(GRACE_S, 1.0)
    assert r.lost(0.0, Mode.OFF, 0.0) is Verdict.NONE
    assert r.back(1.0) is Verdict.FIRST and r.phase is Phase.CONNECTED


@pytest.mark.parametrize("mode", [Mode.OFF, Mode.CABLE_CHECK, Mode.PRE_CHARGE])
def test_lost_before_current_flows_waits_then_resumes(mode: Mode) -> None:
    r = Reconnect(GRACE_S, 1.0)
    r.back(0.0)
    assert r.lost(1.0, mode, 0.5) is Verdict.WAIT
    assert r.tick(1.0 + GRACE_S - 0.01) is Verdict.NONE
    assert r.back(1.0 + GRACE_S - 0.01) is Verdict.RESUME


def test_the_grace_time_runs_out() -> None:
    r = Reconnect(GRACE_S, 1.0)
    r.back(0.0)
    r.lost(1.0, Mode.CABLE_CHECK, 0.0)
    assert r.tick(1.0 + GRACE_S) is Verdict.EXPIRED and r.phase is Phase.LOST
    assert r.back(20.0) is Verdict.CLEAR


@pytest.mark.parametrize(
    ("mode", "current"),
    [(Mode.CHARGE, 0.0), (Mode.DISCHARGE, 0.0), (Mode.PRE_CHARGE, 1.5), (Mode.OFF, math.nan)],
)
def test_lost_while_current_flows_stops_at_once(mode: Mode, current: float) -> None:
    r = Reconnect(GRACE_S, 1.0)
    r.back(0.0)
    assert r.lost(1.0, mode, current) is Verdict.STOP


def test_no_grace_time_stops_at_once() -> None:
    r = Reconnect(0.0, 1.0)
    r.back(0.0)
    assert r.lost(1.0, Mode.OFF, 0.0) is Verdict.STOP


# ---------------------------------------------------------------- through the power stage
def stage_in_cable_check() -> PlcPowerStage:
    stage = PlcPowerStage(PlcStageConfig(lease_s=100.0, reconnect_grace_s=GRACE_S))
    stage.plc_data(data(), 0.0)
    stage.set_target(800.0, 10.0, 0.1)
    stage.set_mode(Mode.CABLE_CHECK, 0.2)
    stage.plc_data(data(800.0, 0.0, IsolationCode.VALID), 0.5)
    assert stage.snapshot().isolation_status is IsolationStatus.VALID
    return stage


def test_reconnect_during_cable_check_resumes_from_a_new_cable_check() -> None:
    stage = stage_in_cable_check()
    snap = stage.plc_lost(1.0, "DHT expired")
    assert snap.mode is Mode.OFF and not snap.supply_ready
    assert snap.errors == {PLC_RECONNECTING.name}
    assert math.isnan(snap.present_voltage)
    with pytest.raises(Refused):
        stage.set_mode(Mode.CABLE_CHECK, 1.5)  # NotReady while the PLC is away
    snap = stage.plc_data(data(790.0, 0.0, IsolationCode.VALID), 3.0)
    assert snap.errors == frozenset() and snap.supply_ready
    assert snap.mode is Mode.OFF
    assert snap.isolation_status is IsolationStatus.INVALID  # the measurement is forgotten
    with pytest.raises(Refused, match="CableCheck first"):
        stage.set_mode(Mode.PRE_CHARGE, 3.1)
    stage.set_mode(Mode.CABLE_CHECK, 3.2)
    stage.plc_data(data(800.0, 0.0, IsolationCode.VALID), 3.3)
    assert stage.set_mode(Mode.PRE_CHARGE, 3.4).mode is Mode.PRE_CHARGE


def test_reconnect_too_late_is_plc_lost() -> None:
    stage = stage_in_cable_check()
    stage.plc_lost(1.0)
    snap = stage.advance(1.0 + GRACE_S)
    assert snap.errors == {PLC_LOST.name} and snap.mode is Mode.OFF
    with pytest.raises(Refused):
        stage.set_mode(Mode.CABLE_CHECK, 7.0)
    assert stage.plc_data(data(), 8.0).errors == frozenset()


def test_lost_while_charging_stops_and_does_not_resume() -> None:
    stage = stage_in_cable_check()
    stage.set_mode(Mode.PRE_CHARGE, 0.6)
    stage.set_mode(Mode.CHARGE, 0.7)
    stage.plc_data(data(805.0, 100.0, IsolationCode.VALID), 0.8)
    snap = stage.plc_lost(1.0, "released")
    assert snap.mode is Mode.OFF
    assert snap.errors == {PLC_LOST.name}
    assert stage.outputs().requested_mode is StageMode.OFF
    assert stage.outputs().target_current == 0.0
