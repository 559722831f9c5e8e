# SPDX-License-Identifier: Apache-2.0
"""The PLC simulator's power stage: just enough physics to echo the charger's setpoints as
present values (voltage slew, current following the target in Charge, an insulation
measurement after a delay in CableCheck, a meter). Pure: ``step(now)``."""

import math
from dataclasses import dataclass

from ccy.profinet.io_layout import (
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
    heartbeat: int = 0
    last: float | None = None

    def command(self, inputs: ChargerToPlc) -> None:
        self.mode = inputs.requested_mode
        self.target_voltage = max(0.0, min(inputs.target_voltage, LIMITS[0]))
        self.target_current = max(0.0, min(inputs.target_current, LIMITS[2]))

    def off(self) -> None:
        """The charger is gone (no valid input data): switch off."""
        self.mode = StageMode.OFF

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
        self.heartbeat = (self.heartbeat + 1) & 0xFFFF

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
        status = PlcStatus.IMD_INSTALLED | (
            PlcStatus.SUPPLY_FAULT if self.supply_fault else PlcStatus.SUPPLY_READY
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
