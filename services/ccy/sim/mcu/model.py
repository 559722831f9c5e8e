# SPDX-License-Identifier: Apache-2.0
"""A pure model of the safety MCU (no I/O, time passed in): what it reports, what it checks.

Facts from safety-link.md (checked against the vendor's ra-utils, see messages.py); where the
note is silent, the simulator's choice is stated here and named in a constant.

Reset line (the MCU checks the pulse):
- Reset held low silences the MCU. A low pulse shorter than ``reset_min_pulse_s`` (simulator's
  choice: 1 ms, :data:`MIN_RESET_PULSE_S`) is *not* a reset: the MCU goes on as before and the
  pulse is counted (``short_reset_pulses``). The note says the host pulses 5 ms; ra-utils holds
  the line 500 ms (src/ra_gpio.h ``DEFAULT_RA_RESET_DELAY``); 1 ms sits below both and far above
  the ~0.1 ms of a host that writes "0" and "1" without waiting. The width is measured when the
  simulator reads each level, so scheduling delay can only make a pulse look shorter.
- After a real reset the MCU accepts frames from 300 ms on; host frames earlier are ignored and
  counted (``frames_before_ready``). It is then in init: ChargeState2 reports CE Unknown, ID
  Unknown, SafeState NotAvailable until the first ChargeControl2; inquiries are answered in
  init but do not end it.

Vehicle: plug → ID Connected, CE A → B0. CCSReady=Ready lets CE go B0 → B; the EV side of CE
(B, C, E, EC, Invalid) is set by the scenario, and while the host's CCSReady is not Ready an
EV-side B or C reads B0 (the MCU has not released the pilot). Unplug → ID NotConnected, CE A.

E-stop: a scenario reason, a PT1000 self-test failure (TempN Malfunction) or a channel at or
above its limit (TempN OverTemperature, 85.0 °C) is the reported reason and latches SafeState;
the reason follows the condition, the safe state stays until the next reset; in safe state CE
reads EC while plugged. The host's CCSReady=EmergencyStop is confirmed (safe state latched) after
``estop_confirm_delay_s`` (0 = on the frame that carries it; None = never, a broken MCU, so the
host's EmergencyStopNotConfirmed path can be driven). Until confirmed the MCU behaves as before
the request: the pilot keeps the host's previous CCSReady, so no B0 appears early.

Contactor consent: the MCU bridges HV-ready only in CE C, without safe state or E-stop reason.
The host's "allow power on" cannot be checked here because no frame carries it: in ra-utils
(lib/cb_protocol.c) ChargeControl2 is written only by ``cb_proto_set_ccs_ready`` and
``cb_proto_set_estop`` (bits 60–63); the contactor request bits 40–42
(``cb_proto_contactorN_set_state``) belong to ChargeControl 0x06 of the non-MCS platform, and
ra-raw offers contactor toggles only outside MCS mode. The only consent the MCU sees is
CCSReady=Ready (CE C needs it); NotReady moves CE back to B0 and opens the contactor. Undefined
ChargeControl2 bits (0–59) set by the host are counted (``control_undefined_bits``).

Host watchdog — ASSUMPTION: safety-link.md names the E-stop reason ComTimeout but not its time,
and ra-utils gives none either (it only says the MCU expects ChargeControl every 100 ms,
``CB_PROTO_CHARGE_CONTROL_INTERVAL``). The model reports ComTimeout and latches safe state when
no ChargeControl2 came for ``host_timeout_s`` (default 1.0 s, ten periods; configurable).

ErrorMessage frames are queued when an error's active flag changes.
"""

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from ccy.sim.mcu.messages import (
    PT1000_UNUSED,
    CcsReady,
    CeState,
    ChargeControl2,
    ChargeState2,
    Com,
    ErrorMessage,
    ErrorModule,
    EstopReason,
    FwVersion,
    GitHash,
    IdState,
    Inquiry,
    Message,
    Pt1000Channel,
    Pt1000State,
    SafeState,
)

STARTUP_DELAY_S = 0.3  # safety-link.md: frames are accepted 300 ms after reset release
MIN_RESET_PULSE_S = 0.001  # simulator's choice, see the module docstring
MAX_RESET_PULSE_SETTING_S = 1.0
HOST_TIMEOUT_S = 1.0  # ASSUMPTION (module docstring): the MCU's own ComTimeout
HOST_TIMEOUT_RANGE_S = (0.1, 60.0)
ESTOP_CONFIRM_DELAY_S = 0.0  # confirm on the frame that carries EmergencyStop
MAX_ESTOP_CONFIRM_DELAY_S = 60.0
DEFAULT_TEMPERATURE_LIMIT_DEGC = 85.0  # safety-link.md: factory default per channel
# Parameter-block version 0x0102: a 16-bit value a one-byte decoder gets wrong.
DEFAULT_FIRMWARE = FwVersion(0, 2, 3, parameter_version=0x0102)
DEFAULT_GIT_HASH = 0x5638A7E18ECCE8F0  # the seed's "g5638a7e18ecce8f0"
CHANNELS = 4
# The wire's 14-bit range; the scenario may go below absolute zero on purpose (the host must
# reject it), but not below what the field can carry.
MIN_SCENARIO_DEGC = -819.2
MAX_SCENARIO_DEGC = (PT1000_UNUSED - 1) / 10

_OVER_TEMPERATURE = (
    EstopReason.TEMP1_OVER_TEMPERATURE,
    EstopReason.TEMP2_OVER_TEMPERATURE,
    EstopReason.TEMP3_OVER_TEMPERATURE,
    EstopReason.TEMP4_OVER_TEMPERATURE,
)
_MALFUNCTION = (
    EstopReason.TEMP1_MALFUNCTION,
    EstopReason.TEMP2_MALFUNCTION,
    EstopReason.TEMP3_MALFUNCTION,
    EstopReason.TEMP4_MALFUNCTION,
)


class ScenarioError(ValueError):
    """A scenario command cannot be applied (bad argument or wrong moment)."""


class ResetOutcome(StrEnum):
    """What a release of the reset line did."""

    RESET = "reset"
    SHORT_PULSE = "short_pulse"  # held for less than reset_min_pulse_s: not a reset
    NOT_HELD = "not_held"  # released while not held: nothing


@dataclass
class Channel:
    degC: float | None = 25.0
    selftest_failed: bool = False


@dataclass
class McuModel:
    """The MCU's state. Methods change it; ``periodic`` and ``on_message`` say what to send."""

    firmware: FwVersion = DEFAULT_FIRMWARE
    git_hash: int = DEFAULT_GIT_HASH
    temperature_limit_degC: float = DEFAULT_TEMPERATURE_LIMIT_DEGC
    reset_min_pulse_s: float = MIN_RESET_PULSE_S
    host_timeout_s: float = HOST_TIMEOUT_S
    estop_confirm_delay_s: float | None = ESTOP_CONFIRM_DELAY_S
    in_reset: bool = False
    held_at: float | None = None
    released_at: float = float("-inf")
    initialised: bool = False
    plugged: bool = False
    ev_ce: CeState = CeState.B
    scenario_estop: EstopReason = EstopReason.NO_STOP
    safe_state_latched: bool = False
    ccs_ready: CcsReady = CcsReady.NOT_READY
    pilot_ready: CcsReady = CcsReady.NOT_READY
    """The CCSReady the pilot follows: the host's, except EmergencyStop (not a pilot state)."""
    estop_requested_at: float | None = None
    estop_confirmed: bool = False
    channels: list[Channel] = field(default_factory=lambda: [Channel() for _ in range(CHANNELS)])
    errors: dict[tuple[int, int], ErrorMessage] = field(default_factory=dict)
    outbox: list[Message] = field(default_factory=list)
    resets: int = 0
    short_reset_pulses: int = 0
    frames_before_ready: int = 0
    last_control_at: float = float("-inf")
    host_timed_out: bool = False
    control_frames: int = 0
    control_undefined_bits: int = 0
    unsupported_inquiries: int = 0

    # ------------------------------------------------------------------ reset line
    def hold_reset(self, now: float | None = None) -> None:
        """Reset line low at ``now``: the MCU is silent while it stays low.

        ``now=None`` (a caller that does not know the time) makes the next release a reset
        whatever its width; the simulator's own FIFO wiring always passes the time.
        """
        if not self.in_reset:
            self.in_reset = True
            self.held_at = now

    def release_reset(self, now: float) -> ResetOutcome:
        """Reset line high at ``now``: a reset if it was held long enough, else nothing."""
        if not self.in_reset:
            return ResetOutcome.NOT_HELD
        self.in_reset = False
        held_at, self.held_at = self.held_at, None
        if held_at is not None and now - held_at < self.reset_min_pulse_s:
            self.short_reset_pulses += 1
            return ResetOutcome.SHORT_PULSE
        self.released_at = now
        self.resets += 1
        self.initialised = False
        self.host_timed_out = False
        self.safe_state_latched = False
        self.ccs_ready = self.pilot_ready = CcsReady.NOT_READY
        self.estop_requested_at = None
        self.estop_confirmed = False
        self.outbox.clear()
        return ResetOutcome.RESET

    def talking(self, now: float) -> bool:
        """Whether the MCU sends and accepts frames at ``now`` (300 ms after release)."""
        return not self.in_reset and now >= self.released_at + STARTUP_DELAY_S

    def check_host(self, now: float) -> None:
        """No ChargeControl2 for host_timeout_s after init: E-stop ComTimeout, safe state."""
        if self.initialised and now - self.last_control_at > self.host_timeout_s:
            self.host_timed_out = True
            self._update_safe_state(now)

    # ------------------------------------------------------------------ host frames
    def on_message(self, message: Message, now: float) -> list[Message]:
        """Apply a host message received at ``now``; return the answers to send."""
        if not self.talking(now):
            self.frames_before_ready += 1
            return []
        if isinstance(message, ChargeControl2):
            self.control_frames += 1
            if message.undefined_bits:
                self.control_undefined_bits += 1
            self.initialised = True
            self.last_control_at = now
            self.host_timed_out = False
            self._host_ccs_ready(message.ccs_ready, now)
            return []
        if isinstance(message, Inquiry):
            if message.com == Com.FW_VERSION:
                return [self.firmware]
            if message.com == Com.GIT_HASH:
                return [GitHash(self.git_hash)]
            self.unsupported_inquiries += 1
            return []
        raise ScenarioError(f"the MCU does not accept {type(message).__name__} frames")

    def _host_ccs_ready(self, ccs_ready: CcsReady, now: float) -> None:
        self.ccs_ready = ccs_ready
        if ccs_ready is CcsReady.EMERGENCY_STOP:
            if self.estop_requested_at is None:
                self.estop_requested_at = now
        else:
            self.estop_requested_at = None
            self.pilot_ready = ccs_ready
        self._update_safe_state(now)

    def periodic(self, now: float) -> list[Message]:
        """The frames of one 100 ms cycle, then any queued ErrorMessage frames."""
        self._update_safe_state(now)
        frames: list[Message] = [self.charge_state(), self.pt1000_state(), *self.outbox]
        self.outbox.clear()
        return frames

    # ------------------------------------------------------------------ reported state
    def estop_reason(self) -> EstopReason:
        if self.scenario_estop is not EstopReason.NO_STOP:
            return self.scenario_estop
        if self.host_timed_out:
            return EstopReason.COM_TIMEOUT
        for index, ch in enumerate(self.channels):
            if ch.selftest_failed:
                return _MALFUNCTION[index]
        for index, ch in enumerate(self.channels):
            if self._over_limit(ch):
                return _OVER_TEMPERATURE[index]
        return EstopReason.NO_STOP

    def ce(self) -> CeState:
        if not self.initialised:
            return CeState.UNKNOWN
        if not self.plugged:
            return CeState.A
        if self.safe_state_latched:
            return CeState.EC
        if self.ev_ce in (CeState.B, CeState.C) and self.pilot_ready is not CcsReady.READY:
            return CeState.B0
        return self.ev_ce

    def id_state(self) -> IdState:
        if not self.initialised:
            return IdState.UNKNOWN
        return IdState.CONNECTED if self.plugged else IdState.NOT_CONNECTED

    def contactor_closed(self) -> bool:
        return (
            self.ce() is CeState.C
            and not self.safe_state_latched
            and self.estop_reason() is EstopReason.NO_STOP
        )

    def charge_state(self) -> ChargeState2:
        if not self.initialised:
            return ChargeState2()
        safe = SafeState.SAFE_STATE_ACTIVE if self.safe_state_latched else SafeState.NORMAL
        return ChargeState2(self.ce(), self.id_state(), self.estop_reason(), safe)

    def pt1000_state(self) -> Pt1000State:
        return Pt1000State(
            tuple(
                Pt1000Channel(ch.degC, self._over_limit(ch), ch.selftest_failed)
                for ch in self.channels
            )
        )

    def _over_limit(self, ch: Channel) -> bool:
        return ch.degC is not None and ch.degC >= self.temperature_limit_degC

    def _update_safe_state(self, now: float | None = None) -> None:
        if not self.initialised:
            return
        if self.estop_reason() is not EstopReason.NO_STOP:
            self.safe_state_latched = True
        if self._estop_due(now):
            self.safe_state_latched = True
            self.estop_confirmed = True

    def _estop_due(self, now: float | None) -> bool:
        """A host EmergencyStop is pending and its confirmation delay has passed at ``now``."""
        requested, delay = self.estop_requested_at, self.estop_confirm_delay_s
        if requested is None or delay is None or now is None:
            return False
        return now >= requested + delay

    # ------------------------------------------------------------------ checks' settings
    def set_estop_confirmation(self, delay_s: float | None) -> None:
        """Confirm a host EmergencyStop after ``delay_s`` (None: never confirm)."""
        if delay_s is not None and not 0 <= delay_s <= MAX_ESTOP_CONFIRM_DELAY_S:
            raise ScenarioError(
                f"E-stop confirmation delay {delay_s} s is out of range "
                f"0..{MAX_ESTOP_CONFIRM_DELAY_S:.0f} s"
            )
        self.estop_confirm_delay_s = delay_s

    def set_host_timeout(self, seconds: float) -> None:
        low, high = HOST_TIMEOUT_RANGE_S
        if not low <= seconds <= high:
            raise ScenarioError(f"host timeout {seconds} s is out of range {low}..{high:.0f} s")
        self.host_timeout_s = seconds

    def set_reset_min_pulse(self, seconds: float) -> None:
        if not 0 <= seconds <= MAX_RESET_PULSE_SETTING_S:
            raise ScenarioError(
                f"minimum reset pulse {seconds} s is out of range 0..{MAX_RESET_PULSE_SETTING_S} s"
            )
        self.reset_min_pulse_s = seconds

    # ------------------------------------------------------------------ scenario
    def plug(self) -> None:
        self.plugged = True
        self.ev_ce = CeState.B

    def unplug(self) -> None:
        self.plugged = False
        self.ev_ce = CeState.B

    def set_ce(self, state: CeState) -> None:
        if state is CeState.UNKNOWN:
            raise ScenarioError("CE Unknown is what the MCU reports in init; it cannot be set")
        if not self.plugged:
            raise ScenarioError("no vehicle is plugged in: plug first")
        self.ev_ce = state

    def set_estop(self, reason: EstopReason) -> None:
        self.scenario_estop = reason
        self._update_safe_state()

    def set_temperature(self, channel: int, degC: float | None) -> None:
        ch = self._channel(channel)
        if degC is not None and not MIN_SCENARIO_DEGC <= degC <= MAX_SCENARIO_DEGC:
            raise ScenarioError(
                f"{degC} °C does not fit the PT1000 field "
                f"({MIN_SCENARIO_DEGC}..{MAX_SCENARIO_DEGC} °C)"
            )
        ch.degC = degC
        self._update_safe_state()

    def set_selftest_failed(self, channel: int, failed: bool) -> None:
        self._channel(channel).selftest_failed = failed
        self._update_safe_state()

    def set_error(
        self, module: int, reason: int, active: bool, additional1: int = 0, additional2: int = 0
    ) -> bool:
        """Set an MCU error; queue an ErrorMessage if its active flag changed (True then)."""
        for name, value, bits in (
            ("module", module, 15),
            ("reason", reason, 16),
            ("additional1", additional1, 16),
            ("additional2", additional2, 16),
        ):
            if not 0 <= value < 1 << bits:
                raise ScenarioError(f"error {name} {value} is out of range 0..{(1 << bits) - 1}")
        key = (module, reason)
        was_active = key in self.errors
        if active == was_active:
            return False
        message = ErrorMessage(active, module, reason, additional1, additional2)
        if active:
            self.errors[key] = message
        else:
            del self.errors[key]
        self.outbox.append(message)
        return True

    def set_firmware(
        self,
        version: str | None = None,
        git_hash: int | None = None,
        parameter_version: int | None = None,
    ) -> None:
        if version is not None:
            try:
                numbers = [int(p) for p in version.split(".")]
            except ValueError:
                numbers = []
            if len(numbers) != 3 or not all(0 <= n <= 255 for n in numbers):
                raise ScenarioError(f"firmware version {version!r} is not MAJOR.MINOR.BUILD 0..255")
            major, minor, build = numbers
            self.firmware = replace(self.firmware, major=major, minor=minor, build=build)
        if parameter_version is not None:
            if not 0 <= parameter_version <= 0xFFFF:
                raise ScenarioError("parameter version must fit 16 bits (0..65535)")
            self.firmware = replace(self.firmware, parameter_version=parameter_version)
        if git_hash is not None:
            if not 0 <= git_hash < 1 << 64:
                raise ScenarioError("git hash must fit 64 bits")
            self.git_hash = git_hash

    def _channel(self, channel: int) -> Channel:
        if not 1 <= channel <= CHANNELS:
            raise ScenarioError(f"PT1000 channel {channel} does not exist (1..{CHANNELS})")
        return self.channels[channel - 1]

    def status(self, now: float) -> dict[str, Any]:
        """The model's state as plain JSON-able data."""
        delay = self.estop_confirm_delay_s
        return {
            "in_reset": self.in_reset,
            "talking": self.talking(now),
            "initialised": self.initialised,
            "plugged": self.plugged,
            "ce": self.ce().value,
            "ev_ce": self.ev_ce.value,
            "id": self.id_state().value,
            "estop": self.estop_reason().value,
            "safe_state": self.safe_state_latched,
            "contactor_closed": self.contactor_closed(),
            "host_ccs_ready": self.ccs_ready.value,
            # "Allow power on" is on no frame; CCSReady=Ready is the consent the MCU sees.
            "host_consent": self.pilot_ready is CcsReady.READY,
            "estop_requested": self.estop_requested_at is not None,
            "estop_confirmed": self.estop_confirmed,
            "estop_confirm_delay_ms": None if delay is None else round(delay * 1000),
            "host_timeout_ms": round(self.host_timeout_s * 1000),
            "reset_min_pulse_ms": self.reset_min_pulse_s * 1000,
            "temperatures_degC": [ch.degC for ch in self.channels],
            "selftest_failed": [ch.selftest_failed for ch in self.channels],
            "temperature_limit_degC": self.temperature_limit_degC,
            "errors": [
                {"module": m.module, "module_name": m.module_name, "reason": m.reason}
                for m in self.errors.values()
            ],
            "firmware": self.firmware.version,
            "parameter_version": self.firmware.parameter_version,
            "git_hash": GitHash(self.git_hash).text,
            "resets": self.resets,
            "short_reset_pulses": self.short_reset_pulses,
            "frames_before_ready": self.frames_before_ready,
            "control_frames": self.control_frames,
            "control_undefined_bits": self.control_undefined_bits,
            "unsupported_inquiries": self.unsupported_inquiries,
        }


def module_number(module: str | int) -> int:
    """An ErrorMessage module given by name (``APP_HVSWITCH``) or number."""
    if isinstance(module, int) and not isinstance(module, bool):
        return module
    if isinstance(module, str):
        try:
            return ErrorModule[module.upper()].value
        except KeyError:
            pass
        try:
            return int(module, 0)
        except ValueError:
            pass
    names = ", ".join(m.name for m in ErrorModule)
    raise ScenarioError(f"unknown error module {module!r} (a number or one of {names})")
