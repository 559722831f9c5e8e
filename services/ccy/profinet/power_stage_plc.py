# SPDX-License-Identifier: Apache-2.0
"""org.ccy.PowerStage1 driven by the PLC's cyclic data (profinet.mode plc), pure.

The same commands and the same :class:`Snapshot` as the simulated model
(ccy.profinet.stage.model), so one server serves either. Setpoints and the requested mode go
out in the charger's input data (:meth:`PlcPowerStage.outputs` → io_layout.ChargerToPlc
fields); readings, limits, isolation, meter and faults come in with the PLC's output data
(:meth:`PlcPowerStage.plc_data`, io_layout.PlcToCharger). Every input carries its time.

Safety rules (dbus/org.ccy.PowerStage1.xml):
- the stage is Off at once when the PLC is lost (:meth:`plc_lost`: AR aborted, data-hold
  time expired, released, IOPS bad); :mod:`ccy.profinet.reconnect` decides between waiting
  (PlcReconnecting, before current flows) and stopping (PlcLost); after a resume the isolation
  measurement is forgotten, so PreCharge/Charge need a new CableCheck;
- a PLC fault (SupplyFault bit, PLC emergency stop), its over-current bit or a current above
  MaxCurrent by ``over_current_margin``, an isolation Fault while on, a failed IMD self-test:
  Off first, then the error;
- the setpoint lease and the caller's vanishing (the server) as in the simulated stage;
- PresentVoltage/PresentCurrent/IsolationResistance are NaN while no PLC data is valid: an
  unknown voltage is never shown as a safe 0 V.
"""

import math
from dataclasses import dataclass, field

from ccy.profinet.contract import (
    ISOLATION_FAULT,
    ISOLATION_WARNING,
    LEASE_EXPIRED,
    OVER_CURRENT,
    PLC_LOST,
    PLC_RECONNECTING,
    SAFE_VOLTAGE_V,
    SELF_TEST_FAILED,
    SUPPLY_FAULT,
    IsolationStatus,
    Mode,
    SelfTest,
)
from ccy.profinet.io_layout import (
    NO_PLC_STATUS,
    IsolationCode,
    PlcStatus,
    PlcToCharger,
    StageMode,
)
from ccy.profinet.reconnect import Reconnect, Verdict
from ccy.profinet.stage.model import (
    MEASURED,
    ON_MODES,
    SAFE_MODES,
    Limits,
    RefusalKind,
    Refused,
    Snapshot,
    blocking_errors,
    clamp_target,
)

ISOLATION_BY_CODE = {
    IsolationCode.INVALID: IsolationStatus.INVALID,
    IsolationCode.VALID: IsolationStatus.VALID,
    IsolationCode.WARNING: IsolationStatus.WARNING,
    IsolationCode.FAULT: IsolationStatus.FAULT,
    IsolationCode.NO_IMD: IsolationStatus.NO_IMD,
}
WIRE_MODE = {
    Mode.OFF: StageMode.OFF,
    Mode.CABLE_CHECK: StageMode.CABLE_CHECK,
    Mode.PRE_CHARGE: StageMode.PRE_CHARGE,
    Mode.CHARGE: StageMode.CHARGE,
    Mode.DISCHARGE: StageMode.DISCHARGE,
}
NO_LIMITS = Limits(0.0, 0.0, 0.0, 0.0, 0.0)
"""Before the PLC's first data: nothing can be delivered, setpoints clamp to 0."""


@dataclass(frozen=True)
class PlcStageConfig:
    lease_s: float = 1.0
    reconnect_grace_s: float = 10.0
    reconnect_current_a: float = 1.0
    over_current_margin: float = 0.10
    """OverCurrent above MaxCurrent × (1 + margin)."""
    self_test_timeout_s: float = 10.0


@dataclass(frozen=True)
class StageOutputs:
    """The power stage's part of the charger's input data (io_layout.ChargerToPlc)."""

    requested_mode: StageMode
    target_voltage: float
    target_current: float
    self_test_request: bool


@dataclass
class _State:
    time: float
    mode: Mode = Mode.OFF
    target_v: float = 0.0
    target_a: float = 0.0
    lease_until: float = 0.0
    measured: bool = False
    """A Valid/Warning/NoImd isolation result was seen in CableCheck since the last Off."""
    self_test: SelfTest = SelfTest.IDLE
    self_test_deadline: float | None = None
    self_test_bits: PlcStatus = NO_PLC_STATUS
    self_test_running_seen: bool = False
    errors: set[str] = field(default_factory=set)


class PlcPowerStage:
    """PowerStage1 over the PLC's data; see the module docstring for the rules."""

    def __init__(self, config: PlcStageConfig | None = None, now: float = 0.0) -> None:
        self.config = c = config or PlcStageConfig()
        self.reconnect = Reconnect(c.reconnect_grace_s, c.reconnect_current_a)
        self.data: PlcToCharger | None = None
        """The PLC's latest valid data; None while the PLC is not connected."""
        self.last_verdict = Verdict.NONE
        self._meter_wh = 0.0
        """The meter register as last reported (kept while the PLC is away: never decreases)."""
        self._s = _State(time=now)

    # ------------------------------------------------------------------ derived
    @property
    def connected(self) -> bool:
        return self.data is not None

    @property
    def limits(self) -> Limits:
        d = self.data
        if d is None:
            return NO_LIMITS
        values = [d.max_voltage, d.min_voltage, d.max_current, d.min_current, d.max_power]
        if not all(math.isfinite(v) and v >= 0 for v in values):
            return NO_LIMITS  # a PLC sending nonsense limits gets no power
        return Limits(*values)

    def _supply_ready(self) -> bool:
        d = self.data
        return (
            d is not None
            and PlcStatus.SUPPLY_READY in d.status
            and not d.status & (PlcStatus.SUPPLY_FAULT | PlcStatus.PLC_EMERGENCY_STOP)
        )

    def _isolation(self) -> tuple[float, IsolationStatus]:
        d, s = self.data, self._s
        if d is None:
            return math.nan, IsolationStatus.INVALID
        if PlcStatus.IMD_INSTALLED not in d.status:
            return math.nan, IsolationStatus.NO_IMD
        if ISOLATION_FAULT.name in s.errors:
            return d.isolation_ohm, IsolationStatus.FAULT
        if s.mode not in ON_MODES:
            return math.nan, IsolationStatus.INVALID
        if s.mode is not Mode.CABLE_CHECK and not s.measured:
            return math.nan, IsolationStatus.INVALID
        return d.isolation_ohm, ISOLATION_BY_CODE[d.isolation_status]

    # ------------------------------------------------------------------ commands
    def set_mode(self, mode: Mode, now: float) -> Snapshot:
        self.advance(now)
        s = self._s
        if mode not in SAFE_MODES:
            if not self._supply_ready():
                why = "the PLC is not connected" if self.data is None else "SupplyReady is false"
                raise Refused(RefusalKind.NOT_READY, f"the supply is not ready ({why})")
            blocking = blocking_errors(s.errors, mode)
            if blocking:
                raise Refused(RefusalKind.NOT_PERMITTED, f"{', '.join(blocking)} active")
            _, status = self._isolation()
            needs = mode in (Mode.PRE_CHARGE, Mode.CHARGE)
            if needs and not (s.measured or status is IsolationStatus.NO_IMD):
                raise Refused(
                    RefusalKind.NOT_PERMITTED,
                    f"{mode} needs a Valid or Warning isolation measurement (CableCheck first)",
                )
        self._renew(now)
        if mode is Mode.DISCHARGE and not self._below_safe_voltage():
            self._switch_off()
            s.mode = Mode.DISCHARGE
        elif mode in SAFE_MODES:
            self._switch_off()
        else:
            s.mode = mode
            self._judge_isolation()
        return self.snapshot()

    def set_target(self, voltage: float, current: float, now: float) -> Snapshot:
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
        if self.data is None:
            raise Refused(RefusalKind.NOT_READY, "the PLC is not connected")
        s.self_test, s.self_test_deadline = SelfTest.RUNNING, now + self.config.self_test_timeout_s
        s.self_test_bits = self.data.status & _SELF_TEST_BITS
        s.self_test_running_seen = False
        s.errors.discard(SELF_TEST_FAILED.name)
        return self.snapshot()

    # ------------------------------------------------------------------ the PLC
    def plc_data(self, data: PlcToCharger, now: float) -> Snapshot:
        """Valid output data of the PLC (IOPS good, DataStatus valid and run)."""
        self.advance(now)
        s = self._s
        was_connected = self.data is not None
        self.data = data
        if not was_connected:
            self.last_verdict = verdict = self.reconnect.back(now)
            s.errors.discard(PLC_LOST.name)
            s.errors.discard(PLC_RECONNECTING.name)
            if verdict is Verdict.RESUME:
                s.measured = False  # a new cable check before PreCharge/Charge
        self._judge_faults()
        self._judge_isolation()
        self._judge_self_test(now)
        if s.mode is Mode.DISCHARGE and self._below_safe_voltage():
            s.mode = Mode.OFF
        self._meter_wh = max(self._meter_wh, float(data.meter_energy))
        s.target_v, s.target_a = clamp_target(s.target_v, s.target_a, self.limits)
        return self.snapshot()

    def plc_lost(self, now: float, reason: str = "") -> Snapshot:
        """The PLC's data is gone: Off at once, then what the loss means (reconnect)."""
        self.advance(now)
        s = self._s
        if self.data is None:
            return self.snapshot()
        mode, current = s.mode, self.data.present_current
        self._switch_off()
        self.data = None
        self.last_verdict = verdict = self.reconnect.lost(now, mode, current)
        if verdict is Verdict.STOP:
            s.errors.add(PLC_LOST.name)
        elif verdict is Verdict.WAIT:
            s.errors.add(PLC_RECONNECTING.name)
        if s.self_test is SelfTest.RUNNING:
            self._finish_self_test(passed=False)
        return self.snapshot()

    # ------------------------------------------------------------------ time
    def advance(self, now: float) -> Snapshot:
        s = self._s
        if now <= s.time:
            return self.snapshot()
        s.time = now
        if s.mode in ON_MODES and s.lease_until <= now:
            self._switch_off()
            s.errors.add(LEASE_EXPIRED.name)
        if self.reconnect.tick(now) is Verdict.EXPIRED:
            self.last_verdict = Verdict.EXPIRED
            s.errors.discard(PLC_RECONNECTING.name)
            s.errors.add(PLC_LOST.name)
        if s.self_test_deadline is not None and now >= s.self_test_deadline:
            self._finish_self_test(passed=False)
        return self.snapshot()

    # ------------------------------------------------------------------ rules
    def _judge_faults(self) -> None:
        d, s = self.data, self._s
        assert d is not None
        supply_fault = bool(d.status & (PlcStatus.SUPPLY_FAULT | PlcStatus.PLC_EMERGENCY_STOP))
        limit = max(d.max_current, 0.0) * (1.0 + self.config.over_current_margin)
        measured_over = not d.present_current <= limit  # NaN counts while on
        if math.isnan(d.present_current) and s.mode not in ON_MODES:
            measured_over = False
        over = PlcStatus.OVER_CURRENT in d.status or measured_over
        for active, spec in ((supply_fault, SUPPLY_FAULT), (over, OVER_CURRENT)):
            if active:
                if s.mode in ON_MODES:
                    self._switch_off()
                s.errors.add(spec.name)
            else:
                s.errors.discard(spec.name)

    def _judge_isolation(self) -> None:
        d, s = self.data, self._s
        if d is None:
            return
        status = ISOLATION_BY_CODE[d.isolation_status]
        if PlcStatus.IMD_INSTALLED not in d.status or s.mode not in ON_MODES:
            if ISOLATION_FAULT.name in s.errors and status is not IsolationStatus.FAULT:
                s.errors.discard(ISOLATION_FAULT.name)
            s.errors.discard(ISOLATION_WARNING.name)
            return
        if s.mode is not Mode.CABLE_CHECK and not s.measured:
            return  # a result from before the last Off does not count
        if s.mode is Mode.CABLE_CHECK and status in MEASURED:
            s.measured = True
        if status is IsolationStatus.WARNING:
            s.errors.add(ISOLATION_WARNING.name)
        else:
            s.errors.discard(ISOLATION_WARNING.name)
        if status is IsolationStatus.FAULT:
            self._switch_off()
            s.errors.add(ISOLATION_FAULT.name)
        else:
            s.errors.discard(ISOLATION_FAULT.name)

    def _judge_self_test(self, now: float) -> None:
        d, s = self.data, self._s
        if d is None or s.self_test is not SelfTest.RUNNING:
            return
        bits = d.status & _SELF_TEST_BITS
        if PlcStatus.SELF_TEST_RUNNING in bits:
            s.self_test_running_seen = True
        fresh = s.self_test_running_seen or bits != s.self_test_bits
        if fresh and PlcStatus.SELF_TEST_FAILED in bits:
            self._finish_self_test(passed=False)
        elif fresh and PlcStatus.SELF_TEST_PASSED in bits:
            self._finish_self_test(passed=True)

    def _finish_self_test(self, passed: bool) -> None:
        s = self._s
        s.self_test_deadline = None
        if passed:
            s.self_test = SelfTest.PASSED
            return
        s.self_test = SelfTest.FAILED
        self._switch_off()
        s.errors.add(SELF_TEST_FAILED.name)

    def _below_safe_voltage(self) -> bool:
        d = self.data
        return d is not None and d.present_voltage < SAFE_VOLTAGE_V

    def _switch_off(self) -> None:
        s = self._s
        s.mode = Mode.OFF
        s.measured = False

    def _renew(self, now: float) -> None:
        self._s.lease_until = now + self.config.lease_s
        self._s.errors.discard(LEASE_EXPIRED.name)

    # ------------------------------------------------------------------ output
    def outputs(self) -> StageOutputs:
        s = self._s
        return StageOutputs(
            requested_mode=WIRE_MODE[s.mode],
            target_voltage=s.target_v if s.mode in ON_MODES else 0.0,
            target_current=s.target_a if s.mode in ON_MODES else 0.0,
            self_test_request=s.self_test is SelfTest.RUNNING,
        )

    def snapshot(self) -> Snapshot:
        s, d = self._s, self.data
        resistance, status = self._isolation()
        return Snapshot(
            time=s.time,
            mode=s.mode,
            present_voltage=d.present_voltage if d is not None else math.nan,
            present_current=d.present_current if d is not None else math.nan,
            target_voltage=s.target_v,
            target_current=s.target_a,
            isolation_resistance=resistance,
            isolation_status=status,
            self_test=s.self_test,
            supply_ready=self._supply_ready(),
            limits=self.limits,
            meter_energy_wh=self._meter_wh,
            lease_s=self.config.lease_s,
            errors=frozenset(s.errors),
        )


_SELF_TEST_BITS = (
    PlcStatus.SELF_TEST_RUNNING | PlcStatus.SELF_TEST_PASSED | PlcStatus.SELF_TEST_FAILED
)
