# SPDX-License-Identifier: Apache-2.0
"""A simulated DC power stage (moved here from ccy.sim.power_stage so the product unit serves it
without the simulator package), pure: every input carries its time; ``advance(now)`` runs the
physics up to ``now`` in small steps and returns what org.ccy.PowerStage1 would show.

What it models (dbus/org.ccy.PowerStage1.xml says what each mode means):
- the output voltage ramps toward the setpoint at ``slew_v_per_s`` while on, and falls along
  the discharge slope ``discharge_v_per_s`` when Off (below 60 V within
  ``safe_voltage_time_s()``); Discharge discharges like Off and turns Off by itself below 60 V;
- in Charge the EV's contactors are closed and the current follows the setpoint through the
  EV load (ccy.profinet.stage.load) at ``current_slew_a_per_s``, limited by the voltage
  setpoint and MaxPower; in CableCheck/PreCharge it is zero (nothing but the inlet's
  capacitance to charge);
- the insulation monitor measures ``isolation_delay_s`` after the CableCheck voltage is
  reached and keeps measuring while on (ccy.profinet.stage.isolation);
- the meter integrates V·I into Wh;
- the setpoint lease: on without a fresh SetMode/SetTarget for ``lease_s`` → Off and
  LeaseExpired;
- faults to inject: supply fault, isolation fault, self-test failure, over-current (the model
  regulates and cannot overshoot by itself: after lower limits the current ramps down), and
  new dynamic limits at any time.
Setpoints above the limits are clamped (``clamp_target``), never refused: the hot path sends
SetTarget without waiting for a reply, so a refusal would go unseen.
"""

import math
from dataclasses import dataclass, field
from enum import StrEnum

from ccy.profinet.contract import (
    ISOLATION_FAULT,
    ISOLATION_WARNING,
    LEASE_EXPIRED,
    LEASE_S,
    OVER_CURRENT,
    POWER_STAGE,
    SAFE_VOLTAGE_V,
    SELF_TEST_FAILED,
    SUPPLY_FAULT,
    IsolationStatus,
    Mode,
    SelfTest,
)
from ccy.profinet.stage.isolation import classify
from ccy.profinet.stage.load import EvLoad
from ccy.runtime.refusal import Refusal

ON_MODES = (Mode.CABLE_CHECK, Mode.PRE_CHARGE, Mode.CHARGE)
"""Modes that deliver power: they need the lease and a ready supply."""
SAFE_MODES = (Mode.OFF, Mode.DISCHARGE)
"""Modes that are always accepted."""
MEASURED = (IsolationStatus.VALID, IsolationStatus.WARNING, IsolationStatus.NO_IMD)
"""Isolation outcomes that let PreCharge and Charge start."""
STOPPING = frozenset(e.name for e in POWER_STAGE.errors if e.stops_power) - {LEASE_EXPIRED.name}
"""Errors that keep the stage Off until cleared (LeaseExpired clears with the next input)."""
RETESTED_IN_CABLE_CHECK = frozenset({SELF_TEST_FAILED.name})
"""Stopping errors that do not block SetMode("CableCheck"): the cable check's StartSelfTest
tests the IMD again and clears it (else nothing could ever clear it); PreCharge and Charge
stay blocked until then."""


def blocking_errors(errors: set[str], mode: Mode) -> list[str]:
    """The active errors that refuse SetMode(``mode``) (a mode other than Off), sorted."""
    blocking = errors & STOPPING
    if mode is Mode.CABLE_CHECK:
        blocking -= RETESTED_IN_CABLE_CHECK
    return sorted(blocking)


@dataclass(frozen=True)
class Limits:
    """The dynamic limits (PowerStage1 MaxVoltage …); MCS-sized defaults, min as the seed's
    power stage ("set: 800V/10A, requested was 800V/2A")."""

    max_voltage_v: float = 1250.0
    min_voltage_v: float = 50.0
    max_current_a: float = 3000.0
    min_current_a: float = 10.0
    max_power_w: float = 3_750_000.0


@dataclass(frozen=True)
class StageConfig:
    limits: Limits = Limits()
    slew_v_per_s: float = 500.0
    discharge_v_per_s: float = 1500.0
    """Falling slope when Off: from 1,500 V below 60 V in 0.96 s."""
    current_slew_a_per_s: float = 1000.0
    lease_s: float = LEASE_S
    precharge_current_a: float = 2.0
    """IEC 61851-23: the precharge current is limited to 2 A."""
    isolation_ohm: float = 10e6
    isolation_delay_s: float = 0.5
    """The IMD's measuring time once the cable-check voltage is reached."""
    voltage_reached_fraction: float = 0.01
    """Within 1 % of the setpoint counts as reached."""
    self_test_s: float = 0.5
    imd_installed: bool = True
    step_s: float = 0.005
    """Integration step of ``advance``."""


class Fault(StrEnum):
    """Faults a test can inject (and clear)."""

    SUPPLY = "supply"
    ISOLATION = "isolation"
    SELF_TEST = "self-test"
    OVER_CURRENT = "over-current"


ISOLATION_FAULT_OHM = 10e3
"""The resistance an injected isolation fault shows (a fault at any voltage above 100 V)."""


class RefusalKind(StrEnum):
    """The org.ccy.Error.<kind> a bus server answers with."""

    INVALID_ARGUMENT = "InvalidArgument"
    NOT_PERMITTED = "NotPermitted"
    NOT_READY = "NotReady"


class Refused(Refusal):
    """The input was refused; nothing changed."""

    def __init__(self, kind: RefusalKind, message: str) -> None:
        super().__init__(kind, message)


@dataclass(frozen=True)
class Snapshot:
    """What PowerStage1's properties show at ``time`` (field per property, snake_case)."""

    time: float
    mode: Mode
    present_voltage: float
    present_current: float
    target_voltage: float
    target_current: float
    isolation_resistance: float
    isolation_status: IsolationStatus
    self_test: SelfTest
    supply_ready: bool
    limits: Limits
    meter_energy_wh: float
    lease_s: float
    errors: frozenset[str]


def clamp_target(voltage: float, current: float, limits: Limits) -> tuple[float, float]:
    """The setpoint in force for a requested one: voltage into [min, max] (0 stays 0), current
    into [0, max] and under max power at that voltage."""
    v = 0.0 if voltage == 0 else min(max(voltage, limits.min_voltage_v), limits.max_voltage_v)
    a = min(current, limits.max_current_a)
    if v > 0:
        a = min(a, limits.max_power_w / v)
    return v, a


def _toward(value: float, goal: float, max_change: float) -> float:
    if goal > value:
        return min(goal, value + max_change)
    return max(goal, value - max_change)


@dataclass
class _State:
    time: float
    mode: Mode = Mode.OFF
    voltage: float = 0.0
    current: float = 0.0
    target_v: float = 0.0
    target_a: float = 0.0
    resistance: float = math.nan
    isolation: IsolationStatus = IsolationStatus.INVALID
    reached_since: float | None = None
    self_test: SelfTest = SelfTest.IDLE
    self_test_ends: float | None = None
    energy_wh: float = 0.0
    lease_until: float = 0.0
    errors: set[str] = field(default_factory=set)
    faults: set[Fault] = field(default_factory=set)


class PowerStageModel:
    def __init__(
        self, config: StageConfig | None = None, load: EvLoad | None = None, now: float = 0.0
    ) -> None:
        self.config = config or StageConfig()
        self.limits = self.config.limits
        self.load = load or EvLoad()
        self.isolation_ohm = self.config.isolation_ohm
        """What the IMD measures when no isolation fault is injected (a test may change it)."""
        self._s = _State(time=now)

    # ------------------------------------------------------------------ inputs
    def set_mode(self, mode: Mode, now: float) -> Snapshot:
        """SetMode: see the XML for the rules; Refused leaves everything as it was."""
        self.advance(now)
        s = self._s
        if mode not in SAFE_MODES:
            if Fault.SUPPLY in s.faults:
                raise Refused(RefusalKind.NOT_READY, "the supply is not ready (SupplyFault)")
            blocking = blocking_errors(s.errors, mode)
            if blocking:
                raise Refused(RefusalKind.NOT_PERMITTED, f"{', '.join(blocking)} active")
            needs_isolation = mode in (Mode.PRE_CHARGE, Mode.CHARGE)
            if needs_isolation and self._isolation_outcome() not in MEASURED:
                raise Refused(
                    RefusalKind.NOT_PERMITTED,
                    f"{mode} needs a Valid or Warning isolation measurement (CableCheck first)",
                )
        self._renew(now)
        if mode in SAFE_MODES:
            self._switch_off()
            if mode is Mode.DISCHARGE and s.voltage >= SAFE_VOLTAGE_V:
                s.mode = Mode.DISCHARGE
        else:
            if mode is Mode.CABLE_CHECK and s.mode is not Mode.CABLE_CHECK:
                s.reached_since = None
            s.mode = mode
        return self.snapshot()

    def set_target(self, voltage: float, current: float, now: float) -> Snapshot:
        """SetTarget: NaN, infinite or negative values are refused; the rest is clamped."""
        for name, value in (("voltage", voltage), ("current", current)):
            if not math.isfinite(value) or value < 0:
                raise Refused(RefusalKind.INVALID_ARGUMENT, f"{name} {value} is not a value ≥ 0")
        self.advance(now)
        self._s.target_v, self._s.target_a = clamp_target(voltage, current, self.limits)
        self._renew(now)
        return self.snapshot()

    def start_self_test(self, now: float) -> Snapshot:
        self.advance(now)
        s = self._s
        if s.mode is Mode.CHARGE:
            raise Refused(RefusalKind.NOT_PERMITTED, "no IMD self-test while charging")
        s.self_test, s.self_test_ends = SelfTest.RUNNING, now + self.config.self_test_s
        s.errors.discard(SELF_TEST_FAILED.name)
        return self.snapshot()

    def set_limits(self, limits: Limits, now: float) -> Snapshot:
        """New dynamic limits (the PLC derates): the setpoints in force are clamped again."""
        self.advance(now)
        self.limits = limits
        s = self._s
        s.target_v, s.target_a = clamp_target(s.target_v, s.target_a, limits)
        return self.snapshot()

    def set_load(self, load: EvLoad, now: float) -> Snapshot:
        self.advance(now)
        self.load = load
        return self.snapshot()

    def set_isolation_resistance(self, ohm: float, now: float) -> Snapshot:
        """The insulation the IMD will measure from now on (e.g. a Warning value)."""
        self.advance(now)
        self.isolation_ohm = ohm
        return self.snapshot()

    def inject(self, fault: Fault, now: float) -> Snapshot:
        self.advance(now)
        s = self._s
        s.faults.add(fault)
        if fault is Fault.SUPPLY:
            s.errors.add(SUPPLY_FAULT.name)
            self._switch_off()
        elif fault is Fault.OVER_CURRENT:
            s.errors.add(OVER_CURRENT.name)
            self._switch_off()
        elif fault is Fault.ISOLATION and not math.isnan(s.resistance):  # measuring now
            self._measure(now)
        return self.snapshot()

    def clear(self, fault: Fault, now: float) -> Snapshot:
        """The fault is gone; its error clears (the stage stays Off until asked again)."""
        self.advance(now)
        s = self._s
        s.faults.discard(fault)
        names = {
            Fault.SUPPLY: SUPPLY_FAULT.name,
            Fault.OVER_CURRENT: OVER_CURRENT.name,
            Fault.ISOLATION: ISOLATION_FAULT.name,
            Fault.SELF_TEST: SELF_TEST_FAILED.name,
        }
        s.errors.discard(names[fault])
        return self.snapshot()

    # ------------------------------------------------------------------ time
    def advance(self, now: float) -> Snapshot:
        """Run the stage up to ``now`` (earlier times are ignored: inputs never go back)."""
        s = self._s
        while s.time < now:
            step_end = min(now, s.time + self.config.step_s)
            if s.mode in ON_MODES and s.lease_until <= step_end:
                step_end = max(s.time, s.lease_until)
                self._step(step_end - s.time)
                s.time = step_end
                s.errors.add(LEASE_EXPIRED.name)
                self._switch_off()
                continue
            if s.self_test_ends is not None and s.self_test_ends <= step_end:
                step_end = max(s.time, s.self_test_ends)
                self._step(step_end - s.time)
                s.time = step_end
                self._finish_self_test()
                continue
            self._step(step_end - s.time)
            s.time = step_end
        return self.snapshot()

    def _step(self, dt: float) -> None:
        s, c = self._s, self.config
        if dt <= 0:
            return
        if s.mode in SAFE_MODES:
            s.current = _toward(s.current, 0.0, c.current_slew_a_per_s * dt)
            s.voltage = _toward(s.voltage, 0.0, c.discharge_v_per_s * dt)
            if s.mode is Mode.DISCHARGE and s.voltage < SAFE_VOLTAGE_V:
                s.mode = Mode.OFF
        elif s.mode is Mode.CHARGE:
            limit_v = min(s.target_v, self.limits.max_voltage_v)
            goal = self.load.current_for(s.target_a, limit_v)
            if s.voltage > 0:
                goal = min(goal, self.limits.max_power_w / max(s.voltage, 1.0))
            s.current = _toward(s.current, goal, c.current_slew_a_per_s * dt)
            s.voltage = self.load.voltage_at(s.current)
        else:
            s.current = _toward(s.current, 0.0, c.current_slew_a_per_s * dt)
            s.voltage = _toward(s.voltage, s.target_v, c.slew_v_per_s * dt)
        s.energy_wh += s.voltage * s.current * dt / 3600.0
        self._isolation_step(s.time + dt)

    def _isolation_step(self, now: float) -> None:
        s, c = self._s, self.config
        if s.mode in SAFE_MODES:
            return
        if s.mode is Mode.CABLE_CHECK:
            if s.reached_since is None:
                tolerance = c.voltage_reached_fraction * s.target_v
                if s.target_v > 0 and abs(s.voltage - s.target_v) <= tolerance:
                    s.reached_since = now
                return
            if now - s.reached_since < c.isolation_delay_s:
                return
        self._measure(now)

    def _measure(self, now: float) -> None:
        s = self._s
        if not self.config.imd_installed:
            s.isolation = IsolationStatus.NO_IMD
            return
        faulty = Fault.ISOLATION in s.faults
        s.resistance = ISOLATION_FAULT_OHM if faulty else self.isolation_ohm
        s.isolation = classify(s.resistance, max(s.voltage, s.target_v))
        if s.isolation is IsolationStatus.WARNING:
            s.errors.add(ISOLATION_WARNING.name)
        else:
            s.errors.discard(ISOLATION_WARNING.name)
        if s.isolation is IsolationStatus.FAULT:
            s.errors.add(ISOLATION_FAULT.name)
            self._switch_off(keep_isolation=True)

    def _finish_self_test(self) -> None:
        s = self._s
        s.self_test_ends = None
        if Fault.SELF_TEST in s.faults:
            s.self_test = SelfTest.FAILED
            s.errors.add(SELF_TEST_FAILED.name)
            self._switch_off()
        else:
            s.self_test = SelfTest.PASSED

    def _switch_off(self, keep_isolation: bool = False) -> None:
        s = self._s
        s.mode = Mode.OFF
        s.reached_since = None
        if not keep_isolation:
            s.resistance, s.isolation = math.nan, IsolationStatus.INVALID

    def _renew(self, now: float) -> None:
        self._s.lease_until = now + self.config.lease_s
        self._s.errors.discard(LEASE_EXPIRED.name)

    def _isolation_outcome(self) -> IsolationStatus:
        if not self.config.imd_installed:
            return IsolationStatus.NO_IMD
        return self._s.isolation

    # ------------------------------------------------------------------ output
    def safe_voltage_time_s(self) -> float:
        """Longest time from Off to below 60 V: from MaxVoltage along the discharge slope."""
        return max(0.0, self.limits.max_voltage_v - SAFE_VOLTAGE_V) / self.config.discharge_v_per_s

    def snapshot(self) -> Snapshot:
        s = self._s
        return Snapshot(
            time=s.time,
            mode=s.mode,
            present_voltage=s.voltage,
            present_current=s.current,
            target_voltage=s.target_v,
            target_current=s.target_a,
            isolation_resistance=s.resistance,
            isolation_status=self._isolation_outcome(),
            self_test=s.self_test,
            supply_ready=Fault.SUPPLY not in s.faults,
            limits=self.limits,
            meter_energy_wh=s.energy_wh,
            lease_s=self.config.lease_s,
            errors=frozenset(s.errors),
        )
