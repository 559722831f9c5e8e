# SPDX-License-Identifier: Apache-2.0
"""The PLC simulator's power stage, pure: setpoints come back as present values, the
insulation measurement waits for the cable-check voltage, the meter counts in Charge, and
losing the charger's data switches it off."""

import math

from ccy.profinet.io_layout import (
    ChargerStatus,
    ChargerToPlc,
    IsolationCode,
    PlcStatus,
    StageMode,
)
from ccy.sim.plc.stage import ISOLATION_DELAY_S, SELF_TEST_S, PlcStage


def run(stage: PlcStage, start: float, end: float, step: float = 0.01) -> float:
    t = start
    while t < end:
        t += step
        stage.step(t)
    return t


def test_cable_check_ramps_then_measures_insulation() -> None:
    stage = PlcStage()
    stage.step(0.0)
    stage.command(ChargerToPlc(requested_mode=StageMode.CABLE_CHECK, target_voltage=500.0))
    t = run(stage, 0.0, 0.5)
    assert 200 < stage.voltage < 300  # 500 V/s
    out = stage.outputs(t)
    assert out.isolation_status == IsolationCode.INVALID and math.isnan(out.isolation_ohm)
    t = run(stage, t, 1.0 + ISOLATION_DELAY_S + 0.05)
    out = stage.outputs(t)
    assert out.present_voltage == 500.0 and out.isolation_status == IsolationCode.VALID
    assert out.status & PlcStatus.SUPPLY_READY and out.stage_mode == StageMode.CABLE_CHECK


def test_charge_follows_the_current_and_meters_energy() -> None:
    stage = PlcStage(voltage=400.0)
    stage.step(0.0)
    stage.command(
        ChargerToPlc(requested_mode=StageMode.CHARGE, target_voltage=400.0, target_current=100.0)
    )
    t = run(stage, 0.0, 2.0)
    out = stage.outputs(t)
    assert out.present_current == 100.0 and out.meter_energy > 0


def test_charger_lost_switches_off_and_discharges() -> None:
    stage = PlcStage(voltage=800.0)
    stage.step(0.0)
    stage.command(
        ChargerToPlc(requested_mode=StageMode.CHARGE, target_voltage=800.0, target_current=50.0)
    )
    t = run(stage, 0.0, 0.2)
    stage.off()
    run(stage, t, t + 0.6)
    assert stage.mode == StageMode.OFF and stage.voltage < 60 and stage.current < 50


def test_supply_fault_is_reported_and_holds_the_stage_off() -> None:
    stage = PlcStage(supply_fault=True)
    stage.step(0.0)
    stage.command(ChargerToPlc(requested_mode=StageMode.CABLE_CHECK, target_voltage=500.0))
    t = run(stage, 0.0, 0.5)
    out = stage.outputs(t)
    assert stage.voltage == 0.0 and out.status & PlcStatus.SUPPLY_FAULT
    assert not out.status & PlcStatus.SUPPLY_READY


SELF_TEST_BITS = (
    PlcStatus.SELF_TEST_RUNNING | PlcStatus.SELF_TEST_PASSED | PlcStatus.SELF_TEST_FAILED
)


def test_the_imd_self_test_runs_then_passes_until_the_request_drops() -> None:
    stage = PlcStage()
    stage.step(0.0)
    assert not stage.outputs(0.0).status & SELF_TEST_BITS
    stage.command(ChargerToPlc(status=ChargerStatus.SELF_TEST_REQUEST))
    stage.step(0.1)
    assert stage.outputs(0.1).status & SELF_TEST_BITS == PlcStatus.SELF_TEST_RUNNING
    t = run(stage, 0.1, 0.1 + SELF_TEST_S + 0.02)
    assert stage.outputs(t).status & SELF_TEST_BITS == PlcStatus.SELF_TEST_PASSED
    stage.command(ChargerToPlc())
    stage.step(t + 0.01)
    assert not stage.outputs(t + 0.01).status & SELF_TEST_BITS
    stage.command(ChargerToPlc(status=ChargerStatus.SELF_TEST_REQUEST))  # a new test
    stage.step(t + 0.02)
    assert stage.outputs(t + 0.02).status & SELF_TEST_BITS == PlcStatus.SELF_TEST_RUNNING


def test_a_failing_imd_reports_the_failure_and_the_charger_lost_ends_the_test() -> None:
    stage = PlcStage(self_test_fault=True)
    stage.step(0.0)
    stage.command(ChargerToPlc(status=ChargerStatus.SELF_TEST_REQUEST))
    t = run(stage, 0.0, SELF_TEST_S + 0.05)
    assert stage.outputs(t).status & SELF_TEST_BITS == PlcStatus.SELF_TEST_FAILED
    stage.off()
    stage.step(t + 0.01)
    assert not stage.outputs(t + 0.01).status & SELF_TEST_BITS
