# SPDX-License-Identifier: Apache-2.0
"""The physical phases of a session: cable check, precharge, the stop sequence and welding
detection (IEC 61851-23 DC as the seed runs it). A mixin of :class:`ccy.evse.core.EvseCore`:
each ``_advance_*`` runs on every input (peer update, tick, the vehicle's call) and moves its
phase on when the power stage or ccy-bsp shows the next condition, or fails it on timeout.

Cable check (first CableCheck call, CE C, authorized):
  <60V       wait until the output is below 60 V
  Relay On   Bsp1.AllowPowerOn(true); PowerOnAllowed, then contactor_close_time_s
  EVInfo     the EV's maximum voltage (from ChargeParameters)
  VRampUp    SetTarget(min(EV max, EVSE max, cable_check_voltage_V), max(cable_check_current_A,
             stage MinCurrent)), SetMode(CableCheck); until the voltage is reached
  Self test  PowerStage1.StartSelfTest; until Passed (imd_self_test)
  Measure    cable_check_isolation_samples measurements, each Valid/Warning and above
             isolation_fault_threshold_ohmPerV x V
  then the stage is set to 0 V (still CableCheck, so the measurement stays valid for
  PreCharge) and the check is Finished once the output is below 60 V.
Stop sequence (a normal stop): SetMode(Off); once the current is below
stop_current_threshold_A (or after stop_current_timeout_s) AllowPowerOn(false). An
EmergencyShutdown opens the contactor in the same input. Welding: after the contactor opened
the output must fall below 60 V within welding_timeout_s.
"""

import logging
import math
from abc import ABC, abstractmethod

from ccy.evse import contract as c
from ccy.evse import timing as t
from ccy.evse.effects import Effect, StageMode, StageSelfTest, StageTarget
from ccy.evse.errors_table import Stop
from ccy.evse.limits import Limits
from ccy.evse.session import CableStep, Session, Step, StopStep
from ccy.evse.settings import EvseSettings
from ccy.evse.state import BspView, EvseState, StageView
from ccy.evse.wording import supply_set_line
from ccy.profinet.contract import SAFE_VOLTAGE_V, Mode
from ccy.runtime.contract import ErrorSpec

MEASURED = ("Valid", "Warning", "NoImd")


class Phases(ABC):
    settings: EvseSettings
    log: logging.Logger
    state: EvseState
    bsp: BspView
    stage: StageView
    session: Session | None
    _fx: list[Effect]
    _want_power: bool
    _stage_sent_at: float

    # provided by the core (EvseCore)
    @abstractmethod
    def _fail(self, now: float, spec: ErrorSpec, subtype: str, message: str) -> None: ...

    @abstractmethod
    def _limits(self) -> Limits: ...

    @abstractmethod
    def _set_step(self, now: float, step: Step) -> None: ...

    def _stage_target(self, now: float, voltage: float, current: float) -> None:
        self._fx.append(StageTarget(voltage, current))
        self._stage_sent_at = now
        self.state.target_voltage, self.state.target_current = voltage, current

    def _stage_mode(self, now: float, mode: Mode) -> None:
        self._fx.append(StageMode(mode.value))
        self._stage_sent_at = now

    # ---------------------------------------------------------------- cable check
    def _begin_cable_check(self, s: Session, now: float) -> None:
        self.log.info("EVSE ISO Start cable check...")
        s.timing.begin(t.CABLE_CHECK, now)
        s.cable, s.cable_start, s.step_since = CableStep.BELOW_60V, now, now
        s.relay_at, s.samples, s.self_test_running = None, 0, False
        s.isolation_measured = False
        self._set_step(now, Step.CABLE_CHECK)

    def _restart_cable_check(self, s: Session, now: float) -> None:
        """The cable check again from its first step (after a PLC reconnect: the stage went
        Off and forgot its measurement). The contactor request stays; the ramp-up sends
        SetTarget and SetMode("CableCheck") again."""
        self.log.warning("CableCheck: the power stage is back after a PLC reconnect: restarting")
        s.cable, s.cable_start, s.step_since = CableStep.BELOW_60V, now, now
        s.relay_at, s.samples, s.self_test_running = None, 0, False
        s.isolation_measured = False

    def _advance_cable(self, s: Session, now: float, sample: bool = False) -> None:
        cfg = self.settings
        if s.step is not Step.CABLE_CHECK or s.cable is None:
            return
        if now - s.cable_start > cfg.cable_check_timeout_s:
            self._fail(now, c.CABLE_CHECK_FAILED, "Timeout", f"no result in step {s.cable}")
            return
        if s.cable is CableStep.BELOW_60V and self.stage.voltage < SAFE_VOLTAGE_V:
            # (NaN while the PLC's data is invalid: not below, so this waits)
            s.timing.mark(t.BELOW_60V, now)
            s.cable, s.step_since = CableStep.RELAY, now
            self._want_power = True
        if s.cable is CableStep.RELAY and self.bsp.power_on_allowed:
            if s.relay_at is None:
                s.relay_at = now
            if now - s.relay_at >= cfg.contactor_close_time_s - 1e-6:
                self.log.info("EVSE IEC Event PowerOn")
                s.timing.mark(t.RELAY_ON, now)
                s.cable = CableStep.EV_INFO
        if s.cable is CableStep.EV_INFO and not math.isnan(s.ev_max_v):
            self._start_ramp(s, now)
        if s.cable is CableStep.RAMP:
            reached = (
                abs(self.stage.voltage - s.check_voltage) <= cfg.cable_check_voltage_tolerance_V
            )
            if self.stage.mode == Mode.CABLE_CHECK and reached:
                s.timing.mark(t.RAMP_UP, now)
                s.step_since = now
                if cfg.imd_self_test:
                    self._fx.append(StageSelfTest())
                    s.cable = CableStep.SELF_TEST
                else:
                    s.timing.mark(t.SELF_TEST, now)
                    self._begin_measure(s, now)
        if s.cable is CableStep.SELF_TEST:
            self._advance_self_test(s, now)
        if s.cable is CableStep.MEASURE and sample:
            self._take_sample(s, now)
        if s.cable is CableStep.DISCHARGE and self.stage.voltage < SAFE_VOLTAGE_V:
            s.cable = CableStep.DONE
            s.timing.begin(t.PREPARE_CHARGING, now)
            self._set_step(now, Step.CABLE_CHECK_DONE)

    def _start_ramp(self, s: Session, now: float) -> None:
        cfg, lim = self.settings, self._limits()
        self.log.info("EV reports %g V as maximum voltage", s.ev_max_v)
        s.timing.mark(t.EV_INFO, now)
        volts = min(s.ev_max_v, lim.max_voltage_v, cfg.cable_check_voltage_V)
        amps = max(cfg.cable_check_current_A, lim.min_current_a)
        s.check_voltage, s.check_current = volts, amps
        self.log.info("%s", supply_set_line(volts, amps, volts, cfg.cable_check_current_A))
        self.log.info("CableCheck: Using %g V", volts)
        self._stage_target(now, volts, amps)
        self._stage_mode(now, Mode.CABLE_CHECK)
        self.log.info("EVSE IEC DC power supply: switch ON called, ChargingPhase: CableCheck")
        s.cable, s.step_since = CableStep.RAMP, now

    def _advance_self_test(self, s: Session, now: float) -> None:
        result = self.stage.self_test
        if result == "Running":
            s.self_test_running = True
        elif s.self_test_running and result == "Passed":
            s.timing.mark(t.SELF_TEST, now)
            self._begin_measure(s, now)
            return
        elif result == "Failed" and s.self_test_running:
            self._fail(now, c.CABLE_CHECK_FAILED, "SelfTest", "the IMD self-test failed")
            return
        if now - s.step_since > self.settings.imd_self_test_timeout_s:
            self._fail(now, c.CABLE_CHECK_FAILED, "SelfTest", "no IMD self-test result in time")

    def _begin_measure(self, s: Session, now: float) -> None:
        n = self.settings.cable_check_isolation_samples
        self.log.info("CableCheck: Waiting for %d isolation measurement sample(s)", n)
        s.cable, s.step_since, s.samples = CableStep.MEASURE, now, 0
        self._take_sample(s, now)

    def _take_sample(self, s: Session, now: float) -> None:
        cfg, st = self.settings, self.stage
        if st.isolation not in MEASURED and st.isolation != "Fault":
            return
        volts = max(st.voltage, s.check_voltage, 1.0)
        ohm = st.isolation_ohm
        s.isolation_measured = True
        if st.isolation == "Fault" or ohm < cfg.isolation_fault_threshold_ohmPerV * volts:
            self._fail(
                now, c.CABLE_CHECK_FAILED, "Isolation", f"insulation {ohm:g} ohm at {volts:g} V"
            )
            return
        if ohm < cfg.isolation_warning_threshold_ohmPerV * volts:
            self.log.warning(
                "Isolation %g ohm at %g V is below the warning threshold %g ohm/V",
                ohm,
                volts,
                cfg.isolation_warning_threshold_ohmPerV,
            )
        s.samples += 1
        if s.samples < cfg.cable_check_isolation_samples:
            return
        if st.isolation == "NoImd":
            self.log.warning("EVSE IEC Isolation measurement: no IMD installed")
        elif st.isolation == "Warning":
            self.log.warning("EVSE IEC Isolation measurement Warning R_F %g.", ohm)
        else:
            self.log.info("EVSE IEC Isolation measurement Ok R_F %g.", ohm)
        s.timing.mark(t.MEASURE, now)
        self._stage_target(now, 0.0, s.check_current)
        s.cable, s.step_since = CableStep.DISCHARGE, now

    # ---------------------------------------------------------------- precharge
    def _advance_precharge(self, s: Session, now: float) -> None:
        if s.step is not Step.PRECHARGE:
            return
        if abs(self.stage.voltage - s.precharge_v) <= self.settings.precharge_tolerance_V and (
            self.stage.mode == Mode.PRE_CHARGE
        ):
            self._set_step(now, Step.PRECHARGE_DONE)
        elif now - s.precharge_since > self.settings.precharge_timeout_s:
            self._fail(now, c.PRE_CHARGE_FAILED, "", f"{s.precharge_v:g} V not reached")

    # ---------------------------------------------------------------- stop sequence
    def _begin_stop(self, s: Session, now: float, kind: Stop) -> None:
        """Withdraw power: the stage Off now; the contactor now (EmergencyShutdown) or once
        the current is below the threshold (Terminate)."""
        if self.stage.mode != Mode.OFF or s.step in (Step.POWER_ON, Step.CHARGING):
            self._stage_mode(now, Mode.OFF)
        self.state.target_current = 0.0
        s.cable = None if s.cable is not CableStep.DONE else s.cable
        if kind is Stop.EMERGENCY or not self.bsp.power_on_allowed or self._current_unknown_off():
            self._open_contactor(s, now)
        elif s.stop_step is None:
            s.stop_step, s.stop_since = StopStep.CURRENT_DOWN, now

    def _current_unknown_off(self) -> bool:
        """The current cannot be measured (NaN: the PLC's data is not valid) and the stage is
        off (it shows Mode Off, or it is gone from the bus): nothing is gained by waiting for
        a current that cannot be seen to fall, so the contactor opens at once (issue 15: any
        unit killed → safe within 200 ms)."""
        st = self.stage
        return not st.present or (st.mode == Mode.OFF and math.isnan(st.current))

    def _open_contactor(self, s: Session, now: float) -> None:
        self._want_power = False
        if s.stop_step is not StopStep.OPEN:
            s.stop_step, s.stop_since = StopStep.OPEN, now
            s.open_at = now
            if self.bsp.power_on_allowed:
                self.log.info("EVSE IEC Event PowerOff")

    def _advance_stop(self, s: Session, now: float) -> None:
        if s.stop_step is StopStep.CURRENT_DOWN:
            below = abs(self.stage.current) < self.settings.stop_current_threshold_A
            if below:
                self.log.info("EVSE IEC DC power supply OFF")
                self._open_contactor(s, now)
            elif self._current_unknown_off():
                self.log.warning(
                    "Opening the contactor now: the power stage is off and its current unknown"
                )
                self._open_contactor(s, now)
            elif now - s.stop_since > self.settings.stop_current_timeout_s:
                self.log.warning(
                    "Opening the contactor at %.1f A: the current did not fall below %g A in %g s",
                    self.stage.current,
                    self.settings.stop_current_threshold_A,
                    self.settings.stop_current_timeout_s,
                )
                self._open_contactor(s, now)
        if s.stop_step is StopStep.OPEN and s.open_at is not None and not s.welding_ok:
            if self.stage.voltage < SAFE_VOLTAGE_V:
                s.welding_ok = True
            elif now - s.open_at > self.settings.welding_timeout_s:
                s.welding_ok = True  # decided: raised once
                self._fail(
                    now,
                    c.WELDING_DETECTED,
                    "",
                    f"{self.stage.voltage:.0f} V {self.settings.welding_timeout_s:g} s after the "
                    "contactor opened",
                )
