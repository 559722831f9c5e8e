# SPDX-License-Identifier: Apache-2.0
"""The charging state machine of ccy-evse, pure: inputs carry their time, outputs are effects.

Inputs: what ccy-bsp and the power stage show (``on_bsp``/``on_stage`` with their changed
properties, ``on_*_presence`` when a name gains or loses its owner), the active errors of
every unit (``on_peer_errors``), a peer refusing a call (``on_call_failed``), the tick, and
the Evse1 methods. Each input appends effects to a buffer the glue drains (``drain``) and
carries out in order; power is always withdrawn before anything else is said. A method that
does not fit raises :class:`ccy.evse.effects.Refused` before changing anything.

The machine (IEC 61851-23 DC with ISO 15118-20 HLC, as the seed runs it): ID Connected opens a
session (MCS HLC is enabled on the MCU at start, so CE goes A→B); ccy-v2g binds its V2G
session; ccy-auth authorizes (the transaction starts); in CE C the cable check runs
(ccy.evse.phases), then precharge, PowerDelivery(Start), and Charging with the first
ChargeLoop (the timing block is logged then); a pause (EV or EVSE), a stop (power stage Off,
current below the threshold, contactor open), welding detection; unplug finishes the session.
Errors marked stopping in ccy.evse.errors_table take it to a safe stop from any state.
"""

import logging
import math
from collections.abc import Callable, Iterable

from ccy.evse import contract as c
from ccy.evse import timing as t
from ccy.evse import wording as w
from ccy.evse.contract import (
    AuthorizationStatus,
    ChargeProgress,
    ChargingSession,
    ControlMode,
    Notification,
    Processing,
    SessionEnd,
    State,
    StopReason,
    TokenType,
)
from ccy.evse.effects import (
    BspCall,
    Effect,
    Emit,
    PersistEnabled,
    RecordMeter,
    RecordSessionFinished,
    RecordSessionStarted,
    RecordTransactionStarted,
    RecordTransactionStopped,
    Refused,
    SessionLog,
)
from ccy.evse.errors_table import Rule, Stop, retested, rule_for
from ccy.evse.limits import INF, Limits, clamp_setpoint, current_limit_at, effective_limits
from ccy.evse.phases import Phases
from ccy.evse.schedule import schedule
from ccy.evse.session import LOOP_STEPS, POWER_STEPS, Session, Step, StopStep
from ccy.evse.settings import EvseSettings
from ccy.evse.state import BspView, EvseState, StageView
from ccy.evse.timing import Timing, auth_label
from ccy.profinet.contract import Mode
from ccy.runtime.contract import ErrorSpec
from ccy.runtime.errors import ErrorRegistry
from ccy.runtime.ids import uuid4_text
from ccy.runtime.journal import fields

BSP_NAME = "org.ccy.Bsp"
STAGE_NAME = "org.ccy.Profinet"
RETRY_S = 2.0
"""A Bsp1 call whose result is not shown by then (refused, lost) is sent again."""
HLC_LOG_MIN_S = 1.0
""""Change HLC Limits" at most once a second (it follows the actual voltage)."""
EXTERNAL_MAX_S = 86400.0
ERRORS_WAIT_S = 0.5
"""How long a session start waits for ccy-bsp's Errors1 after its link returned (a bound:
the update follows within milliseconds, in the same ccy-bsp input)."""
BSP_UNIT = "ccy-bsp"
STAGE_UNIT = "ccy-profinet"
PLC_RECONNECTING = "PlcReconnecting"

STATE_OF: dict[Step, State] = {
    Step.WAIT_AUTH: State.WAITING_FOR_AUTHENTICATION,
    Step.AUTHORIZED: State.PREPARE_CHARGING,
    Step.CABLE_CHECK: State.PREPARE_CHARGING,
    Step.CABLE_CHECK_DONE: State.PREPARE_CHARGING,
    Step.PRECHARGE: State.PREPARE_CHARGING,
    Step.PRECHARGE_DONE: State.PREPARE_CHARGING,
    Step.POWER_ON: State.PREPARE_CHARGING,
    Step.CHARGING: State.CHARGING,
    Step.PAUSED_EV: State.CHARGING_PAUSED_EV,
    Step.PAUSED_EVSE: State.CHARGING_PAUSED_EVSE,
    Step.STOPPING: State.STOPPING_CHARGING,
    Step.FINISHED: State.FINISHED,
    Step.FAULTED: State.FAULTED,
}
LoopResult = tuple[float, float, bool, bool, bool, float, float, float, float, str]


def _new_id() -> str:
    return uuid4_text()


class EvseCore(Phases):
    def __init__(
        self,
        settings: EvseSettings,
        errors: ErrorRegistry,
        log: logging.Logger,
        now: float,
        enabled: bool = True,
        wall_offset: float = 0.0,
        new_id: Callable[[], str] = _new_id,
        clock_synchronized: bool = True,
    ) -> None:
        """``wall_offset``: epoch seconds minus ``now`` (the glue's clock difference);
        ``clock_synchronized``: whether a time source keeps the system clock (the glue reads
        ccy.runtime.clock and passes it with every tick, like ``wall_offset``)."""
        self.settings = settings
        self.errors = errors
        self.log = log
        self.wall_offset = wall_offset
        self.clock_synchronized = clock_synchronized
        self.new_id = new_id
        self.bsp = BspView()
        self.stage = StageView()
        self.session: Session | None = None
        self.state = EvseState(
            state=State.IDLE if enabled else State.DISABLED,
            enabled=enabled,
            evse_id=settings.evse_id,
            connector_limits=settings.connector_limits,
        )
        self._fx: list[Effect] = []
        self._want_power = False
        self._stage_sent_at = now
        self._pending: dict[str, tuple[bool | str, float]] = {}
        self._peer_rules: dict[str, dict[tuple[str, str], Rule]] = {}
        self._latched: set[tuple[str, str, str]] = set()
        self._external: tuple[float, float, float] = (INF, INF, -INF)
        self._reservation_until = 0.0
        self._ready_logged = False
        self._meter_warned = False
        self._bsp_errors_due: float | None = None
        """Set when ccy-bsp's link returned while one of its stopping errors was active: no
        session starts until its Errors1 update (or ERRORS_WAIT_S)."""
        self._plc_back = False
        """PlcReconnecting cleared; the cable check restarts once SupplyReady is true."""
        self._update_waiting(now)
        self._recompute_limits()

    # ================================================================ plumbing
    def drain(self) -> list[Effect]:
        fx, self._fx = self._fx, []
        return fx

    def wall_us(self, now: float) -> int:
        return int((now + self.wall_offset) * 1_000_000)

    def _log_session(self, level: int, text: str, *args: object) -> None:
        s = self.session
        extra = fields(session=s.id, state=self.state.state) if s else None
        if s and s.tx_id:
            extra = fields(session=s.id, state=self.state.state, transaction=s.tx_id)
        self.log.log(level, text, *args, extra=extra)

    def _event(self, now: float, event: str, **values: object) -> None:
        if self.session is not None:
            self._fx.append(SessionLog(event, self.wall_us(now), dict(values)))

    def _set_state(self, now: float, new: State) -> None:
        old = self.state.state
        if old is new:
            return
        self.state.state = new
        self._log_session(logging.INFO, "%s", w.state_line(old, new))
        self._event(now, "state", old=str(old), new=str(new))

    def _set_step(self, now: float, step: Step) -> None:
        s = self.session
        assert s is not None
        s.step = step
        self._set_state(now, STATE_OF[step])

    def _idle_state(self) -> State:
        if not self.state.enabled:
            return State.DISABLED
        return State.RESERVED if self.state.reservation_id else State.IDLE

    def _meter(self) -> float | None:
        m = self.stage.meter_wh
        return None if not self.stage.present or math.isnan(m) else m

    def _limits(self) -> Limits:
        return self.state.effective_limits

    def _recompute_limits(self) -> None:
        p, a, _ = self._external
        self.state.effective_limits = effective_limits(
            self.settings.connector_limits,
            self.stage.limits if self.stage.present else None,
            self.bsp.derating,
            self.settings.grid_connection_limit_W,
            p,
            a,
        )

    def _refuse_state(self, what: str) -> Refused:
        return Refused("NotPermitted", f"{what} is not possible in state {self.state.state}")

    # ================================================================ peers
    def on_bsp_presence(
        self, now: float, present: bool, props: dict[str, object] | None = None
    ) -> None:
        """org.ccy.Bsp gained an owner (``props``: its GetAll) or lost it."""
        if not present:
            had_session_power = self.session is not None
            self.bsp = BspView()
            self._pending.clear()
            self._peer_rules.pop("ccy-bsp", None)
            if had_session_power:  # power withdrawn first, then the error said
                self._stop_for(now, c.UNIT, c.BSP_LOST.name, "ccy-bsp vanished")
            self.errors.raise_error(c.BSP_LOST)
            self._recompute_limits()
            self._after(now)
            return
        self.bsp.present = True
        self.errors.clear_error(c.BSP_LOST)
        self.on_bsp(now, props or {})

    def on_stage_presence(
        self, now: float, present: bool, props: dict[str, object] | None = None
    ) -> None:
        """org.ccy.Profinet gained an owner (``props``: the stage's GetAll) or lost it."""
        if not present:
            self.stage = StageView()
            self._peer_rules.pop("ccy-profinet", None)
            if self.session is not None:
                self._stop_for(now, c.UNIT, c.POWER_STAGE_LOST.name, "the power stage vanished")
            self.errors.raise_error(c.POWER_STAGE_LOST)
            self._recompute_limits()
            self._after(now)
            return
        self.stage.present = True
        self.errors.clear_error(c.POWER_STAGE_LOST)
        self._recompute_limits()
        self.on_stage(now, props or {})

    def on_bsp(self, now: float, props: dict[str, object]) -> None:
        """Bsp1 properties changed (or all of them, from GetAll)."""
        b = self.bsp
        old_id, old_ce, old_link = b.id, b.ce, b.link_up
        for name, value in props.items():
            attr = _BSP_ATTR.get(name)
            if attr is not None:
                setattr(b, attr, value)
        if "DeratingFactor" in props:
            self._recompute_limits()
        for name, value in props.items():
            self._pending_seen(name, value)
        s = self.session
        if s is not None and b.estop != "NoStop" and s.step not in (Step.FAULTED, Step.FINISHED):
            self._stop(s, now, Stop.EMERGENCY, StopReason.EMERGENCY_STOP, True, f"E-stop {b.estop}")
        if props.get("LinkUp") is True and not old_link:
            # ccy-bsp publishes the same input's Errors1 change (LinkLost cleared) after
            # Bsp1's: wait for it before a session starts on a stale stopping error.
            rules = self._peer_rules.get(BSP_UNIT, {}).values()
            bsp_stops = any(r.stop is not Stop.NONE for r in rules)
            self._bsp_errors_due = now + ERRORS_WAIT_S if bsp_stops else None
        if s is not None and b.id == "Unknown" and old_id == "Connected":
            self._link_lost(s, now)
        elif s is not None and b.id != "Connected" and old_id in ("Connected", "Unknown"):
            self._unplugged(now)
        elif s is not None and b.ce != old_ce:
            self._ce_changed(s, now, old_ce, b.ce)
        self._after(now)

    def on_stage(self, now: float, props: dict[str, object]) -> None:
        """PowerStage1 properties changed (or all, from GetAll): a new snapshot."""
        st = self.stage
        limits_changed = False
        for name, value in props.items():
            attr = _STAGE_ATTR.get(name)
            if attr is not None:
                setattr(st, attr, value)
            elif name in _LIMIT_FIELDS:
                st.limits = _with_limit(st.limits, name, float(value))  # type: ignore[arg-type]
                limits_changed = True
        if limits_changed:
            self._recompute_limits()
        self.state.present_voltage = st.voltage
        self.state.present_current = st.current
        if "MeterEnergy" in props and not math.isnan(st.meter_wh):
            self.errors.clear_error(c.NO_METER_VALUE)
        s = self.session
        if s is not None and s.tx_open and s.meter_start is not None and self._meter() is not None:
            self.state.energy_wh = max(0.0, st.meter_wh - s.meter_start)
        self._after(now, sample=True)

    def on_peer_errors(self, now: float, unit: str, active: Iterable[tuple[str, str, str]]) -> None:
        """The errors ``unit`` has active now: (type, subtype, severity) each."""
        rules = {(ty, sub): rule_for(unit, ty, sev) for ty, sub, sev in active}
        before = self._peer_rules.get(unit, {})
        self._peer_rules[unit] = rules
        if unit == BSP_UNIT:
            self._bsp_errors_due = None
        was = any(k[0] == PLC_RECONNECTING for k in before)
        if unit == STAGE_UNIT and was and not any(k[0] == PLC_RECONNECTING for k in rules):
            self._plc_back = True
        for key, rule in rules.items():
            if rule.stop is Stop.NONE or key in before:
                continue
            if rule.latches:
                self._latched.add((unit, *key))
            if self.session is not None:
                what = f"{unit} {key[0]}/{key[1] or '-'}"
                self._stop_for(now, unit, key[0], what, rule)  # power first
                if unit == "ccy-profinet":
                    self.errors.raise_error(c.POWER_STAGE_FAULT, key[0])
                    self.log.info("Error raised EVSEManager: connector (%s)", what)
        if unit == "ccy-profinet":
            for key in before:
                if key not in rules:
                    self.errors.clear_error(c.POWER_STAGE_FAULT, key[0])
        self._after(now)

    def _resume_after_plc(self, s: Session, now: float) -> None:
        """PlcReconnecting cleared: once SupplyReady is back, a cable check that ran when the
        PLC was lost starts again from a safe step (PowerStage1 "A lost PLC"): no current
        flowed, the stage forgot its isolation measurement."""
        if not self._plc_back or not self.stage.supply_ready:
            return
        self._plc_back = False
        if s.step is Step.CABLE_CHECK and s.stop_step is None:
            self._restart_cable_check(s, now)

    def on_call_failed(self, now: float, what: str, error: str) -> None:
        """A call to a peer was refused or failed (``what``: "Bsp1.AllowPowerOn" …)."""
        self.log.warning("%s failed: %s", what, error)
        method = what.split(".")[-1]
        if method in self._pending:
            value, _ = self._pending[method]
            self._pending[method] = (value, -INF if value is False else now)
        s = self.session
        if s is None:
            return
        if (
            what in ("PowerStage1.SetMode", "PowerStage1.StartSelfTest")
            and s.step is Step.CABLE_CHECK
        ):
            self._fail(now, c.CABLE_CHECK_FAILED, "PowerStage", error)
        elif what == "PowerStage1.SetMode" and s.step in (Step.PRECHARGE, Step.POWER_ON):
            self._fail(now, c.PRE_CHARGE_FAILED, "", error)

    def tick(
        self, now: float, wall_offset: float | None = None, clock_synchronized: bool | None = None
    ) -> None:
        if wall_offset is not None:
            self.wall_offset = wall_offset
        if clock_synchronized is not None:
            self.clock_synchronized = clock_synchronized
        _, _, ext_end = self._external
        if ext_end != -INF and now >= ext_end:
            self.log.info("External limit ended")
            self._external = (INF, INF, -INF)
            self.state.external_limits = (math.nan, math.nan, 0.0)
            self._recompute_limits()
        if self.state.reservation_id and now >= self._reservation_until:
            self.log.info("Reservation %s expired", self.state.reservation_id)
            self._clear_reservation(now)
        s = self.session
        if s is not None:
            self._renew_lease(s, now)
            self._note_meter(s, now)
        self._after(now)

    # ================================================================ after every input
    def _after(self, now: float, sample: bool = False) -> None:
        s = self.session
        if s is not None:
            self._resume_after_plc(s, now)
            self._advance_cable(s, now, sample)
            self._advance_precharge(s, now)
            self._advance_stop(s, now)
            self._mark_hlc_on(s, now)
        self._update_waiting(now)
        if s is None:
            self._maybe_start_session(now)
        self._reconcile_bsp(now)

    def _update_waiting(self, now: float) -> None:
        waiting = tuple(
            name
            for name, present in ((BSP_NAME, self.bsp.present), (STAGE_NAME, self.stage.present))
            if not present
        )
        if waiting == self.state.waiting_for and self._ready_logged == (not waiting):
            return
        self.state.waiting_for = waiting
        if waiting:
            self._ready_logged = False
            return
        self._ready_logged = True
        self.log.info("%s", w.READY)
        if self._meter() is None and not self._meter_warned:
            self._meter_warned = True
            self.log.warning("%s", w.NO_METER)
            self.errors.raise_error(c.NO_METER_VALUE)

    def _reconcile_bsp(self, now: float) -> None:
        """Bring ccy-bsp to what the session needs (also after its owner check dropped Ready)."""
        b = self.bsp
        if not b.present:
            return
        self._want(now, "Enable", self.state.enabled, b.enabled)
        self._want(now, "SetCcsReady", "Ready" if self.state.enabled else "NotReady", b.ccs_ready)
        power = self._want_power and self.state.enabled
        self._want(now, "AllowPowerOn", power, b.power_on_allowed)

    def _want(self, now: float, method: str, value: bool | str, shown: object) -> None:
        if shown == value:
            self._pending.pop(method, None)
            return
        if method == "SetCcsReady" and value == "Ready" and not self.bsp.link_up:
            return
        pending = self._pending.get(method)
        if pending is not None and pending[0] == value and now - pending[1] < RETRY_S:
            return
        self._pending[method] = (value, now)
        call = BspCall(method, value)  # type: ignore[arg-type]
        if value is False:
            self._fx.insert(0, call)  # withdrawing power goes out before anything else
        else:
            self._fx.append(call)

    def _pending_seen(self, name: str, value: object) -> None:
        method = {"Enabled": "Enable", "CcsReady": "SetCcsReady"}.get(name)
        if name == "PowerOnAllowed":
            method = "AllowPowerOn"
        if method and method in self._pending and self._pending[method][0] == value:
            del self._pending[method]

    # ================================================================ session start / end
    def _maybe_start_session(self, now: float) -> None:
        b = self.bsp
        if not (self.state.enabled and b.present and b.link_up and self.stage.present):
            return
        if b.id != "Connected":
            return
        if self._bsp_errors_due is not None and now < self._bsp_errors_due:
            return  # ccy-bsp's Errors1 of the link's return not seen yet
        self._bsp_errors_due = None
        s = self.session = Session(self.new_id(), now, self.wall_us(now), Timing(now))
        s.step_since = now
        self._latched.clear()
        stopping = self._stopping_active()
        if stopping is None:
            self.log.info("%s", w.ALL_CLEARED, extra=fields(session=s.id))
        self.state.session_id = s.id
        self.state.authorized = False
        self.state.transaction_id = ""
        self.state.energy_wh = math.nan
        self.state.notification = Notification.NONE
        self._fx.append(RecordSessionStarted(s.id, s.start_us))
        self._fx.append(Emit(c.Signal.SESSION_STARTED, (s.id,)))
        self._log_session(logging.INFO, "%s", w.LOG_STARTED)
        self._log_session(logging.INFO, "EVSE IEC Session Started: EVConnected")
        self._event(now, "session_started", reason="EVConnected")
        self._set_step(now, Step.WAIT_AUTH)
        if stopping is not None:
            unit, type_, rule = stopping
            self._stop_for(now, unit, type_, f"{unit} {type_} still active", rule)
        self._mark_hlc_on(s, now)

    def _stopping_active(self) -> tuple[str, str, Rule] | None:
        """The first active error that stops a new session at once (a retested one does not:
        the session's cable check repeats its test)."""
        for unit, rules in self._peer_rules.items():
            for (type_, _), rule in rules.items():
                if rule.stop is not Stop.NONE and not rule.retested:
                    return unit, type_, rule
        for err in self.errors.active():
            rule = rule_for(c.UNIT, err.type)
            if rule.stop is not Stop.NONE and not retested(err.type, err.subtype):
                return c.UNIT, err.type, rule
        return None

    def _mark_hlc_on(self, s: Session, now: float) -> None:
        if s.timing.current.name != t.CONN_SETUP:
            return
        if self.bsp.ccs_ready == "Ready" and self.bsp.ce in ("B", "C"):
            s.timing.mark(t.HLC_ON, now)

    def _link_lost(self, s: Session, now: float) -> None:
        """ID Unknown: the safety link is down, not an unplug. Power is withdrawn at once
        (LinkLost's rule), the transaction closes with Fault, and the session ends as Fault
        (the vehicle may still be there: when the link returns with ID Connected a new,
        clean session starts)."""
        if s.step not in (Step.FAULTED, Step.FINISHED) or s.stop_step is StopStep.CURRENT_DOWN:
            self._stop(
                s,
                now,
                Stop.EMERGENCY,
                StopReason.FAULT,
                fault=True,
                why="ccy-bsp LinkLost: the vehicle's ID is unknown",
            )
        self._end_session(s, now, StopReason.FAULT, SessionEnd.FAULT)

    def _unplugged(self, now: float) -> None:
        s = self.session
        assert s is not None
        self._log_session(logging.INFO, "CAR IEC Event CarUnplugged")
        faulted = s.step is Step.FAULTED
        reason = SessionEnd.FAULT if faulted else SessionEnd.EV_DISCONNECTED
        self._end_session(s, now, StopReason.EV_DISCONNECTED, reason)

    def _end_session(
        self, s: Session, now: float, tx_reason: StopReason, reason: SessionEnd
    ) -> None:
        if s.step in POWER_STEPS or s.stop_step is StopStep.CURRENT_DOWN:
            self._begin_stop(s, now, Stop.EMERGENCY)
        self._want_power = False
        self._set_step(now, Step.FINISHED)
        self._finish_transaction(s, now, tx_reason)
        self._log_session(logging.INFO, "EVSE IEC Session Finished")
        self._event(now, "session_finished", reason=str(reason))
        self._fx.append(RecordSessionFinished(s.id, self.wall_us(now), reason.value))
        self._fx.append(Emit(c.Signal.SESSION_FINISHED, (s.id, reason.value)))
        self._log_session(logging.INFO, "%s", w.LOG_STOPPED)
        self.errors.clear_error(c.VEHICLE_LOST)
        for spec in (c.CABLE_CHECK_FAILED, c.PRE_CHARGE_FAILED, c.WELDING_DETECTED):
            self.errors.clear_type(spec)
        self.session = None
        self.state.session_id = ""
        self.state.transaction_id = ""
        self.state.authorized = False
        self.state.notification = Notification.NONE
        self.state.target_voltage = self.state.target_current = 0.0
        self._set_state(now, self._idle_state())

    def _finish_transaction(self, s: Session, now: float, reason: StopReason) -> None:
        if not s.tx_open:
            return
        s.tx_open = False
        meter = self._meter()
        energy = None
        if meter is not None and s.meter_start is not None:
            energy = max(0.0, meter - s.meter_start)
        s.energy_end = energy
        self.state.energy_wh = math.nan if energy is None else energy
        self._log_session(
            logging.INFO, "EVSE IEC Transaction Finished: %s (%s)", reason.value, w.kwh(energy)
        )
        self._event(now, "transaction_finished", reason=reason.value, energy_wh=energy)
        self._fx.append(
            RecordTransactionStopped(
                s.tx_id,
                self.wall_us(now),
                reason.value,
                meter,
                clock_synchronized=self.clock_synchronized,
            )
        )
        self._fx.append(
            Emit(
                c.Signal.TRANSACTION_FINISHED,
                (s.tx_id, reason.value, math.nan if energy is None else energy),
            )
        )
        self.state.transaction_id = ""

    # ================================================================ stops
    def _stop_for(
        self, now: float, unit: str, type_: str, what: str, rule: Rule | None = None
    ) -> None:
        """A stopping error: withdraw power per its rule, Faulted, the transaction closed."""
        rule = rule or rule_for(unit, type_)
        if rule.stop is Stop.NONE:
            return
        s = self.session
        if s is None:
            self._want_power = False
            return
        reason = StopReason.EMERGENCY_STOP if type_ == "EmergencyStop" else StopReason.FAULT
        self._stop(s, now, rule.stop, reason, fault=True, why=what)

    def _fail(self, now: float, spec: ErrorSpec, subtype: str, message: str) -> None:
        rule = rule_for(c.UNIT, spec.name)
        if rule.latches:
            self._latched.add((c.UNIT, spec.name, subtype))
        if self.session is not None:  # power withdrawn first, then the error said
            self._stop(self.session, now, rule.stop, StopReason.FAULT, fault=True, why=message)
        self.errors.raise_error(spec, subtype, message=f"{spec.description}: {message}")

    def _stop(
        self, s: Session, now: float, kind: Stop, reason: StopReason, fault: bool, why: str
    ) -> None:
        if s.step in (Step.FINISHED,) and not fault:
            return
        self._begin_stop(s, now, kind)  # power first
        note = Notification.EMERGENCY_SHUTDOWN if kind is Stop.EMERGENCY else Notification.TERMINATE
        if self.state.notification is not Notification.EMERGENCY_SHUTDOWN:
            self.state.notification = note
        s.stop_kind = kind
        if s.stop_reason is None:
            s.stop_reason = reason
        self._log_session(logging.WARNING, "Stopping (%s): %s", kind.value, why)
        self._event(now, "stop", stop=kind.value, reason=reason.value, why=why)
        if reason is not StopReason.EV_STOPPED:  # the EV's own stop ends it at unplug (seed)
            self._finish_transaction(s, now, reason)
        if fault:
            self._set_step(now, Step.FAULTED)
        elif s.step in POWER_STEPS:
            self._set_step(now, Step.STOPPING)
        elif s.step is not Step.FAULTED:
            self._set_step(now, Step.FINISHED)

    def _ce_changed(self, s: Session, now: float, old: str, new: str) -> None:
        if new == "C":
            self._log_session(logging.INFO, "CAR IEC Event CarRequestedPower")
        elif old == "C" and new in ("B", "B0"):
            self._log_session(logging.INFO, "CAR IEC Event CarRequestedStopPower")
            if s.step in (Step.CHARGING, Step.POWER_ON, Step.PAUSED_EVSE):
                self._log_session(
                    logging.INFO,
                    "EVSE IEC CP state transition C->B at this stage violates ISO15118-2",
                )
                self._begin_stop(s, now, Stop.EMERGENCY)  # the MCU opens the contactor now
                self.state.target_current = 0.0
                self._set_step(now, Step.PAUSED_EV)
            elif s.step in (
                Step.CABLE_CHECK,
                Step.PRECHARGE,
                Step.PRECHARGE_DONE,
                Step.CABLE_CHECK_DONE,
            ):
                self._stop(s, now, Stop.TERMINATE, StopReason.EV_STOPPED, False, "CE left C")

    # ================================================================ vehicle (ccy-v2g)
    def _bound(self, what: str) -> Session:
        s = self.session
        if s is None or not s.bound:
            raise Refused(
                "NotPermitted", f"{what}: no bound V2G session (state {self.state.state})"
            )
        return s

    def _peers_ready(self) -> None:
        if self.state.waiting_for:
            missing = " and ".join(
                {"org.ccy.Bsp": "ccy-bsp", "org.ccy.Profinet": "the power stage"}[n]
                for n in self.state.waiting_for
            )
            raise Refused("NotReady", f"{missing} not on the bus")

    def bind_session(self, now: float, v2g_id: str, evccid: str, protocol: str) -> tuple[str, str]:
        s = self.session
        if s is None or s.step in (Step.FINISHED, Step.FAULTED):
            raise self._refuse_state("BindSession (no vehicle session)")
        self._peers_ready()
        s.v2g_id, s.evccid, s.protocol, s.bound = v2g_id, evccid, protocol, True
        self._log_session(logging.INFO, "V2G session %s bound (%s)", v2g_id, protocol)
        self._event(now, "v2g_bound", v2g_session_id=v2g_id, evccid=evccid, protocol=protocol)
        return s.id, self.state.evse_id

    def authorization_status(self, now: float) -> str:
        return self._bound("AuthorizationStatus").auth.value

    def charge_parameters(
        self,
        now: float,
        max_v: float,
        min_v: float,
        max_a: float,
        min_a: float,
        max_w: float,
        min_w: float,
    ) -> list[float]:
        s = self._bound("ChargeParameters")
        if not self.state.authorized:
            raise self._refuse_state("ChargeParameters before authorization")
        _check("ev_max_voltage", max_v, 0, 1500)
        _check("ev_max_current", max_a, 0, 3000)
        _check("ev_max_power", max_w, 0, 1e7)
        for name, low, high in (
            ("voltage", min_v, max_v),
            ("current", min_a, max_a),
            ("power", min_w, max_w),
        ):
            if not math.isnan(low):
                _check(f"ev_min_{name}", low, 0, high)
        s.ev_max_v, s.ev_min_v, s.ev_max_a, s.ev_min_a, s.ev_max_w = (
            max_v,
            min_v,
            max_a,
            min_a,
            max_w,
        )
        s.params_known = True
        self.log.info(
            'Received EV maximum limits: {"dc_ev_maximum_current_limit": %s, '
            '"dc_ev_maximum_power_limit": %s, "dc_ev_maximum_voltage_limit": %s}',
            float(max_a),
            float(max_w),
            float(max_v),
        )
        self._event(now, "ev_limits", max_voltage=max_v, max_current=max_a, max_power=max_w)
        lim = self._limits()
        return [
            lim.max_voltage_v,
            lim.min_voltage_v,
            lim.max_current_a,
            lim.min_current_a,
            lim.max_power_w,
            0.0,
        ]

    def schedule(
        self, now: float, mode: str, departure_s: float
    ) -> tuple[str, list[tuple[float, float]]]:
        s = self._bound("Schedule")
        try:
            control = ControlMode(mode)
        except ValueError:
            raise Refused(
                "InvalidArgument", f"control_mode {mode!r} is not Scheduled or Dynamic"
            ) from None
        if not s.params_known:
            raise self._refuse_state("Schedule before ChargeParameters")
        if not math.isnan(departure_s) and departure_s < 0:
            raise Refused("InvalidArgument", f"departure_time_s {departure_s} is below 0")
        s.control_mode = control
        if control is ControlMode.DYNAMIC:
            return Processing.FINISHED.value, []
        ext_p, _, ext_end = self._external
        base = effective_limits(
            self.settings.connector_limits,
            self.stage.limits if self.stage.present else None,
            self.bsp.derating,
            self.settings.grid_connection_limit_W,
        ).max_power_w
        return Processing.FINISHED.value, schedule(base, ext_p, ext_end - now, departure_s)

    def cable_check(self, now: float) -> tuple[str, str, str]:
        s = self._bound("CableCheck")
        if s.step is Step.FAULTED:
            return Processing.FINISHED.value, self._isolation_of(s), self.state.notification.value
        if s.step is Step.AUTHORIZED or (s.step is Step.PAUSED_EV and s.stop_step is StopStep.OPEN):
            self._peers_ready()
            if self.bsp.ce != "C":
                raise Refused("NotPermitted", f"CableCheck needs CE C (CE is {self.bsp.ce})")
            s.stop_step = None
            self._begin_cable_check(s, now)
            self._advance_cable(s, now)
            self._after(now)
        elif s.step not in (Step.CABLE_CHECK, Step.CABLE_CHECK_DONE):
            raise self._refuse_state("CableCheck")
        else:
            self._advance_cable(s, now)
        done = s.step in (Step.CABLE_CHECK_DONE, Step.FAULTED)
        processing = Processing.FINISHED if done else Processing.ONGOING
        return processing.value, self._isolation_of(s), self.state.notification.value

    def _isolation_of(self, s: Session) -> str:
        """The stage's IsolationStatus once this cable check has a measurement; "Invalid"
        before (the stage still shows the last one, maybe a previous session's Fault)."""
        return self.stage.isolation if s.isolation_measured else "Invalid"

    def pre_charge(self, now: float, target_v: float, target_a: float) -> tuple[str, float, str]:
        s = self._bound("PreCharge")
        if s.step is Step.FAULTED:
            return Processing.FINISHED.value, self.stage.voltage, self.state.notification.value
        if s.step not in (Step.CABLE_CHECK_DONE, Step.PRECHARGE, Step.PRECHARGE_DONE):
            raise self._refuse_state("PreCharge")
        lim = self._limits()
        _check("ev_target_voltage", target_v, 0, lim.max_voltage_v, "the EVSE maximum voltage")
        _check("ev_target_current", target_a, 0, INF)
        if s.step is Step.CABLE_CHECK_DONE:
            s.precharge_v, s.precharge_since = target_v, now
            self._stage_target(now, target_v, self.settings.precharge_current_A)
            self._stage_mode(now, Mode.PRE_CHARGE)
            self.log.info("EVSE IEC DC power supply: switch ON in export mode")
            self._set_step(now, Step.PRECHARGE)
        elif target_v != s.precharge_v:
            s.precharge_v = target_v
            self._stage_target(now, target_v, self.settings.precharge_current_A)
            if s.step is Step.PRECHARGE_DONE:
                s.step, s.precharge_since = Step.PRECHARGE, now
        self._advance_precharge(s, now)
        done = s.step in (Step.PRECHARGE_DONE, Step.FAULTED)
        processing = Processing.FINISHED if done else Processing.ONGOING
        return processing.value, self.stage.voltage, self.state.notification.value

    def power_delivery(self, now: float, progress: str) -> str:
        s = self._bound("PowerDelivery")
        try:
            p = ChargeProgress(progress)
        except ValueError:
            raise Refused(
                "InvalidArgument",
                f"charge_progress {progress!r} is not one of "
                f"{', '.join(x.value for x in ChargeProgress)}",
            ) from None
        if p is ChargeProgress.START:
            if s.step is Step.PAUSED_EV and s.stop_step is None:
                self._set_step(now, Step.CHARGING)
            elif s.step is Step.PRECHARGE_DONE:
                self._stage_mode(now, Mode.CHARGE)
                self._stage_target(now, s.precharge_v, 0.0)
                self.log.info("EVSE IEC DC power supply: switch ON in export mode")
                s.step = Step.POWER_ON
            else:
                raise self._refuse_state("PowerDelivery(Start)")
        elif p is ChargeProgress.STOP:
            if s.step in (Step.POWER_ON, Step.CHARGING, Step.PAUSED_EV, Step.PAUSED_EVSE):
                self._stop(
                    s, now, Stop.TERMINATE, StopReason.EV_STOPPED, False, "EV: PowerDelivery Stop"
                )
                self.state.notification = Notification.NONE
            elif s.step not in (Step.STOPPING, Step.FINISHED, Step.FAULTED):
                raise self._refuse_state("PowerDelivery(Stop)")
        elif p is ChargeProgress.STANDBY:
            if s.step is not Step.CHARGING:
                raise self._refuse_state("PowerDelivery(Standby)")
            self._stage_target(now, self.state.target_voltage, 0.0)
            self._set_step(now, Step.PAUSED_EV)
        elif s.step not in (Step.CHARGING, Step.PAUSED_EV, Step.PAUSED_EVSE):
            raise self._refuse_state("PowerDelivery(ScheduleRenegotiation)")
        self._after(now)
        return self.state.notification.value

    def charge_loop(
        self,
        now: float,
        target_v: float,
        target_a: float,
        max_v: float,
        max_a: float,
        max_w: float,
        present_v: float,
        soc: float,
    ) -> LoopResult:
        """The hot path: answered from the latest stage snapshot, setpoint sent unawaited."""
        s = self.session
        if s is None or not s.bound or s.step not in LOOP_STEPS:
            raise self._refuse_state("ChargeLoop")
        for name, value in (
            ("ev_target_voltage", target_v),
            ("ev_target_current", target_a),
            ("ev_max_voltage", max_v),
            ("ev_max_current", max_a),
            ("ev_max_power", max_w),
            ("ev_present_voltage", present_v),
        ):
            if not math.isnan(value) and not 0 <= value < INF:
                raise Refused("InvalidArgument", f"{name} {value} is not a finite value ≥ 0")
        if not math.isnan(soc) and not 0 <= soc <= 100:
            raise Refused("InvalidArgument", f"soc {soc} is outside 0..100 %")
        if not math.isnan(max_v):
            s.ev_max_v = max_v
        if not math.isnan(max_a):
            s.ev_max_a = max_a
        if not math.isnan(max_w):
            s.ev_max_w = max_w
        if s.step is Step.POWER_ON:
            self._first_loop(s, now)
        lim = self._limits()
        flags = (False, False, False)
        if s.step is Step.CHARGING:
            v = s.ev_max_v if math.isnan(target_v) else min(target_v, _or_inf(s.ev_max_v))
            a = s.ev_max_a if math.isnan(target_a) else min(target_a, _or_inf(s.ev_max_a))
            if not math.isnan(s.ev_max_w) and v > 0:
                a = min(a, s.ev_max_w / v)
            sp = clamp_setpoint(v, a, lim)
            self._stage_target(now, sp.voltage, sp.current)
            flags = (sp.voltage_limited, sp.current_limited, sp.power_limited)
            self._hlc_limits(s, now, sp.voltage)
        else:
            if s.step in (Step.PAUSED_EV, Step.PAUSED_EVSE) and self.stage.mode == Mode.CHARGE:
                self._stage_target(now, self.state.target_voltage, 0.0)
            self._hlc_limits(s, now, _or_zero(target_v))
        if now - s.meter_noted_at >= self.settings.meter_note_interval_s:
            self._note_meter(s, now)
        st = self.stage
        return (
            st.voltage,
            st.current,
            *flags,
            lim.max_voltage_v,
            lim.max_current_a,
            lim.max_power_w,
            0.0,
            self.state.notification.value,
        )

    def _first_loop(self, s: Session, now: float) -> None:
        self._set_step(now, Step.CHARGING)
        s.timing.mark(t.CHARGING_STARTED, now)
        s.timing.finish(now)
        for line in s.timing.lines():
            self._log_session(logging.INFO, "%s", line)
        self.state.timing = s.timing.as_dict()
        self._event(now, "timing", text="\n".join(s.timing.lines()))

    def _hlc_limits(self, s: Session, now: float, target_v: float) -> None:
        lim = self._limits()
        amps = current_limit_at(lim, max(target_v, self.stage.voltage) if target_v > 0 else 0.0)
        key = (w.f32(lim.max_power_w), w.f32(amps))
        if key != s.hlc_logged and now - s.hlc_logged_at >= HLC_LOG_MIN_S:
            s.hlc_logged, s.hlc_logged_at = key, now
            self.log.info(
                "%s", w.hlc_limits_line(lim.max_power_w, amps, target_v, self.stage.voltage)
            )

    def welding_detection(self, now: float) -> tuple[str, float, str]:
        s = self._bound("WeldingDetection")
        if s.stop_step is None and s.step not in (Step.FAULTED, Step.FINISHED):
            raise self._refuse_state("WeldingDetection before PowerDelivery(Stop)")
        self._advance_stop(s, now)
        done = s.welding_ok or (s.step is Step.FAULTED and s.stop_step is StopStep.OPEN)
        processing = Processing.FINISHED if done else Processing.ONGOING
        return processing.value, self.stage.voltage, self.state.notification.value

    def session_stop(self, now: float, charging_session: str) -> None:
        s = self._bound("SessionStop")
        try:
            kind = ChargingSession(charging_session)
        except ValueError:
            raise Refused(
                "InvalidArgument",
                f"charging_session {charging_session!r} is not Terminate or Pause",
            ) from None
        if s.step in (Step.POWER_ON, Step.CHARGING, Step.PAUSED_EVSE) or (
            s.step is Step.PAUSED_EV and s.stop_step is None
        ):
            self._stop(
                s,
                now,
                Stop.TERMINATE,
                StopReason.EV_STOPPED,
                False,
                "SessionStop without PowerDelivery(Stop)",
            )
        s.bound = False
        self._event(now, "session_stop", charging_session=kind.value)
        if s.step is Step.FAULTED:
            pass
        elif kind is ChargingSession.PAUSE:
            self._set_step(now, Step.PAUSED_EV)
        else:
            self._set_step(now, Step.FINISHED)
        self._after(now)

    def end_v2g_session(self, now: float, reason: str) -> None:
        s = self.session
        if s is None or not s.bound:
            return
        s.bound = False
        power = s.step in POWER_STEPS and (self.stage.mode != Mode.OFF or self._want_power)
        if power:  # power withdrawn first, then said (the error, the log lines)
            self._stop_for(now, c.UNIT, c.VEHICLE_LOST.name, f"vehicle lost: {reason}")
            self.errors.raise_error(
                c.VEHICLE_LOST, message=f"{c.VEHICLE_LOST.description}: {reason}"
            )
        self._log_session(logging.INFO, "V2G session ended: %s", reason)
        self._event(now, "v2g_ended", reason=reason)
        self._after(now)

    # ================================================================ authorization (ccy-auth)
    def _this_session(self, session_id: str, what: str) -> Session:
        s = self.session
        if s is None or s.id != session_id:
            raise Refused(
                "NotPermitted",
                f"{what}: {session_id!r} is not the present session (state {self.state.state})",
            )
        return s

    def authorize(self, now: float, session_id: str, token: str, token_type: str) -> None:
        try:
            kind = TokenType(token_type)
        except ValueError:
            raise Refused(
                "InvalidArgument",
                f"token_type {token_type!r} is not one of {', '.join(x.value for x in TokenType)}",
            ) from None
        if not token:
            raise Refused("InvalidArgument", "token is empty")
        s = self._this_session(session_id, "Authorize")
        if self.state.authorized or s.step is not Step.WAIT_AUTH:
            raise self._refuse_state("Authorize (already authorized or ended)")
        s.auth, s.token, s.token_type = AuthorizationStatus.ACCEPTED, token, kind.value
        s.tx_id, s.tx_open, s.meter_start = self.new_id(), True, self._meter()
        s.meter_noted_at = now
        self.state.authorized = True
        self.state.transaction_id = s.tx_id
        self.state.energy_wh = 0.0 if s.meter_start is not None else math.nan
        s.timing.mark(auth_label(kind.value), now)
        label = "PnC" if kind is TokenType.PNC else "EIM"
        self._log_session(logging.INFO, "EVSE IEC %s Authorization received", label)
        synced = self.clock_synchronized
        self._fx.append(
            RecordTransactionStarted(
                s.tx_id, s.id, token, self.wall_us(now), s.meter_start, clock_synchronized=synced
            )
        )
        self._fx.append(Emit(c.Signal.TRANSACTION_STARTED, (s.tx_id, s.id, token)))
        self._log_session(logging.INFO, "EVSE IEC Transaction Started (%s)", w.kwh(s.meter_start))
        if not synced:
            self._log_session(logging.WARNING, "%s", w.CLOCK_NOT_SYNCHRONIZED)
        self._event(
            now,
            "transaction_started",
            transaction_id=s.tx_id,
            token=token,
            token_type=kind.value,
            meter_start_wh=s.meter_start,
            clock_synchronized=synced,
        )
        self._log_session(
            logging.INFO,
            "EVSE IEC DC mode. We are in 5percent mode so we can continue without further action.",
        )
        self._set_step(now, Step.AUTHORIZED)

    def deauthorize(self, now: float, session_id: str, reason: str) -> None:
        s = self._this_session(session_id, "Deauthorize")
        s.auth = AuthorizationStatus.REJECTED
        self.state.authorized = False
        self._log_session(logging.INFO, "Deauthorized: %s", reason)
        if s.step is Step.WAIT_AUTH:
            self._event(now, "rejected", reason=reason)
        elif s.step not in (Step.FINISHED, Step.FAULTED):
            self._stop(
                s, now, Stop.TERMINATE, StopReason.DEAUTHORIZED, False, f"deauthorized: {reason}"
            )
        self._after(now)

    def set_reservation(self, now: float, reservation_id: str, expires_at: float) -> None:
        if self.state.state in (State.DISABLED, State.FAULTED):
            raise self._refuse_state("SetReservation")
        if not reservation_id:
            self._clear_reservation(now)
            return
        wall_now = now + self.wall_offset
        if not expires_at > wall_now:
            raise Refused("InvalidArgument", f"expires_at {expires_at} is not in the future")
        self.state.reservation_id = reservation_id
        self._reservation_until = expires_at - self.wall_offset
        self.log.info("Reserved (%s) until %s", reservation_id, expires_at)
        if self.session is None:
            self._set_state(now, self._idle_state())

    def _clear_reservation(self, now: float) -> None:
        self.state.reservation_id = ""
        if self.session is None:
            self._set_state(now, self._idle_state())

    # ================================================================ operators
    def stop_transaction(self, now: float, reason: str) -> None:
        try:
            why = StopReason(c.StopRequest(reason).value)
        except ValueError:
            raise Refused(
                "InvalidArgument",
                f"reason {reason!r} is not one of {', '.join(x.value for x in c.StopRequest)}",
            ) from None
        s = self.session
        if s is None or not s.tx_open:
            raise self._refuse_state("StopTransaction (no transaction)")
        self._stop(s, now, Stop.TERMINATE, why, False, f"StopTransaction({reason})")
        self._after(now)

    def enable(self, now: float, on: bool) -> None:
        if on == self.state.enabled:
            return
        s = self.session
        running = s is not None and (s.tx_open or s.step in POWER_STEPS)
        if not on and s is not None and running and s.step not in (Step.FINISHED, Step.FAULTED):
            self._stop(s, now, Stop.TERMINATE, StopReason.LOCAL, False, "disabled")
        self.state.enabled = on
        self._fx.append(PersistEnabled(on))
        self.log.info("Connector %s", "enabled" if on else "disabled")
        if s is None or not on:
            self._set_state(now, self._idle_state() if s is None or on else State.DISABLED)
        else:
            self._set_state(now, STATE_OF[s.step])
        self._after(now)

    def pause(self, now: float) -> None:
        s = self.session
        if s is None or s.step is not Step.CHARGING:
            raise self._refuse_state("Pause")
        self._stage_target(now, self.state.target_voltage, 0.0)
        self.state.notification = Notification.PAUSE
        self._set_step(now, Step.PAUSED_EVSE)

    def resume(self, now: float) -> None:
        s = self.session
        if s is None or s.step is not Step.PAUSED_EVSE:
            raise self._refuse_state("Resume")
        self.state.notification = Notification.NONE
        self._set_step(now, Step.CHARGING)

    def set_external_limits(self, now: float, max_w: float, max_a: float, valid_s: float) -> None:
        for name, value, unit in (("max_power", max_w, "W"), ("max_current", max_a, "A")):
            if not math.isnan(value) and not 0 < value < INF:
                raise Refused(
                    "InvalidArgument", f"{name} {value} {unit}: must be above 0 (NaN: none)"
                )
        if math.isnan(valid_s) or not (valid_s == 0 or 1 <= valid_s <= EXTERNAL_MAX_S):
            raise Refused("InvalidArgument", f"valid_for_s {valid_s}: 0 (clear) or 1..86400 s")
        if valid_s == 0:
            self._external = (INF, INF, -INF)
            self.state.external_limits = (math.nan, math.nan, 0.0)
        else:
            self._external = (_or_inf(max_w), _or_inf(max_a), now + valid_s)
            self.state.external_limits = (max_w, max_a, now + valid_s + self.wall_offset)
        self.log.info("External limit: %g W, %g A for %g s", max_w, max_a, valid_s)
        self._recompute_limits()

    # ================================================================ tick helpers
    def _renew_lease(self, s: Session, now: float) -> None:
        if self.stage.mode in (Mode.OFF, Mode.DISCHARGE) or s.step in (Step.FAULTED, Step.FINISHED):
            return
        if s.stop_step is not None:
            return
        if now - self._stage_sent_at >= self.stage.lease_s / 2:
            self._stage_target(now, self.state.target_voltage, self.state.target_current)

    def _note_meter(self, s: Session, now: float) -> None:
        meter = self._meter()
        if (
            not s.tx_open
            or meter is None
            or now - s.meter_noted_at < self.settings.meter_note_interval_s
        ):
            return
        s.meter_noted_at = now
        self._fx.append(RecordMeter(s.tx_id, meter, self.wall_us(now)))

    def healthy(self) -> bool:
        """The power invariant: power is wanted only in a session step that needs it."""
        s = self.session
        if not self._want_power:
            return True
        return s is not None and s.step in POWER_STEPS


def _check(name: str, value: float, low: float, high: float, what: str = "") -> None:
    if math.isnan(value) or not low <= value <= high:
        limit = f"{what} {high:g}" if what else f"{low:g}..{high:g}"
        raise Refused(
            "InvalidArgument",
            f"{name} {value} is outside {low:g}..{high:g} ({limit})"
            if what
            else f"{name} {value} is outside {limit}",
        )


def _or_zero(value: float) -> float:
    return 0.0 if math.isnan(value) else value


def _or_inf(value: float) -> float:
    return INF if math.isnan(value) else value


_BSP_ATTR = {
    "LinkUp": "link_up",
    "CeState": "ce",
    "IdState": "id",
    "EmergencyStop": "estop",
    "SafeState": "safe_state",
    "Enabled": "enabled",
    "CcsReady": "ccs_ready",
    "PowerOnAllowed": "power_on_allowed",
    "DeratingFactor": "derating",
}
_STAGE_ATTR = {
    "Mode": "mode",
    "PresentVoltage": "voltage",
    "PresentCurrent": "current",
    "TargetVoltage": "target_voltage",
    "TargetCurrent": "target_current",
    "IsolationResistance": "isolation_ohm",
    "IsolationStatus": "isolation",
    "SelfTest": "self_test",
    "SupplyReady": "supply_ready",
    "MeterEnergy": "meter_wh",
    "LeaseSeconds": "lease_s",
}
_LIMIT_FIELDS = {
    "MaxVoltage": "max_voltage_v",
    "MinVoltage": "min_voltage_v",
    "MaxCurrent": "max_current_a",
    "MinCurrent": "min_current_a",
    "MaxPower": "max_power_w",
}


def _with_limit(limits: Limits, prop: str, value: float) -> Limits:
    from dataclasses import replace

    return replace(limits, **{_LIMIT_FIELDS[prop]: value})
