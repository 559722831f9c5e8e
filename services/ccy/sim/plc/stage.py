# SPDX-License-Identifier: Apache-2.0
"""The PLC simulator's power stage: just enough physics to echo the charger's setpoints as
present values (voltage slew, current following the target in Charge, an insulation
measurement after a delay in CableCheck, a meter), and the IMD self-test the charger asks for
with SelfTestRequest (SelfTestRunning for ``SELF_TEST_S``, then SelfTestPassed, or
SelfTestFailed with ``self_test_fault``; the result stands until the request drops, and a new
request starts a new test). Pure: ``step(now)``."""

import math
from dataclasses import dataclass

from ccy.profinet.io_layout import (
    ChargerStatus,
    ChargerToPlc,
    IsolationCode,
    PlcStatus,
    PlcToCharger,
    StageMode,
)

SLEW_V_PER_S = 500.0
DISCHARGE_V_PER_S = 1500.0
CURRENT_SLEW_A_PER_S = 1000.0
ISOLATION_DELAY_S = 0.5
ISOLATION_OHM = 10e6
SELF_TEST_S = 0.5
LIMITS = (1250.0, 50.0, 3000.0, 10.0, 3_750_000.0)


@dataclass
class PlcStage:
    voltage: float = 0.0
    current: float = 0.0
    energy_wh: float = 0.0
    mode: StageMode = StageMode.OFF
    target_voltage: float = 0.0
    target_current: float = 0.0
    isolation_since: float | None = None
    isolation_fault: bool = False
    supply_fault: bool = False
    self_test_fault: bool = False
    self_test_requested: bool = False
    self_test_since: float | None = None
    heartbeat: int = 0
    last: float | None = None

    def command(self, inputs: ChargerToPlc) -> None:
        self.mode = inputs.requested_mode
        self.self_test_requested = ChargerStatus.SELF_TEST_REQUEST in inputs.status
        self.target_voltage = max(0.0, min(inputs.target_voltage, LIMITS[0]))
        self.target_current = max(0.0, min(inputs.target_current, LIMITS[2]))

    def off(self) -> None:
        """The charger is gone (no valid input data): switch off."""
        self.mode = StageMode.OFF
        self.self_test_requested = False

    def step(self, now: float) -> None:
        dt = 0.0 if self.last is None else max(0.0, now - self.last)
        self.last = now
        on = self.mode != StageMode.OFF and not self.supply_fault
        goal_v = self.target_voltage if on else 0.0
        rate = SLEW_V_PER_S if on else DISCHARGE_V_PER_S
        self.voltage += max(-rate * dt, min(rate * dt, goal_v - self.voltage))
        goal_i = self.target_current if on and self.mode == StageMode.CHARGE else 0.0
        step_i = CURRENT_SLEW_A_PER_S * dt
        self.current += max(-step_i, min(step_i, goal_i - self.current))
        self.energy_wh += self.voltage * self.current * dt / 3600.0
        reached = (
            self.target_voltage > 0
            and abs(self.voltage - self.target_voltage) < 0.01 * self.target_voltage
        )
        if self.mode == StageMode.CABLE_CHECK and reached:
            if self.isolation_since is None:
                self.isolation_since = now
        elif self.mode == StageMode.OFF:
            self.isolation_since = None
        if not self.self_test_requested:
            self.self_test_since = None
        elif self.self_test_since is None:
            self.self_test_since = now
        self.heartbeat = (self.heartbeat + 1) & 0xFFFF

    def self_test_bits(self, now: float) -> PlcStatus:
        if self.self_test_since is None:
            return PlcStatus(0)
        if now - self.self_test_since < SELF_TEST_S:
            return PlcStatus.SELF_TEST_RUNNING
        return PlcStatus.SELF_TEST_FAILED if self.self_test_fault else PlcStatus.SELF_TEST_PASSED

    def outputs(self, now: float) -> PlcToCharger:
        measured = (
            self.isolation_since is not None and now - self.isolation_since >= ISOLATION_DELAY_S
        )
        if self.isolation_fault and measured:
            iso, ohm = IsolationCode.FAULT, 50.0 * max(self.voltage, 1.0)
        elif measured:
            iso, ohm = IsolationCode.VALID, ISOLATION_OHM
        else:
            iso, ohm = IsolationCode.INVALID, math.nan
        status = (
            PlcStatus.IMD_INSTALLED
            | (PlcStatus.SUPPLY_FAULT if self.supply_fault else PlcStatus.SUPPLY_READY)
            | self.self_test_bits(now)
        )
        return PlcToCharger(
            status=status,
            isolation_status=iso,
            stage_mode=self.mode,
            present_voltage=self.voltage,
            present_current=self.current,
            isolation_ohm=ohm,
            max_voltage=LIMITS[0],
            min_voltage=LIMITS[1],
            max_current=LIMITS[2],
            min_current=LIMITS[3],
            max_power=LIMITS[4],
            meter_energy=int(self.energy_wh),
            plc_heartbeat=self.heartbeat,
        )
