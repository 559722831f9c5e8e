# SPDX-License-Identifier: Apache-2.0
"""The host side of the safety-MCU protocol as a plain state machine (no bus, no I/O).

Inputs are decoded MCU messages, link up/down, operator commands and the clock; outputs go
through :class:`BspEvents` (property changes and CE/ID signals for the bus glue, reset
requests for the link) and the unit's :class:`ErrorRegistry`. The behaviour follows the
shared design note safety-link.md, section "Host behaviour worth copying (and improving)":

- CE → charging-state events (CpState): A→A, B→B, C→C, E→E, EC→F, Invalid→Fault; B0 is
  ignored unless the previous state was C or F (then it means B).
- An emergency-stop request (CCSReady=EmergencyStop) must be confirmed by SafeState, CE B0 or
  CE EC within estop_confirm_timeout (1 s), else error EmergencyStopNotConfirmed.
- Recovery from safe state: reset the MCU when CE returns to A, or when ID changes while CE
  is A or Invalid.
- Errors: E-stop reason EmergencyInput → EmergencyStop; any other reason → VendorError named
  after it; each active ErrorMessage → McuWarning named after the module; PT1000
  charging-stopped / self-test-failed → errors naming the sensor.
- "Allow power on" is a request plus an event, not a relay drive: the MCU bridges HV-ready
  itself, only in CE C without faults. Safety first: the request is withdrawn whenever the
  link is lost, the port is disabled or an E-stop reason appears.
"""

import logging
import math
from dataclasses import dataclass, field
from typing import Protocol

from ccy.bsp.protocol.codes import CcsReady, CeState, EstopReason, IdState, SafeState
from ccy.bsp.protocol.messages import (
    ChargeControl2,
    ChargeState2,
    ErrorMessage,
    FwVersion,
    GitHash,
    Pt1000State,
)
from ccy.bsp.settings import BspSettings
from ccy.runtime.errors import ErrorRegistry, Severity
from ccy.runtime.journal import fields

# Temperatures must fall this far below a threshold before its warning clears (no flapping).
TEMPERATURE_HYSTERESIS_DEGC = 1.0

# Error types of org.ccy.Errors1 raised by ccy-bsp (documented in dbus/org.ccy.Bsp1.xml).
ERR_ESTOP = "EmergencyStop"
ERR_VENDOR = "VendorError"
ERR_ESTOP_UNCONFIRMED = "EmergencyStopNotConfirmed"
ERR_MCU_WARNING = "McuWarning"
ERR_TEMP_STOPPED = "TemperatureStopped"
ERR_TEMP_SELFTEST = "TemperatureSelfTest"
ERR_TEMP_WARNING = "TemperatureWarning"
ERR_LINK_LOST = "LinkLost"

_ID_WORDS = {
    IdState.UNKNOWN: "unknown",
    IdState.NOT_CONNECTED: "not connected",
    IdState.CONNECTED: "connected",
    IdState.INVALID: "invalid",
}


class CommandRefused(Exception):
    """An operator command cannot be carried out now; ``kind`` names the D-Bus error."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind  # "NotReady" | "NotPermitted" | "InvalidArgument"


class BspEvents(Protocol):
    """What the core tells the outside world (the bus glue and the link)."""

    def changed(self, prop: str, value: object) -> None: ...
    def ce_changed(self, old: str, new: str) -> None: ...
    def id_changed(self, old: str, new: str) -> None: ...
    def request_reset(self, reason: str) -> None: ...


@dataclass
class ChannelReading:
    name: str
    degC: float | None = None
    stopped: bool = False
    selftest_failed: bool = False

    def as_struct(self, status: str) -> list[object]:
        return [self.name, math.nan if self.degC is None else self.degC, status]


@dataclass
class BspState:
    link_up: bool = False
    ce: CeState = CeState.UNKNOWN
    cp: str = "Unknown"
    id: IdState = IdState.UNKNOWN
    estop: EstopReason = EstopReason.NO_STOP
    safe_state: SafeState = SafeState.NOT_AVAILABLE
    enabled: bool = False
    ccs_ready: CcsReady = CcsReady.NOT_READY
    power_on_allowed: bool = False
    firmware_version: str = ""
    firmware_platform: str = ""
    firmware_application: str = ""
    git_hash: str = ""
    derating_factor: float = 1.0
    channels: list[ChannelReading] = field(default_factory=list)


def cp_from_ce(ce: CeState, previous_cp: str) -> str:
    """The charging state a CE value means, given the previous one (safety-link.md)."""
    if ce is CeState.B0:
        return "B" if previous_cp in ("C", "F") else previous_cp
    return {
        CeState.A: "A",
        CeState.B: "B",
        CeState.C: "C",
        CeState.E: "E",
        CeState.EC: "F",
        CeState.INVALID: "Fault",
        CeState.UNKNOWN: "Unknown",
    }[ce]


class BspCore:
    def __init__(
        self,
        settings: BspSettings,
        errors: ErrorRegistry,
        events: BspEvents,
        log: logging.Logger,
    ) -> None:
        self.settings = settings
        self.errors = errors
        self.events = events
        self.log = log
        self.state = BspState(channels=[ChannelReading(n) for n in settings.temperature_channel_names])
        self._estop_deadline: float | None = None
        self._reset_pending = False
        self._published_temperatures: list[list[object]] | None = None

    # ------------------------------------------------------------------ MCU → host
    def on_link_up(self) -> None:
        if self.state.link_up:
            return
        self._set("link_up", "LinkUp", True)
        self._reset_pending = False
        self.errors.clear_error(ERR_LINK_LOST)
        self.log.info("Safety controller link up")

    def on_link_lost(self, silent_s: float) -> None:
        """No valid frame for the link timeout: everything the MCU said is now unknown."""
        if not self.state.link_up:
            return
        self._set("link_up", "LinkUp", False)
        self.errors.raise_error(
            ERR_LINK_LOST,
            "",
            Severity.HIGH,
            f"no valid frame from the safety controller for {silent_s:.1f} s",
        )
        self._withdraw_power_on("link lost")
        self._apply_ce(CeState.UNKNOWN)
        self._apply_id(IdState.UNKNOWN)
        self._set("safe_state", "SafeState", SafeState.NOT_AVAILABLE)

    def on_charge_state(self, cs: ChargeState2, now: float) -> None:
        self.on_link_up()
        self._apply_estop(cs.estop)
        self._set("safe_state", "SafeState", cs.safe_state)
        old_ce, old_id = self.state.ce, self.state.id
        self._apply_id(cs.id)
        self._apply_ce(cs.ce)
        self._maybe_recover(old_ce, old_id)
        self._check_estop_confirmation(now)

    def on_pt1000(self, p: Pt1000State) -> None:
        for reading, ch in zip(self.state.channels, p.channels, strict=False):
            reading.degC = ch.temperature_degC
            self._flag(
                ERR_TEMP_STOPPED,
                reading.name,
                ch.charging_stopped,
                f"the safety controller stopped charging: sensor {reading.name}",
            )
            self._flag(
                ERR_TEMP_SELFTEST,
                reading.name,
                ch.selftest_failed,
                f"PT1000 self-test failed: sensor {reading.name}",
            )
            reading.stopped = ch.charging_stopped
            reading.selftest_failed = ch.selftest_failed
            self._temperature_warning(reading)
        self._set("derating_factor", "DeratingFactor", self._derating_factor())

    def on_fw_version(self, fw: FwVersion) -> None:
        self._set("firmware_version", "FirmwareVersion", f"{fw.major}.{fw.minor}.{fw.build}")
        self._set("firmware_platform", "FirmwarePlatform", fw.platform_name)
        self._set("firmware_application", "FirmwareApplication", fw.application.value)

    def on_git_hash(self, gh: GitHash) -> None:
        self._set("git_hash", "GitHash", gh.text)

    def on_error_message(self, em: ErrorMessage) -> None:
        subtype = em.module_name
        if em.active:
            self.errors.raise_error(
                ERR_MCU_WARNING,
                subtype,
                Severity.MEDIUM,
                f"safety controller reports {subtype} reason 0x{em.reason:04X} "
                f"(data 0x{em.additional1:04X} 0x{em.additional2:04X})",
            )
        else:
            self.errors.clear_error(ERR_MCU_WARNING, subtype)

    def firmware_line(self) -> str:
        """The seed's start-up line: ``Safety Controller Firmware: 0.2.3 (g…, CC Y, firmware)``."""
        s = self.state
        return (
            f"Safety Controller Firmware: {s.firmware_version or '?'} "
            f"({s.git_hash or '?'}, {s.firmware_platform or '?'}, "
            f"{(s.firmware_application or '?').lower()})"
        )

    # ------------------------------------------------------------------ commands
    def enable(self, on: bool) -> None:
        self.log.info("Enable: %s", "true" if on else "false")
        self._set("enabled", "Enabled", on)
        if not on:
            if self.state.ccs_ready is CcsReady.READY:
                self._set("ccs_ready", "CcsReady", CcsReady.NOT_READY)
            self._withdraw_power_on("port disabled")

    def set_ccs_ready(self, value: str, now: float) -> None:
        try:
            wanted = CcsReady(value)
        except ValueError:
            choices = ", ".join(c.value for c in CcsReady)
            raise CommandRefused("InvalidArgument", f"'{value}' is not one of {choices}") from None
        if not self.state.link_up and wanted is not CcsReady.NOT_READY:
            raise CommandRefused("NotReady", "the safety controller link is down")
        if wanted is CcsReady.READY:
            self._require_operable("MCS HLC enable")
        self.log.info("MCS HLC enable: %s (CCSReady=%s)", wanted is CcsReady.READY, wanted.value)
        if wanted is CcsReady.EMERGENCY_STOP and self.state.ccs_ready is not wanted:
            self._estop_deadline = now + self.settings.estop_confirm_timeout_s
            self._withdraw_power_on("emergency stop requested")
        self._set("ccs_ready", "CcsReady", wanted)

    def allow_power_on(self, allow: bool) -> None:
        if allow:
            if not self.state.link_up:
                raise CommandRefused("NotReady", "the safety controller link is down")
            self._require_operable("power on")
        self.log.info("Allow power on: request to %s the contactor", "CLOSE" if allow else "OPEN")
        self._set("power_on_allowed", "PowerOnAllowed", allow)

    def charge_control(self) -> ChargeControl2:
        """The ChargeControl2 frame content to send now."""
        return ChargeControl2(ccs_ready=self.state.ccs_ready)

    def tick(self, now: float) -> None:
        self._check_estop_confirmation(now)

    # ------------------------------------------------------------------ temperatures
    def temperature_structs(self) -> list[list[object]]:
        return [r.as_struct(self._status(r)) for r in self.state.channels]

    def publish_temperatures(self) -> None:
        """Called once per temperature period: emit Temperatures if anything changed."""
        structs = self.temperature_structs()
        if structs != self._published_temperatures:
            self._published_temperatures = structs
            self.events.changed("Temperatures", structs)

    def _status(self, r: ChannelReading) -> str:
        if r.degC is None:
            return "Unused"
        if r.selftest_failed:
            return "SelfTestFailed"
        if r.stopped:
            return "Stopped"
        if r.degC >= self.settings.temperature_derating_start_degC:
            return "Derating"
        if r.degC >= self.settings.temperature_warning_degC:
            return "Warning"
        return "Ok"

    def _temperature_warning(self, r: ChannelReading) -> None:
        limit = self.settings.temperature_warning_degC
        active = self.errors.is_active(ERR_TEMP_WARNING, r.name)
        if r.degC is not None and r.degC >= limit and not active:
            self.errors.raise_error(
                ERR_TEMP_WARNING,
                r.name,
                Severity.LOW,
                f"sensor {r.name} at {r.degC:.1f} °C (warning at {limit:.1f} °C)",
            )
        elif active and (r.degC is None or r.degC < limit - TEMPERATURE_HYSTERESIS_DEGC):
            self.errors.clear_error(ERR_TEMP_WARNING, r.name)

    def _derating_factor(self) -> float:
        temps = [r.degC for r in self.state.channels if r.degC is not None]
        if not temps:
            return 1.0
        start = self.settings.temperature_derating_start_degC
        end = self.settings.temperature_derating_end_degC
        hottest = max(temps)
        if hottest <= start:
            return 1.0
        if hottest >= end:
            return 0.0
        return round(1.0 - (hottest - start) / (end - start), 3)

    # ------------------------------------------------------------------ internals
    def _set(self, attr: str, prop: str, value: object) -> None:
        if getattr(self.state, attr) == value:
            return
        setattr(self.state, attr, value)
        self.events.changed(prop, value.value if hasattr(value, "value") else value)

    def _flag(self, type_: str, subtype: str, active: bool, message: str) -> None:
        if active:
            self.errors.raise_error(type_, subtype, Severity.HIGH, message)
        else:
            self.errors.clear_error(type_, subtype)

    def _require_operable(self, what: str) -> None:
        s = self.state
        if not s.enabled:
            raise CommandRefused("NotPermitted", f"{what} refused: the port is disabled")
        if s.safe_state is SafeState.SAFE_STATE_ACTIVE:
            raise CommandRefused("NotPermitted", f"{what} refused: safe state is active")
        if s.estop is not EstopReason.NO_STOP:
            raise CommandRefused(
                "NotPermitted", f"{what} refused: emergency stop ({s.estop.value})"
            )

    def _withdraw_power_on(self, why: str) -> None:
        if self.state.power_on_allowed:
            self.log.warning("Power-on request withdrawn: %s", why)
            self._set("power_on_allowed", "PowerOnAllowed", False)

    def _apply_estop(self, reason: EstopReason) -> None:
        old = self.state.estop
        if reason is old:
            return
        self._set("estop", "EmergencyStop", reason)
        if reason is EstopReason.NO_STOP:
            self.log.info(
                "Emergency Stop released", extra=fields(event="estop", reason=reason.value)
            )
            self.errors.clear_type(ERR_ESTOP)
            self.errors.clear_type(ERR_VENDOR)
            return
        self.log.warning(
            "Emergency Stop: %s", reason.value, extra=fields(event="estop", reason=reason.value)
        )
        self._withdraw_power_on(f"emergency stop {reason.value}")
        if reason is EstopReason.EMERGENCY_INPUT:
            self.errors.clear_type(ERR_VENDOR)
            self.errors.raise_error(
                ERR_ESTOP, reason.value, Severity.HIGH, "the emergency input opened"
            )
        else:
            self.errors.clear_type(ERR_ESTOP)
            self.errors.clear_type(ERR_VENDOR, keep=frozenset({reason.value}))
            self.errors.raise_error(
                ERR_VENDOR,
                reason.value,
                Severity.HIGH,
                f"the safety controller stopped charging: {reason.value}",
            )

    def _apply_ce(self, ce: CeState) -> None:
        old = self.state.ce
        if ce is old:
            return
        self.log.info(
            "CE state change from %s to %s",
            old.value,
            ce.value,
            extra=fields(event="ce_changed", old=old.value, new=ce.value),
        )
        self._set("ce", "CeState", ce)
        self.events.ce_changed(old.value, ce.value)
        cp = cp_from_ce(ce, self.state.cp)
        if cp != self.state.cp:
            self.log.info("CP state change from %s to %s", self.state.cp, cp)
            self._set("cp", "CpState", cp)

    def _apply_id(self, id_: IdState) -> None:
        old = self.state.id
        if id_ is old:
            return
        self.log.info(
            "ID change detected: %s → %s",
            _ID_WORDS[old],
            _ID_WORDS[id_],
            extra=fields(event="id_changed", old=old.value, new=id_.value),
        )
        self._set("id", "IdState", id_)
        self.events.id_changed(old.value, id_.value)

    def _maybe_recover(self, old_ce: CeState, old_id: IdState) -> None:
        s = self.state
        if s.safe_state is not SafeState.SAFE_STATE_ACTIVE or self._reset_pending:
            return
        ce_back_to_a = s.ce is CeState.A and old_ce is not CeState.A
        id_moved = s.id is not old_id and s.ce in (CeState.A, CeState.INVALID)
        if ce_back_to_a or id_moved:
            self._reset_pending = True
            why = "CE returned to A" if ce_back_to_a else "ID changed while CE is " + s.ce.value
            if s.ccs_ready is CcsReady.EMERGENCY_STOP:
                # The emergency stop has done its work; asking again would re-enter safe state.
                self._set("ccs_ready", "CcsReady", CcsReady.NOT_READY)
            self.log.info("Leaving safe state: resetting the safety controller (%s)", why)
            self.events.request_reset(why)

    def _check_estop_confirmation(self, now: float) -> None:
        if self._estop_deadline is None:
            return
        s = self.state
        if s.safe_state is SafeState.SAFE_STATE_ACTIVE or s.ce in (CeState.B0, CeState.EC):
            self._estop_deadline = None
            self.errors.clear_error(ERR_ESTOP_UNCONFIRMED)
            self.log.info("Emergency stop confirmed by the safety controller")
        elif now >= self._estop_deadline:
            self._estop_deadline = None
            self.errors.raise_error(
                ERR_ESTOP_UNCONFIRMED,
                "",
                Severity.HIGH,
                "the safety controller did not confirm the emergency stop within "
                f"{self.settings.estop_confirm_timeout_s:.1f} s",
            )

    def reset_done(self) -> None:
        """The link finished a reset pulse and start-up wait."""
        self._reset_pending = False
