# SPDX-License-Identifier: Apache-2.0
"""The simulated power stage (ccy.sim.power_stage.model) on a fake clock: each test names the
time of every input; nothing sleeps."""

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccy.profinet.contract import (
    ISOLATION_FAULT,
    ISOLATION_WARNING,
    LEASE_EXPIRED,
    OVER_CURRENT,
    SAFE_VOLTAGE_V,
    SELF_TEST_FAILED,
    SUPPLY_FAULT,
    IsolationStatus,
    Mode,
    SelfTest,
)
from ccy.sim.power_stage.load import EvLoad
from ccy.sim.power_stage.model import (
    Fault,
    Limits,
    PowerStageModel,
    RefusalKind,
    Refused,
    Snapshot,
    StageConfig,
    clamp_target,
)

CHECK_V = 800.0
EV = EvLoad(ocv_v=700.0, resistance_ohm=0.05)


class Clock:
    """A fake clock; ``keep`` renews the lease every 0.4 s while time passes."""

    def __init__(self, stage: PowerStageModel) -> None:
        self.now = 0.0
        self.stage = stage

    def run(self, seconds: float, keep: bool = True) -> Snapshot:
        end = self.now + seconds
        while self.now < end:
            self.now = min(end, self.now + 0.4)
            snap = self.stage.advance(self.now)
            if keep:
                self.stage.set_target(snap.target_voltage, snap.target_current, self.now)
        return self.stage.snapshot()


def cable_checked() -> tuple[PowerStageModel, Clock]:
    stage = PowerStageModel(StageConfig(), EV)
    clock = Clock(stage)
    stage.set_target(CHECK_V, 10.0, clock.now)
    stage.set_mode(Mode.CABLE_CHECK, clock.now)
    return stage, clock


def test_starts_off_and_safe() -> None:
    snap = PowerStageModel().snapshot()
    assert snap.mode is Mode.OFF and snap.present_voltage == 0 and snap.present_current == 0
    assert snap.isolation_status is IsolationStatus.INVALID and math.isnan(
        snap.isolation_resistance
    )
    assert snap.self_test is SelfTest.IDLE and snap.supply_ready and snap.errors == frozenset()
    assert snap.lease_s == 1.0


def test_cable_check_ramps_at_the_slew_rate_then_measures_after_the_delay() -> None:
    _, clock = cable_checked()
    snap = clock.run(0.8)  # 500 V/s: 400 V after 0.8 s
    assert snap.present_voltage == pytest.approx(400.0, abs=1.0)
    assert snap.isolation_status is IsolationStatus.INVALID
    snap = clock.run(0.8)  # reached at 1.6 s, measuring since
    assert snap.present_voltage == pytest.approx(CHECK_V)
    assert snap.isolation_status is IsolationStatus.INVALID, "the IMD takes 0.5 s to measure"
    snap = clock.run(0.6)
    assert snap.isolation_status is IsolationStatus.VALID
    assert snap.isolation_resistance == 10e6
    assert snap.present_current == 0.0


def test_precharge_and_charge_need_an_isolation_measurement() -> None:
    stage = PowerStageModel(StageConfig(), EV)
    for mode in (Mode.PRE_CHARGE, Mode.CHARGE):
        with pytest.raises(Refused) as refused:
            stage.set_mode(mode, 0.0)
        assert refused.value.kind is RefusalKind.NOT_PERMITTED
        assert "CableCheck first" in str(refused.value)
    assert stage.snapshot().mode is Mode.OFF


def test_a_whole_session_charges_and_meters_energy() -> None:
    stage, clock = cable_checked()
    clock.run(2.4)
    stage.set_mode(Mode.OFF, clock.now)  # cable check done: below 60 V before precharge
    snap = clock.run(stage.safe_voltage_time_s())
    assert snap.present_voltage < SAFE_VOLTAGE_V
    with pytest.raises(Refused):  # Off forgets the measurement
        stage.set_mode(Mode.PRE_CHARGE, clock.now)
    stage.set_mode(Mode.CABLE_CHECK, clock.now)
    clock.run(2.4)
    stage.set_target(EV.ocv_v, 2.0, clock.now)
    stage.set_mode(Mode.PRE_CHARGE, clock.now)
    snap = clock.run(0.6)
    assert snap.present_voltage == pytest.approx(EV.ocv_v) and snap.present_current == 0.0
    stage.set_target(900.0, 200.0, clock.now)
    stage.set_mode(Mode.CHARGE, clock.now)
    snap = clock.run(0.1)
    assert 0 < snap.present_current <= 100.0 + 1e-9  # 1000 A/s current slew
    snap = clock.run(1.0)
    assert snap.present_current == pytest.approx(200.0)
    assert snap.present_voltage == pytest.approx(EV.ocv_v + 200.0 * EV.resistance_ohm)
    before = snap.meter_energy_wh
    snap = clock.run(36.0)
    assert snap.meter_energy_wh - before == pytest.approx(710.0 * 200.0 * 36.0 / 3600.0, rel=1e-3)


def test_current_stops_at_the_voltage_setpoint() -> None:
    stage, clock = cable_checked()
    clock.run(2.4)
    stage.set_target(EV.ocv_v + 5.0, 3000.0, clock.now)  # 5 V of headroom over 0.05 ohm
    stage.set_mode(Mode.CHARGE, clock.now)
    snap = clock.run(2.0)
    assert snap.present_current == pytest.approx(100.0)
    assert snap.present_voltage == pytest.approx(EV.ocv_v + 5.0)


def test_the_lease_switches_off_and_clears_with_the_next_input() -> None:
    stage, clock = cable_checked()
    snap = clock.run(0.9, keep=False)
    assert snap.mode is Mode.CABLE_CHECK
    snap = stage.advance(1.0)
    assert snap.mode is Mode.OFF, "no input for LeaseSeconds: Off exactly at the expiry"
    assert LEASE_EXPIRED.name in snap.errors
    snap = stage.advance(1.0 + stage.safe_voltage_time_s())
    assert snap.present_voltage < SAFE_VOLTAGE_V
    snap = stage.set_mode(Mode.CABLE_CHECK, snap.time)
    assert snap.mode is Mode.CABLE_CHECK and LEASE_EXPIRED.name not in snap.errors


def test_off_is_never_refused_and_discharges_within_the_bound() -> None:
    stage = PowerStageModel(StageConfig(limits=Limits(max_voltage_v=1500.0)), EV)
    stage.set_target(1500.0, 1.0, 0.0)
    stage.set_mode(Mode.CABLE_CHECK, 0.0)
    clock = Clock(stage)
    assert clock.run(3.2).present_voltage == pytest.approx(1500.0)
    stage.inject(Fault.SUPPLY, clock.now)
    stage.set_mode(Mode.OFF, clock.now)  # accepted even with a fault active
    bound = stage.safe_voltage_time_s()
    assert bound < 1.0  # 1,500 V at 1,500 V/s
    assert stage.advance(clock.now + bound - 0.05).present_voltage > SAFE_VOLTAGE_V
    assert stage.advance(clock.now + bound + 0.01).present_voltage < SAFE_VOLTAGE_V


def test_set_target_clamps_to_the_limits() -> None:
    limits = Limits(max_voltage_v=1000.0, min_voltage_v=150.0, max_current_a=500.0)
    stage = PowerStageModel(StageConfig(limits=limits), EV)
    assert stage.set_target(1200.0, 800.0, 0.0).target_voltage == 1000.0
    assert stage.snapshot().target_current == 500.0
    assert stage.set_target(20.0, 5.0, 0.1).target_voltage == 150.0
    assert stage.set_target(0.0, 5.0, 0.2).target_voltage == 0.0


@pytest.mark.parametrize(
    ("voltage", "current"), [(math.nan, 1.0), (1.0, math.inf), (-1.0, 1.0), (1.0, -0.1)]
)
def test_set_target_refuses_nonsense_and_changes_nothing(voltage: float, current: float) -> None:
    stage = PowerStageModel()
    stage.set_target(400.0, 10.0, 0.0)
    before = stage.snapshot()
    with pytest.raises(Refused) as refused:
        stage.set_target(voltage, current, 0.5)
    assert refused.value.kind is RefusalKind.INVALID_ARGUMENT
    assert stage.snapshot() == before


@given(
    st.floats(0, 5000),
    st.floats(0, 10000),
    st.floats(100, 1500),
    st.floats(0, 100),
    st.floats(1, 4000),
    st.floats(1e3, 5e6),
)
def test_clamp_never_exceeds_a_limit(
    v: float, a: float, max_v: float, min_v: float, max_a: float, max_w: float
) -> None:
    limits = Limits(
        max_voltage_v=max_v, min_voltage_v=min_v, max_current_a=max_a, max_power_w=max_w
    )
    cv, ca = clamp_target(v, a, limits)
    assert cv <= max_v and ca <= max_a and ca <= a
    assert cv == 0.0 or cv >= min(min_v, max_v)
    assert cv * ca <= max_w * (1 + 1e-9)


def test_new_limits_reclamp_the_running_setpoint() -> None:
    stage, clock = cable_checked()
    clock.run(2.4)
    stage.set_target(900.0, 400.0, clock.now)
    stage.set_mode(Mode.CHARGE, clock.now)
    assert clock.run(1.0).present_current == pytest.approx(400.0)
    stage.set_limits(Limits(max_current_a=150.0), clock.now)
    snap = clock.run(0.1)
    assert 150.0 < snap.present_current < 400.0, "ramps down at the current slew, no trip"
    snap = clock.run(1.0)
    assert snap.target_current == 150.0 and snap.present_current == pytest.approx(150.0)
    assert snap.limits.max_current_a == 150.0


def test_max_power_limits_the_current() -> None:
    stage, clock = cable_checked()
    clock.run(2.4)
    stage.set_limits(Limits(max_power_w=70_000.0), clock.now)
    stage.set_target(900.0, 3000.0, clock.now)
    stage.set_mode(Mode.CHARGE, clock.now)
    snap = clock.run(2.0)
    assert snap.present_voltage * snap.present_current <= 70_000.0 * 1.001


def test_isolation_fault_switches_off_and_blocks_until_cleared() -> None:
    stage, clock = cable_checked()
    clock.run(2.4)
    snap = stage.inject(Fault.ISOLATION, clock.now)
    assert snap.mode is Mode.OFF and snap.isolation_status is IsolationStatus.FAULT
    assert ISOLATION_FAULT.name in snap.errors and snap.isolation_resistance == 10e3
    with pytest.raises(Refused) as refused:
        stage.set_mode(Mode.CABLE_CHECK, clock.now)
    assert refused.value.kind is RefusalKind.NOT_PERMITTED and "IsolationFault" in str(
        refused.value
    )
    stage.clear(Fault.ISOLATION, clock.now)
    assert stage.set_mode(Mode.CABLE_CHECK, clock.now).mode is Mode.CABLE_CHECK


def test_an_isolation_fault_injected_before_the_check_is_found_by_it() -> None:
    stage, clock = cable_checked()
    stage.inject(Fault.ISOLATION, 0.0)
    snap = clock.run(2.4)
    assert snap.mode is Mode.OFF and ISOLATION_FAULT.name in snap.errors


def test_a_low_insulation_is_a_warning_that_still_charges() -> None:
    stage, clock = cable_checked()
    stage.set_isolation_resistance(CHECK_V * 300.0, 0.0)  # 300 ohm/V
    snap = clock.run(2.4)
    assert snap.isolation_status is IsolationStatus.WARNING
    assert ISOLATION_WARNING.name in snap.errors and snap.mode is Mode.CABLE_CHECK
    stage.set_mode(Mode.PRE_CHARGE, clock.now)


def test_supply_fault_is_not_ready_until_cleared() -> None:
    stage, clock = cable_checked()
    clock.run(1.0)
    snap = stage.inject(Fault.SUPPLY, clock.now)
    assert snap.mode is Mode.OFF and not snap.supply_ready and SUPPLY_FAULT.name in snap.errors
    with pytest.raises(Refused) as refused:
        stage.set_mode(Mode.CABLE_CHECK, clock.now)
    assert refused.value.kind is RefusalKind.NOT_READY
    snap = stage.clear(Fault.SUPPLY, clock.now)
    assert snap.supply_ready and snap.errors == frozenset() and snap.mode is Mode.OFF


def test_over_current_switches_off() -> None:
    stage, _ = cable_checked()
    snap = stage.inject(Fault.OVER_CURRENT, 0.5)
    assert snap.mode is Mode.OFF and OVER_CURRENT.name in snap.errors


def test_self_test_runs_and_passes_or_fails() -> None:
    stage = PowerStageModel()
    assert stage.start_self_test(0.0).self_test is SelfTest.RUNNING
    assert stage.advance(0.49).self_test is SelfTest.RUNNING
    assert stage.advance(0.5).self_test is SelfTest.PASSED
    stage.inject(Fault.SELF_TEST, 1.0)
    stage.start_self_test(1.0)
    snap = stage.advance(2.0)
    assert snap.self_test is SelfTest.FAILED and SELF_TEST_FAILED.name in snap.errors


def test_a_failed_self_test_blocks_charging_but_not_the_cable_check_that_tests_again() -> None:
    stage = PowerStageModel(StageConfig(), EV)
    stage.inject(Fault.SELF_TEST, 0.0)
    stage.start_self_test(0.0)
    assert SELF_TEST_FAILED.name in stage.advance(1.0).errors
    stage.set_target(EV.ocv_v, 2.0, 1.0)
    with pytest.raises(Refused) as refused:
        stage.set_mode(Mode.PRE_CHARGE, 1.0)
    assert refused.value.kind is RefusalKind.NOT_PERMITTED
    assert SELF_TEST_FAILED.name in str(refused.value)
    stage.set_target(CHECK_V, 10.0, 1.0)
    assert stage.set_mode(Mode.CABLE_CHECK, 1.0).mode is Mode.CABLE_CHECK
    snap = stage.start_self_test(1.0)  # the cable check tests the IMD again
    assert snap.self_test is SelfTest.RUNNING and SELF_TEST_FAILED.name not in snap.errors
    snap = stage.advance(2.0)  # still broken: failed again, and the stage Off
    assert snap.self_test is SelfTest.FAILED and SELF_TEST_FAILED.name in snap.errors
    assert snap.mode is Mode.OFF


def test_no_self_test_while_charging() -> None:
    stage, clock = cable_checked()
    clock.run(2.4)
    stage.set_mode(Mode.CHARGE, clock.now)
    with pytest.raises(Refused):
        stage.start_self_test(clock.now)


def test_without_an_imd_the_status_is_noimd_and_charging_is_allowed() -> None:
    stage = PowerStageModel(StageConfig(imd_installed=False), EV)
    assert stage.snapshot().isolation_status is IsolationStatus.NO_IMD
    stage.set_target(EV.ocv_v, 2.0, 0.0)
    assert stage.set_mode(Mode.PRE_CHARGE, 0.0).mode is Mode.PRE_CHARGE


def test_time_never_runs_backwards() -> None:
    stage, clock = cable_checked()
    clock.run(1.0)
    snap = stage.advance(0.2)
    assert snap.time == clock.now and snap.present_voltage > 0
