# SPDX-License-Identifier: Apache-2.0
"""The host side of the safety-MCU protocol as a plain state machine (no bus, no I/O).

Inputs: decoded MCU messages (``on_message``), the clock (``tick``), the reset outcome, a lost
UART, the owner of org.ccy.Evse and the commands. Outputs: ``self.state`` (the glue publishes
its differences), errors raised through the unit's ErrorRegistry with the catalogue of
ccy.bsp.contract, and a list of effects (inquiries to send, resets to pulse). The behaviour
follows safety-link.md ("Host behaviour worth copying (and improving)") and issue 9:

- One invariant: PowerOnAllowed is true only while every condition of ``_power_blockers`` is
  met — link up, port enabled, ID Connected, CE C, no safe state (SafeStateActive for any
  E-stop reason, or an unknown safe-state code), no E-stop reported or requested, no PT1000
  stop or self-test failure, no HV-switch fault, no active error whose spec stops power. After
  every input that changes one of them the request is withdrawn, *before* any error is raised
  (an error callback that raises cannot leave power allowed), and AllowPowerOn(true) is refused
  unless they all hold. A change of the owner of org.ccy.Evse withdraws it too: a restarted or
  replaced ccy-evse must ask again.
- CE → charging state (CpState): see ``cp_from_ce``.
- An emergency-stop request (CCSReady=EmergencyStop) is always accepted, link down included,
  and must be confirmed within estop_confirm_timeout by evidence from a ChargeState2 that
  arrives after the request: SafeStateActive, or CE moving into B0 or EC (a B0 or EC that was
  already there is no evidence). Else EmergencyStopNotConfirmed, cleared by later evidence or
  by the MCU reset. The request stands until that reset (SetCcsReady cannot leave it) and
  survives a link loss: keeping it is the safe side, and the MCU gets it again when the link
  returns.
- A link loss resets CcsReady Ready → NotReady, so a stale Ready is never resent; CE, ID and
  safe state become unknown and the temperatures are cleared until fresh frames arrive.
- Recovery from safe state: reset the MCU when CE returns to A, or when ID changes while CE is
  A or Invalid. A failed reset raises ResetFailed and is retried every RESET_RETRY_INTERVAL_S.
- Errors: E-stop reason EmergencyInput → EmergencyStop; any other reason (Unknown included)
  → VendorError named after it; an active ErrorMessage of APP_HVSWITCH → HvSwitchFault, of any
  other module → McuWarning named after the module; PT1000 charging-stopped /
  self-test-failed → TemperatureStopped / TemperatureSelfTest naming the sensor.
"""

import logging
from dataclasses import dataclass

from ccy.bsp.contract import (
    CONTRACT,
    EMERGENCY_STOP,
    ESTOP_NOT_CONFIRMED,
    HV_SWITCH_FAULT,
    LINK_LOST,
    MCU_WARNING,
    RESET_FAILED,
    TEMPERATURE_SELF_TEST,
    TEMPERATURE_STOPPED,
    TEMPERATURE_WARNING,
    VENDOR_ERROR,
    FirmwarePlatform,
    firmware_application,
    firmware_platform,
)
from ccy.bsp.effects import CommandRefused, Effect, ResetMcu, SendMessage
from ccy.bsp.liveness import FirmwareInquiry, LinkWatch
from ccy.bsp.protocol.codes import CcsReady, CeState, ErrorModule, EstopReason, IdState, SafeState
from ccy.bsp.protocol.frame import Com
from ccy.bsp.protocol.messages import (
    ChargeControl2,
    ChargeState2,
    ErrorMessage,
    FwVersion,
    GitHash,
    Message,
    Pt1000State,
)
from ccy.bsp.settings import BspSettings
from ccy.bsp.state import BspState, TemperatureReading, cp_from_ce
from ccy.bsp.temperatures import TemperatureMonitor
from ccy.runtime.contract import ErrorSpec
from ccy.runtime.errors import ErrorRegistry
from ccy.runtime.journal import fields

__all__ = [
    "RESET_RETRY_INTERVAL_S",
    "BspCore",
    "BspState",
    "CommandRefused",
    "Effect",
    "ResetMcu",
    "SendMessage",
    "TemperatureReading",
    "cp_from_ce",
]

RESET_RETRY_INTERVAL_S = 5.0
"""Wait between tries when the reset line could not be driven. The MCU holds the charger safe
meanwhile (power is withdrawn and ResetFailed stops it), so there is no hurry; 5 s keeps a
broken GPIO from flooding the journal yet recovers within seconds once the line works."""

# safety-link.md: SafeState, CE B0 or CE EC confirm an emergency stop.
_ESTOP_CE = (CeState.B0, CeState.EC)
_STOPS_POWER = {spec.name: spec.stops_power for spec in CONTRACT.errors}
_ID_WORDS = {
    IdState.UNKNOWN: "unknown",
    IdState.NOT_CONNECTED: "not connected",
    IdState.CONNECTED: "connected",
    IdState.INVALID: "invalid",
}


@dataclass
class _EstopWait:
    """An emergency stop requested and not yet confirmed."""

    deadline: float
    armed: bool
    """True once CE is known to be outside B0/EC after the request: only then does a move
    into B0/EC confirm the stop."""
    overdue: bool = False


class BspCore:
    def __init__(
        self, settings: BspSettings, errors: ErrorRegistry, log: logging.Logger, now: float
    ) -> None:
        self.settings = settings
        self.errors = errors
        self.log = log
        self._temps = TemperatureMonitor(settings)
        self.state = BspState(temperatures=self._temps.readings())
        self._watch = LinkWatch(settings.link_timeout_s, now)
        self._inquiry = FirmwareInquiry(
            settings.firmware_inquiry_timeout_s, settings.firmware_inquiry_retries, log
        )
        self._next_publish = now + settings.temperature_publish_period_s
        self._estop_wait: _EstopWait | None = None
        self._hv_switch_fault = False
        self._resetting = False
        self._reset_reason = ""
        self._reset_retry_at: float | None = None
        self._no_reset_line_logged = False

    @property
    def has_reset_line(self) -> bool:
        return self.settings.reset_line_driver != "none"

    # ================================================================== inputs
    def start(self, now: float) -> list[Effect]:
        """Start-up: reset the MCU when a reset line is configured (safety-link.md, Link).
        Optional: without it the core waits for the first ChargeState2 all the same."""
        return self._begin_reset(now, "start-up") if self.has_reset_line else []

    def on_message(self, msg: Message, now: float) -> list[Effect]:
        """Every decoded MCU frame."""
        if self._resetting:
            return []  # sent before the reset; the MCU is restarting now
        if isinstance(msg, ChargeState2):
            return self._on_charge_state(msg, now)
        if isinstance(msg, Pt1000State):
            self._on_pt1000(msg)
            return []
        if isinstance(msg, ErrorMessage):
            self._on_error_message(msg)
            return []
        if isinstance(msg, FwVersion):
            s = self.state
            s.firmware_version = msg.version
            s.firmware_platform = firmware_platform(msg.platform)
            s.firmware_application = firmware_application(msg.application)
            if s.firmware_platform is FirmwarePlatform.UNKNOWN:
                self.log.warning("Safety controller reports unknown platform 0x%02X", msg.platform)
            return self._answered(Com.FW_VERSION, now)
        if isinstance(msg, GitHash):
            self.state.git_hash = msg.text
            return self._answered(Com.GIT_HASH, now)
        self.log.debug("Ignored %s from the safety controller", type(msg).__name__)
        return []

    def tick(self, now: float) -> list[Effect]:
        """The clock: link watchdog, inquiry timeouts, E-stop deadline, reset retry,
        temperature publishing. Call every 20–100 ms."""
        effects: list[Effect] = []
        silent = not self._resetting and self._watch.expired(now)
        if silent and (self.state.link_up or not self.errors.is_active(LINK_LOST.name)):
            self._link_down(self._silence_text(now))
        was_asking = self._inquiry.active
        effects += self._inquiry.tick(now)
        self._log_firmware_when_done(was_asking)
        wait = self._estop_wait
        if wait is not None and not wait.overdue and now >= wait.deadline:
            wait.overdue = True
            self._raise(
                ESTOP_NOT_CONFIRMED,
                "",
                "the safety controller did not confirm the emergency stop within "
                f"{self.settings.estop_confirm_timeout_s:.1f} s",
            )
        retry_at = self._reset_retry_at
        if retry_at is not None and now >= retry_at and not self._resetting:
            effects += self._begin_reset(now, f"retry: {self._reset_reason}")
        if now >= self._next_publish:
            self.state.temperatures = self._temps.readings()
            period = self.settings.temperature_publish_period_s
            self._next_publish = max(self._next_publish + period, now)
        return effects

    def on_reset_done(self, now: float) -> list[Effect]:
        """The glue pulsed the reset line and waited startup_wait_s."""
        self._resetting = False
        self._reset_retry_at = None
        self._watch.restart(now)
        self._estop_wait = None
        self._hv_switch_fault = False
        self.log.info("Safety controller reset done")
        # A restarted MCU reports its ErrorMessages afresh; the reset ended the E-stop request.
        self._clear(RESET_FAILED)
        self._clear(ESTOP_NOT_CONFIRMED)
        self._clear(HV_SWITCH_FAULT)
        self._clear_type(MCU_WARNING)
        return []

    def on_reset_failed(self, now: float, reason: str) -> list[Effect]:
        """The reset line could not be driven: ResetFailed, and a retry after a while."""
        self._resetting = False
        self._watch.restart(now)
        self._reset_retry_at = now + RESET_RETRY_INTERVAL_S
        self._raise(
            RESET_FAILED,
            "",
            f"resetting the safety controller failed: {reason}; "
            f"retrying in {RESET_RETRY_INTERVAL_S:.0f} s",
        )
        return []

    def on_uart_lost(self, now: float, reason: str) -> list[Effect]:
        """The UART device itself failed: the link is lost now, not after the timeout."""
        self._link_down(f"the UART failed: {reason}")
        return []

    def on_power_owner_changed(self, now: float, old_owner: str, new_owner: str) -> list[Effect]:
        """NameOwnerChanged of org.ccy.Evse: any change (vanished, replaced, appeared) means
        the unit that asked for power is not the one there now; it must ask again."""
        if old_owner == new_owner:
            return []
        what = "vanished" if not new_owner else "changed"
        why = f"the owner of org.ccy.Evse {what} ({old_owner or '-'} → {new_owner or '-'})"
        self._withdraw(why)
        if self.state.ccs_ready is CcsReady.READY:
            self.log.info("MCS HLC enable: False (%s)", why)
            self.state.ccs_ready = CcsReady.NOT_READY
        return []

    # ================================================================== commands
    def enable(self, on: bool, now: float) -> list[Effect]:
        self.log.info("Enable: %s", "true" if on else "false")
        self.state.enabled = on
        if not on:
            if self.state.ccs_ready is CcsReady.READY:
                self.state.ccs_ready = CcsReady.NOT_READY
            self._withdraw("port disabled")
        return []

    def set_ccs_ready(self, value: str, now: float) -> list[Effect]:
        try:
            wanted = CcsReady(value)
        except ValueError:
            choices = ", ".join(c.value for c in CcsReady)
            raise CommandRefused("InvalidArgument", f"'{value}' is not one of {choices}") from None
        s = self.state
        if wanted is CcsReady.EMERGENCY_STOP:
            self._withdraw("emergency stop requested")  # always accepted, link down included
            self.log.info("MCS HLC enable: False (CCSReady=EmergencyStop)")
            if s.ccs_ready is not CcsReady.EMERGENCY_STOP:
                s.ccs_ready = CcsReady.EMERGENCY_STOP
                armed = s.link_up and s.ce not in _ESTOP_CE
                deadline = now + self.settings.estop_confirm_timeout_s
                self._estop_wait = _EstopWait(deadline, armed)
            return []
        if s.ccs_ready is CcsReady.EMERGENCY_STOP:
            raise CommandRefused(
                "NotPermitted",
                "an emergency stop is in effect; it ends with the safety controller reset "
                "that leaves safe state (unplug, or ccyctl bsp reset)",
            )
        if wanted is CcsReady.READY:
            if not s.link_up:
                raise CommandRefused("NotReady", "the safety controller link is down")
            self._require_operable("MCS HLC enable")
        self.log.info("MCS HLC enable: %s (CCSReady=%s)", wanted is CcsReady.READY, wanted.value)
        s.ccs_ready = wanted
        return []

    def allow_power_on(self, allow: bool, now: float) -> list[Effect]:
        if allow:
            blockers = self._power_blockers()
            if blockers:
                why = f"power on refused: {blockers[0]}"
                if not self.state.link_up:
                    raise CommandRefused("NotReady", why)
                raise CommandRefused("NotPermitted", why)
        self.log.info("Allow power on: request to %s the contactor", "CLOSE" if allow else "OPEN")
        self.state.power_on_allowed = allow
        return []

    def request_reset(self, now: float, reason: str) -> list[Effect]:
        """Operator reset. The glue answers the caller with CommandRefused("Failed") when
        on_reset_failed follows."""
        if not self.has_reset_line:
            raise CommandRefused(
                "NotSupported", "no reset line configured (set bsp reset_line_driver)"
            )
        if self._resetting:
            raise CommandRefused("NotReady", "a reset of the safety controller is under way")
        return self._begin_reset(now, reason)

    def charge_control(self) -> ChargeControl2:
        """The ChargeControl2 content to send now (every charge_control_period_s)."""
        return ChargeControl2(ccs_ready=self.state.ccs_ready)

    def firmware_line(self) -> str:
        """The seed's start-up line: ``Safety Controller Firmware: 0.2.3 (g…, CC Y, firmware)``."""
        s = self.state
        return (
            f"Safety Controller Firmware: {s.firmware_version or '?'} "
            f"({s.git_hash or '?'}, {s.firmware_platform or '?'}, "
            f"{(s.firmware_application or '?').lower()})"
        )

    def healthy(self) -> bool:
        """False only when the power invariant is broken (a bug: PowerOnAllowed true while a
        condition forbids it); the glue then stops the watchdog ping, systemd restarts the
        unit and the MCU's own host timeout holds the charger safe meanwhile. A lost link or
        a failed reset is not unhealthy: a restart cannot mend them, and the unit must stay
        up to report them."""
        return not (self.state.power_on_allowed and self._power_blockers())

    # ================================================================== MCU messages
    def _on_charge_state(self, cs: ChargeState2, now: float) -> list[Effect]:
        s = self.state
        self._watch.refresh(now)
        came_up = not s.link_up
        old_ce, old_id, old_estop = s.ce, s.id, s.estop
        s.link_up = True
        s.estop = cs.estop
        s.safe_state = cs.safe_state
        self._apply_id(cs.id)
        self._apply_ce(cs.ce)
        self._enforce_power()  # before any error is raised or cleared
        effects: list[Effect] = []
        if came_up:
            self.log.info("Safety controller link up")
            self._clear(LINK_LOST)
            effects += self._inquiry.start(now)  # the MCU may have been replaced meanwhile
        if cs.estop is not old_estop:
            self._estop_changed(cs.estop)
        self._check_estop_evidence(cs)
        effects += self._maybe_recover(old_ce, old_id, now)
        return effects

    def _on_pt1000(self, p: Pt1000State) -> None:
        for name in self._temps.update(p):
            self.log.warning("PT1000 sensor %s: implausible reading, ignored", name)
        self._enforce_power()  # before the temperature errors
        for c in self._temps.channels:
            stopped = f"the safety controller stopped charging: sensor {c.name}"
            self._flag(TEMPERATURE_STOPPED, c.name, c.stopped, stopped)
            failed = f"PT1000 self-test failed: sensor {c.name}"
            self._flag(TEMPERATURE_SELF_TEST, c.name, c.selftest_failed, failed)
            active = self.errors.is_active(TEMPERATURE_WARNING.name, c.name)
            if self._temps.warning_wanted(c, active) and not active:
                limit = self.settings.temperature_warning_degC
                self._raise(
                    TEMPERATURE_WARNING,
                    c.name,
                    f"sensor {c.name} at {c.degC:.1f} °C (warning at {limit:.1f} °C)",
                )
            elif active and not self._temps.warning_wanted(c, active):
                self._clear(TEMPERATURE_WARNING, c.name)
        self.state.derating_factor = self._temps.derating_factor()

    def _on_error_message(self, em: ErrorMessage) -> None:
        text = (
            f"safety controller reports {em.module_name} reason 0x{em.reason:04X} "
            f"(data 0x{em.additional1:04X} 0x{em.additional2:04X})"
        )
        if em.module == ErrorModule.APP_HVSWITCH:
            self._hv_switch_fault = em.active
            self._enforce_power()
            self._flag(HV_SWITCH_FAULT, "", em.active, text)
        else:
            self._flag(MCU_WARNING, em.module_name, em.active, text)

    def _answered(self, com: Com, now: float) -> list[Effect]:
        was_asking = self._inquiry.active
        effects = self._inquiry.answered(com, now)
        self._log_firmware_when_done(was_asking)
        return effects

    def _log_firmware_when_done(self, was_asking: bool) -> None:
        if was_asking and not self._inquiry.active:
            self.log.info("%s", self.firmware_line())

    # ================================================================== state changes
    def _apply_ce(self, ce: CeState) -> None:
        s = self.state
        if ce is s.ce:
            return
        self.log.info(
            "CE state change from %s to %s",
            s.ce.value,
            ce.value,
            extra=fields(event="ce_changed", old=s.ce.value, new=ce.value),
        )
        s.ce = ce
        cp = cp_from_ce(ce, s.cp)
        if cp is not s.cp:
            self.log.info("CP state change from %s to %s", s.cp.value, cp.value)
            s.cp = cp

    def _apply_id(self, id_: IdState) -> None:
        s = self.state
        if id_ is s.id:
            return
        self.log.info(
            "ID change detected: %s → %s",
            _ID_WORDS[s.id],
            _ID_WORDS[id_],
            extra=fields(event="id_changed", old=s.id.value, new=id_.value),
        )
        s.id = id_

    def _estop_changed(self, reason: EstopReason) -> None:
        if reason is EstopReason.NO_STOP:
            self.log.info(
                "Emergency Stop released", extra=fields(event="estop", reason=reason.value)
            )
            self._clear_type(EMERGENCY_STOP)
            self._clear_type(VENDOR_ERROR)
            return
        self.log.warning(
            "Emergency Stop: %s", reason.value, extra=fields(event="estop", reason=reason.value)
        )
        if reason is EstopReason.EMERGENCY_INPUT:
            self._clear_type(VENDOR_ERROR)
            self._raise(EMERGENCY_STOP, reason.value, "the emergency input opened")
        else:
            self._clear_type(EMERGENCY_STOP)
            self._clear_type(VENDOR_ERROR, keep=frozenset({reason.value}))
            self._raise(
                VENDOR_ERROR, reason.value, f"the safety controller stopped charging: {reason}"
            )

    def _check_estop_evidence(self, cs: ChargeState2) -> None:
        wait = self._estop_wait
        if wait is None:
            return
        if cs.safe_state is SafeState.SAFE_STATE_ACTIVE or (cs.ce in _ESTOP_CE and wait.armed):
            self._estop_wait = None
            self.log.info("Emergency stop confirmed by the safety controller")
            self._clear(ESTOP_NOT_CONFIRMED)
        elif cs.ce not in _ESTOP_CE:
            wait.armed = True

    def _maybe_recover(self, old_ce: CeState, old_id: IdState, now: float) -> list[Effect]:
        s = self.state
        if s.safe_state is not SafeState.SAFE_STATE_ACTIVE or self._reset_retry_at is not None:
            return []
        ce_back_to_a = s.ce is CeState.A and old_ce is not CeState.A
        id_moved = s.id is not old_id and s.ce in (CeState.A, CeState.INVALID)
        if not (ce_back_to_a or id_moved):
            return []
        why = "CE returned to A" if ce_back_to_a else "ID changed while CE is " + s.ce.value
        if not self.has_reset_line:
            if not self._no_reset_line_logged:
                self._no_reset_line_logged = True
                self.log.warning(
                    "Cannot leave safe state (%s): no reset line configured "
                    "(bsp reset_line_driver); power-cycle the charger",
                    why,
                )
            return []
        self.log.info("Leaving safe state: resetting the safety controller (%s)", why)
        return self._begin_reset(now, why)

    def _begin_reset(self, now: float, reason: str) -> list[Effect]:
        s = self.state
        self._resetting = True
        self._reset_reason = reason
        self._reset_retry_at = None
        self._withdraw("safety controller reset")
        s.link_up = False  # the MCU restarts; the first ChargeState2 after it brings it back
        self._inquiry.cancel()
        if s.ccs_ready is not CcsReady.NOT_READY:
            # The reset ends an emergency stop; asking again would re-enter safe state.
            self.log.info("MCS HLC enable: False (safety controller reset)")
            s.ccs_ready = CcsReady.NOT_READY
        self.log.info("Resetting the safety controller: %s", reason)
        return [ResetMcu(reason)]

    def _link_down(self, why: str) -> None:
        """Everything the MCU said is unknown now. EmergencyStop in CcsReady is kept."""
        s = self.state
        s.link_up = False
        self._withdraw("link lost")
        if s.ccs_ready is CcsReady.READY:
            self.log.info("MCS HLC enable: False (link lost)")
            s.ccs_ready = CcsReady.NOT_READY
        self._inquiry.cancel()
        self._apply_ce(CeState.UNKNOWN)
        self._apply_id(IdState.UNKNOWN)
        s.safe_state = SafeState.NOT_AVAILABLE
        self._temps.clear()
        s.temperatures = self._temps.readings()
        s.derating_factor = self._temps.derating_factor()
        self._raise(LINK_LOST, "", why)
        self._clear_type(TEMPERATURE_WARNING)

    def _silence_text(self, now: float) -> str:
        if self.state.link_up:
            silent = self._watch.silent_for(now)
            return f"no valid ChargeState2 from the safety controller for {silent:.1f} s"
        since = "its reset" if self._watch.heard else "start"
        return f"no ChargeState2 from the safety controller since {since}"

    # ================================================================== power
    def _power_blockers(self) -> list[str]:
        """Every reason that forbids power on now (empty: it may be allowed)."""
        s = self.state
        reasons = []
        if not s.link_up:
            reasons.append("the safety controller link is down")
        if not s.enabled:
            reasons.append("the port is disabled")
        if s.id is not IdState.CONNECTED:
            reasons.append(f"no vehicle connected (ID {s.id.value})")
        if s.ce is not CeState.C:
            reasons.append(f"CE is {s.ce.value}, not C")
        if s.safe_state is SafeState.SAFE_STATE_ACTIVE:
            reasons.append("safe state is active")
        elif s.safe_state is SafeState.UNKNOWN:
            reasons.append("the safe state code is unknown")
        if s.estop is not EstopReason.NO_STOP:
            reasons.append(f"emergency stop ({s.estop.value})")
        if s.ccs_ready is CcsReady.EMERGENCY_STOP:
            reasons.append("an emergency stop is requested")
        reasons += self._temps.stopping()
        if self._hv_switch_fault:
            reasons.append("the safety controller reports an HV-switch (contactor) fault")
        reasons += [
            f"error {e.type}{'/' + e.subtype if e.subtype else ''} is active"
            for e in self.errors.active()
            if _STOPS_POWER.get(e.type, True)
        ]
        return reasons

    def _enforce_power(self) -> None:
        if self.state.power_on_allowed:
            blockers = self._power_blockers()
            if blockers:
                self._withdraw(blockers[0])

    def _withdraw(self, why: str) -> None:
        if self.state.power_on_allowed:
            self.log.warning("Power-on request withdrawn: %s", why)
            self.state.power_on_allowed = False

    def _require_operable(self, what: str) -> None:
        s = self.state
        if not s.enabled:
            raise CommandRefused("NotPermitted", f"{what} refused: the port is disabled")
        if s.safe_state in (SafeState.SAFE_STATE_ACTIVE, SafeState.UNKNOWN):
            raise CommandRefused("NotPermitted", f"{what} refused: safe state is {s.safe_state}")
        if s.estop is not EstopReason.NO_STOP:
            raise CommandRefused(
                "NotPermitted", f"{what} refused: emergency stop ({s.estop.value})"
            )

    # ================================================================== errors
    def _raise(self, spec: ErrorSpec, subtype: str, message: str) -> None:
        """Raise ``spec``: power is withdrawn first when it stops power; a failing
        notification is logged and does not stop the core."""
        if spec.stops_power:
            self._withdraw(f"{spec.name} {subtype}".strip())
        try:
            self.errors.raise_error(spec.name, subtype, spec.severity, message)
        except Exception:
            self.log.exception("Notifying error %s/%s failed", spec.name, subtype or "-")

    def _clear(self, spec: ErrorSpec, subtype: str = "") -> None:
        try:
            self.errors.clear_error(spec.name, subtype)
        except Exception:
            self.log.exception("Notifying the end of error %s failed", spec.name)

    def _clear_type(self, spec: ErrorSpec, keep: frozenset[str] = frozenset()) -> None:
        try:
            self.errors.clear_type(spec.name, keep)
        except Exception:
            self.log.exception("Notifying the end of error %s failed", spec.name)

    def _flag(self, spec: ErrorSpec, subtype: str, active: bool, message: str) -> None:
        if active:
            self._raise(spec, subtype, message)
        else:
            self._clear(spec, subtype)
