# SPDX-License-Identifier: Apache-2.0
"""A pure model of the safety MCU (no I/O): what it reports, how host frames move it.

Facts from safety-link.md; where the note is silent, the simulator's choice is stated here.

- Reset (reset line held low) silences the MCU; after release it answers from 300 ms on and is
  in its init state: ChargeState2 reports CE Unknown, ID Unknown, SafeState NotAvailable
  until the first ChargeControl2 arrives. Inquiries are answered in init but do not end it.
- Plug: ID Connected, CE A → B0. CCSReady=Ready lets CE go B0 → B. The EV side of CE (B, C,
  E, EC, Invalid, …) is set by the scenario; while CCSReady is not Ready an EV-side B or C is
  reported as B0 (the MCU has not released the pilot). Unplug: ID NotConnected, CE A.
- E-stop: a scenario reason, a PT1000 self-test failure (TempN Malfunction) or a channel at or
  above its limit (TempN OverTemperature, limit 85.0 °C) is reported as the E-stop reason and
  latches SafeState SafeStateActive; so does CCSReady=EmergencyStop from the host (applied on
  the frame that carries it, well within the 1 s the host allows). The reason follows the
  condition (clearing it reports NoStop), the safe state stays until the next reset. In safe
  state CE reads EC while plugged (A when unplugged).
- Contactor: bridged only in CE C, not in safe state, with CCSReady=Ready. The host's "allow
  power on" request is NOT carried by any frame (ChargeControl2 holds only CCSReady), so the
  MCU cannot see it; the model uses CCSReady=Ready as the host's consent.
- ErrorMessage frames are queued when an error's active flag changes.
"""

from dataclasses import dataclass, field, replace
from typing import Any

from ccy.bsp.protocol.codes import PLATFORM_CCY, ErrorModule
from ccy.bsp.protocol.messages import (
    PT1000_MAX_RAW,
    CcsReady,
    CeState,
    ChargeControl2,
    ChargeState2,
    ErrorMessage,
    EstopReason,
    FirmwareApplication,
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
# ASSUMPTION: the MCU's own host watchdog. safety-link.md names the E-stop reason ComTimeout
# but not its timeout; ten missed ChargeControl2 periods (1.0 s) is ccy's choice for the model.
HOST_TIMEOUT_S = 1.0
DEFAULT_TEMPERATURE_LIMIT_DEGC = 85.0  # safety-link.md: factory default per channel
DEFAULT_FIRMWARE = FwVersion(0, 2, 3, PLATFORM_CCY, FirmwareApplication.FIRMWARE, 0)
DEFAULT_GIT_HASH = 0x5638A7E18ECCE8F0  # the seed's "g5638a7e18ecce8f0"
CHANNELS = 4
# The lowest reading the 14-bit field can carry; the scenario may go below absolute zero on
# purpose (the host must reject it), but not below what the wire can express.
MIN_SCENARIO_DEGC = -819.2
MAX_SCENARIO_DEGC = PT1000_MAX_RAW / 10

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
    in_reset: bool = False
    released_at: float = float("-inf")
    initialised: bool = False
    plugged: bool = False
    ev_ce: CeState = CeState.B
    scenario_estop: EstopReason = EstopReason.NO_STOP
    safe_state_latched: bool = False
    ccs_ready: CcsReady = CcsReady.NOT_READY
    channels: list[Channel] = field(default_factory=lambda: [Channel() for _ in range(CHANNELS)])
    errors: dict[tuple[int, int], ErrorMessage] = field(default_factory=dict)
    outbox: list[Message] = field(default_factory=list)
    resets: int = 0
    last_control_at: float = float("-inf")
    host_timed_out: bool = False
    control_frames: int = 0
    unsupported_inquiries: int = 0

    # ------------------------------------------------------------------ reset line
    def hold_reset(self) -> None:
        """Reset line low: the MCU stops and forgets its state."""
        self.in_reset = True

    def release_reset(self, now: float) -> None:
        """Reset line high: back to init, answering from ``now`` + 300 ms."""
        if not self.in_reset:
            return
        self.in_reset = False
        self.released_at = now
        self.resets += 1
        self.initialised = False
        self.host_timed_out = False
        self.safe_state_latched = False
        self.ccs_ready = CcsReady.NOT_READY
        self.outbox.clear()

    def note_host_frame(self, now: float) -> None:
        """A ChargeControl2 arrived at ``now`` (the MCU's host watchdog is fed)."""
        self.last_control_at = now
        self.host_timed_out = False

    def check_host(self, now: float) -> None:
        """No ChargeControl2 for HOST_TIMEOUT_S after init: E-stop ComTimeout, safe state."""
        if self.initialised and now - self.last_control_at > HOST_TIMEOUT_S:
            self.host_timed_out = True

    def talking(self, now: float) -> bool:
        """Whether the MCU sends and accepts frames at ``now``."""
        return not self.in_reset and now >= self.released_at + STARTUP_DELAY_S

    # ------------------------------------------------------------------ host frames
    def on_message(self, message: Message) -> list[Message]:
        """Apply a host message; return the answers to send."""
        if isinstance(message, ChargeControl2):
            self.control_frames += 1
            self.initialised = True
            self.ccs_ready = message.ccs_ready
            self._update_safe_state()
            return []
        if isinstance(message, Inquiry):
            if message.com == 0x0A:
                return [self.firmware]
            if message.com == 0x0B:
                return [GitHash(self.git_hash)]
            self.unsupported_inquiries += 1
            return []
        raise ScenarioError(f"the MCU does not accept {type(message).__name__} frames")

    def periodic(self) -> list[Message]:
        """The frames of one 100 ms cycle, then any queued ErrorMessage frames."""
        self._update_safe_state()
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
        if self.ev_ce in (CeState.B, CeState.C) and self.ccs_ready is not CcsReady.READY:
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
            return ChargeState2(
                CeState.UNKNOWN, IdState.UNKNOWN, EstopReason.NO_STOP, SafeState.NOT_AVAILABLE
            )
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

    def _update_safe_state(self) -> None:
        if not self.initialised:
            return
        if (
            self.estop_reason() is not EstopReason.NO_STOP
            or self.ccs_ready is CcsReady.EMERGENCY_STOP
        ):
            self.safe_state_latched = True

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

    def set_firmware(self, version: str | None = None, git_hash: int | None = None) -> None:
        if version is not None:
            parts = version.split(".")
            try:
                numbers = [int(p) for p in parts]
            except ValueError:
                numbers = []
            if len(numbers) != 3 or not all(0 <= n <= 255 for n in numbers):
                raise ScenarioError(f"firmware version {version!r} is not MAJOR.MINOR.BUILD 0..255")
            major, minor, build = numbers
            self.firmware = replace(self.firmware, major=major, minor=minor, build=build)
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
            # "Allow power on" is not on the wire; CCSReady=Ready is the consent the MCU sees.
            "host_consent": self.ccs_ready is CcsReady.READY,
            "temperatures_degC": [ch.degC for ch in self.channels],
            "selftest_failed": [ch.selftest_failed for ch in self.channels],
            "temperature_limit_degC": self.temperature_limit_degC,
            "errors": [
                {"module": m.module, "module_name": m.module_name, "reason": m.reason}
                for m in self.errors.values()
            ],
            "firmware": self.firmware.version,
            "git_hash": GitHash(self.git_hash).text,
            "resets": self.resets,
            "control_frames": self.control_frames,
            "unsupported_inquiries": self.unsupported_inquiries,
        }


def module_number(module: str | int) -> int:
    """An ErrorMessage module given by ErrorModule name (``APP_HVSWITCH``) or number."""
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
