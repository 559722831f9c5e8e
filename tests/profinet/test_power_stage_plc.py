# SPDX-License-Identifier: Apache-2.0
"""PowerStage1 driven by the PLC's cyclic data (ccy.profinet.power_stage_plc), on a fake clock.

Setpoints go out (outputs()), readings come in (plc_data); Off first on every fault, on a
lost PLC and on the lease; the same refusals as the simulated stage.
"""

import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccy.profinet.contract import (
    ISOLATION_FAULT,
    ISOLATION_WARNING,
    LEASE_EXPIRED,
    OVER_CURRENT,
    SELF_TEST_FAILED,
    SUPPLY_FAULT,
    IsolationStatus,
    Mode,
    SelfTest,
)
from ccy.profinet.io_layout import IsolationCode, PlcStatus, PlcToCharger, StageMode
from ccy.profinet.power_stage_plc import PlcPowerStage, PlcStageConfig
from ccy.profinet.stage.model import RefusalKind, Refused

READY = PlcStatus.SUPPLY_READY | PlcStatus.IMD_INSTALLED
BASE = PlcToCharger(
    status=READY,
    max_voltage=1000.0,
    min_voltage=100.0,
    max_current=500.0,
    min_current=5.0,
    max_power=400_000.0,
    meter_energy=12_345,
)


def stage(**config: float) -> PlcPowerStage:
    s = PlcPowerStage(PlcStageConfig(**config))
    s.plc_data(BASE, 0.0)
    return s


def measured(s: PlcPowerStage, t: float = 0.1) -> None:
    s.set_target(800.0, 10.0, t)
    s.set_mode(Mode.CABLE_CHECK, t)
    s.plc_data(replace(BASE, present_voltage=800.0, isolation_status=IsolationCode.VALID), t)


def test_before_the_plc_nothing_is_ready_and_nothing_is_shown_as_safe() -> None:
    s = PlcPowerStage()
    snap = s.snapshot()
    assert not snap.supply_ready and snap.limits.max_current_a == 0.0
    assert math.isnan(snap.present_voltage) and math.isnan(snap.present_current)
    with pytest.raises(Refused) as refused:
        s.set_mode(Mode.CABLE_CHECK, 0.1)
    assert refused.value.kind is RefusalKind.NOT_READY
    assert s.set_mode(Mode.OFF, 0.2).mode is Mode.OFF


def test_setpoints_go_out_clamped_to_the_plcs_limits() -> None:
    s = stage()
    snap = s.set_target(1200.0, 900.0, 0.1)
    assert (snap.target_voltage, snap.target_current) == (1000.0, 400.0)  # 400 kW / 1000 V
    assert s.outputs().requested_mode is StageMode.OFF
    assert s.outputs().target_voltage == 0.0  # nothing asked while Off
    s.set_mode(Mode.CABLE_CHECK, 0.2)
    out = s.outputs()
    assert (out.requested_mode, out.target_voltage, out.target_current) == (
        StageMode.CABLE_CHECK,
        1000.0,
        400.0,
    )
    # the PLC derates: the setpoint in force is clamped again
    snap = s.plc_data(replace(BASE, max_current=100.0), 0.3)
    assert snap.target_current == 100.0 and snap.limits.max_current_a == 100.0


def test_readings_come_from_the_plc() -> None:
    s = stage()
    snap = s.plc_data(replace(BASE, present_voltage=401.5, present_current=12.0), 0.1)
    assert (snap.present_voltage, snap.present_current, snap.meter_energy_wh) == (
        401.5,
        12.0,
        12_345.0,
    )


def test_precharge_needs_a_measurement_in_cable_check() -> None:
    s = stage()
    s.set_target(800.0, 10.0, 0.1)
    with pytest.raises(Refused, match="CableCheck first"):
        s.set_mode(Mode.PRE_CHARGE, 0.1)
    # a Valid status the PLC reports while Off does not count
    s.plc_data(replace(BASE, isolation_status=IsolationCode.VALID), 0.2)
    with pytest.raises(Refused):
        s.set_mode(Mode.PRE_CHARGE, 0.3)
    measured(s, 0.4)
    assert s.set_mode(Mode.PRE_CHARGE, 0.5).isolation_status is IsolationStatus.VALID


def test_no_imd_lets_precharge_start() -> None:
    s = PlcPowerStage()
    s.plc_data(replace(BASE, status=PlcStatus.SUPPLY_READY), 0.0)
    assert s.snapshot().isolation_status is IsolationStatus.NO_IMD
    assert s.set_mode(Mode.PRE_CHARGE, 0.1).mode is Mode.PRE_CHARGE


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"status": READY | PlcStatus.SUPPLY_FAULT}, SUPPLY_FAULT.name),
        ({"status": READY | PlcStatus.PLC_EMERGENCY_STOP}, SUPPLY_FAULT.name),
        ({"status": READY | PlcStatus.OVER_CURRENT}, OVER_CURRENT.name),
        ({"present_current": 551.0}, OVER_CURRENT.name),
        ({"present_current": math.nan}, OVER_CURRENT.name),
        ({"isolation_status": IsolationCode.FAULT}, ISOLATION_FAULT.name),
    ],
)
def test_a_plc_fault_switches_off_first(change: dict[str, object], error: str) -> None:
    s = stage()
    measured(s)
    s.set_mode(Mode.PRE_CHARGE, 0.2)
    bad = replace(BASE, present_voltage=800.0, isolation_status=IsolationCode.VALID)
    snap = s.plc_data(replace(bad, **change), 0.3)  # type: ignore[arg-type]
    assert snap.mode is Mode.OFF and error in snap.errors
    assert s.outputs().requested_mode is StageMode.OFF
    with pytest.raises(Refused):
        s.set_mode(Mode.CABLE_CHECK, 0.4)
    assert error not in s.plc_data(BASE, 0.5).errors  # cleared when the PLC clears it


def test_current_within_the_margin_is_no_over_current() -> None:
    s = stage(over_current_margin=0.10)
    assert OVER_CURRENT.name not in s.plc_data(replace(BASE, present_current=549.0), 0.1).errors


def test_isolation_warning_keeps_power() -> None:
    s = stage()
    measured(s)
    snap = s.plc_data(
        replace(BASE, present_voltage=800.0, isolation_status=IsolationCode.WARNING), 0.2
    )
    assert snap.mode is Mode.CABLE_CHECK and ISOLATION_WARNING.name in snap.errors


def test_the_lease_switches_off() -> None:
    s = stage(lease_s=1.0)
    measured(s, 0.1)
    assert s.advance(1.05).mode is Mode.CABLE_CHECK
    snap = s.advance(1.2)
    assert snap.mode is Mode.OFF and LEASE_EXPIRED.name in snap.errors
    assert LEASE_EXPIRED.name not in s.set_target(800.0, 10.0, 1.3).errors


def test_self_test_request_and_answer() -> None:
    s = stage()
    assert s.start_self_test(0.1).self_test is SelfTest.RUNNING
    assert s.outputs().self_test_request
    s.plc_data(replace(BASE, status=READY | PlcStatus.SELF_TEST_RUNNING), 0.2)
    assert s.snapshot().self_test is SelfTest.RUNNING
    snap = s.plc_data(replace(BASE, status=READY | PlcStatus.SELF_TEST_PASSED), 0.3)
    assert snap.self_test is SelfTest.PASSED and not s.outputs().self_test_request


def test_a_stale_passed_bit_is_not_an_answer() -> None:
    s = stage()
    s.plc_data(replace(BASE, status=READY | PlcStatus.SELF_TEST_PASSED), 0.05)
    s.start_self_test(0.1)
    snap = s.plc_data(replace(BASE, status=READY | PlcStatus.SELF_TEST_PASSED), 0.2)
    assert snap.self_test is SelfTest.RUNNING


@pytest.mark.parametrize("how", ["failed", "timeout"])
def test_self_test_failure_stops(how: str) -> None:
    s = stage(self_test_timeout_s=2.0)
    measured(s)
    s.start_self_test(0.2)
    if how == "failed":
        snap = s.plc_data(replace(BASE, status=READY | PlcStatus.SELF_TEST_FAILED), 0.3)
    else:
        s.set_target(800.0, 10.0, 1.0)
        snap = s.advance(2.3)
    assert snap.self_test is SelfTest.FAILED and SELF_TEST_FAILED.name in snap.errors
    assert snap.mode is Mode.OFF


def test_discharge_ends_off_below_60_v() -> None:
    s = stage()
    measured(s)
    assert s.set_mode(Mode.DISCHARGE, 0.2).mode is Mode.DISCHARGE
    assert s.outputs().requested_mode is StageMode.DISCHARGE
    assert s.plc_data(replace(BASE, present_voltage=300.0), 0.3).mode is Mode.DISCHARGE
    assert s.plc_data(replace(BASE, present_voltage=59.0), 0.4).mode is Mode.OFF


def test_bad_setpoints_are_refused_and_change_nothing() -> None:
    s = stage()
    s.set_target(500.0, 10.0, 0.1)
    for v, a in ((math.nan, 1.0), (-1.0, 1.0), (1.0, math.inf)):
        with pytest.raises(Refused) as refused:
            s.set_target(v, a, 0.2)
        assert refused.value.kind is RefusalKind.INVALID_ARGUMENT
    assert (s.snapshot().target_voltage, s.snapshot().target_current) == (500.0, 10.0)


def test_nonsense_limits_give_no_power() -> None:
    s = PlcPowerStage()
    snap = s.plc_data(replace(BASE, max_current=math.nan), 0.0)
    assert snap.limits.max_current_a == 0.0
    assert s.set_target(800.0, 100.0, 0.1).target_current == 0.0


@given(
    v=st.floats(0, 5000),
    a=st.floats(0, 10000),
    max_v=st.floats(0, 1500),
    max_a=st.floats(0, 3000),
    max_p=st.floats(0, 4.5e6),
)
def test_outputs_never_exceed_the_plcs_limits(
    v: float, a: float, max_v: float, max_a: float, max_p: float
) -> None:
    s = PlcPowerStage(PlcStageConfig(lease_s=10.0))
    limits = replace(BASE, max_voltage=max_v, min_voltage=0.0, max_current=max_a, max_power=max_p)
    s.plc_data(limits, 0.0)
    s.set_target(v, a, 0.1)
    s.set_mode(Mode.CABLE_CHECK, 0.2)
    out = s.outputs()
    assert out.target_voltage <= max_v and out.target_current <= max_a
    assert out.target_voltage * out.target_current <= max_p * (1 + 1e-9) + 1e-6
