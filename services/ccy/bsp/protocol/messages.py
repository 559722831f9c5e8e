# SPDX-License-Identifier: Apache-2.0
"""Typed safety-MCU messages and their frames, both directions (safety-link.md).

``decode(frame)`` turns any :class:`Frame` into a message or raises a :class:`ProtocolError`
subclass (UnknownCom, UnknownCode), never anything else. ``encode(message)`` builds the frame;
it raises ValueOutOfRange for values that do not fit.

Bit numbers count in the 64-bit data word, 63 = most significant bit of the first data byte.
Bits the note does not define are sent as 0 and ignored on receipt.

Layout facts and the assumptions made where the note is silent:

- ChargeState2: an E-stop reason or safe-state code the note does not define decodes to
  ``EstopReason.UNKNOWN`` / ``SafeState.UNKNOWN`` — a stop the core acts on, never a dropped
  frame (issue 9). Unknown CE or ID codes still raise UnknownCode (the frame is dropped; the
  link watchdog then reports the silence).
- FwVersion: one byte each, in data bytes 0–4: major, minor, build, platform, application;
  then the parameter-block version, 16-bit big-endian in bytes 5–6 (data bits 8–23); byte 7
  is reserved (safety-link.md, citing the vendor's ra-utils ``cb_proto_fw_get_param_version``).
- ErrorMessage: bit 63 active, bits 48–62 module, bits 32–47 reason. ASSUMPTION: the two
  16-bit additional-data fields are bits 16–31 (additional1) and 0–15 (additional2). Module
  numbers: see :class:`ErrorModule` (also assumed).
- PT1000State: 0x1FFF (the largest 14-bit value) means "channel unused" and decodes to
  ``temperature_degC=None``. A reading below -273.1 °C cannot be a temperature: that channel
  alone decodes as ``implausible=True`` (temperature None, its flags kept); the other channels
  are decoded as usual (issue 9). Encoding an implausible channel writes the lowest 14-bit
  value (-819.2 °C), which decodes as implausible again.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from ccy.bsp.protocol.codes import (
    APPLICATION_BY_CODE,
    APPLICATION_CODE,
    CCS_READY_BY_CODE,
    CCS_READY_CODE,
    CE_BY_CODE,
    CE_CODE,
    ESTOP_BY_CODE,
    ESTOP_CODE,
    ID_BY_CODE,
    ID_CODE,
    PLATFORM_CCY,
    PLATFORM_NAMES,
    SAFE_STATE_BY_CODE,
    SAFE_STATE_CODE,
    CcsReady,
    CeState,
    ErrorModule,
    EstopReason,
    FirmwareApplication,
    IdState,
    SafeState,
)
from ccy.bsp.protocol.errors import (
    ProtocolError,
    UnknownCode,
    UnknownCom,
    ValueOutOfRange,
)
from ccy.bsp.protocol.frame import Com, Frame

__all__ = [
    "CcsReady",
    "CeState",
    "ChargeControl2",
    "ChargeState2",
    "ErrorMessage",
    "ErrorModule",
    "EstopReason",
    "FirmwareApplication",
    "FwVersion",
    "GitHash",
    "IdState",
    "Inquiry",
    "Message",
    "ProtocolError",
    "Pt1000Channel",
    "Pt1000State",
    "SafeState",
    "UnknownCode",
    "UnknownCom",
    "ValueOutOfRange",
    "decode",
    "encode",
]

PT1000_UNUSED = 0x1FFF  # 14-bit raw value: channel not used
PT1000_MIN_RAW = -2731  # -273.1 °C, the lowest plausible reading
PT1000_MAX_RAW = PT1000_UNUSED - 1  # 819.0 °C, the largest reading that is not "unused"
PT1000_IMPLAUSIBLE_RAW = -0x2000  # -819.2 °C, what an implausible channel encodes to
PT1000_CHANNELS = 4


@dataclass(frozen=True, slots=True)
class ChargeState2:
    """MCU → host every 100 ms: CE, ID, E-stop reason, safe state."""

    ce: CeState = CeState.UNKNOWN
    id: IdState = IdState.UNKNOWN
    estop: EstopReason = EstopReason.NO_STOP
    safe_state: SafeState = SafeState.NOT_AVAILABLE


@dataclass(frozen=True, slots=True)
class ChargeControl2:
    """Host → MCU every 100 ms: CCSReady in bits 60–63, nothing else (ra-utils
    lib/cb_protocol.c ``cb_proto_set_ccs_ready``; the contactor and PWM fields belong to the
    non-MCS ChargeControl 0x06). So no frame carries "allow power on": withdrawing power on
    the wire means CCSReady NotReady or EmergencyStop; ccy sends 0 in every other bit."""

    ccs_ready: CcsReady = CcsReady.NOT_READY


@dataclass(frozen=True, slots=True)
class Pt1000Channel:
    """One PT1000 channel: temperature in 0.1 °C steps (None = unused or implausible) and
    two flags; ``implausible`` marks a reading below absolute zero (this channel only)."""

    temperature_degC: float | None = None
    charging_stopped: bool = False
    selftest_failed: bool = False
    implausible: bool = False


@dataclass(frozen=True, slots=True)
class Pt1000State:
    """MCU → host every 100 ms: four channels, channel 1 first."""

    channels: tuple[Pt1000Channel, ...] = (Pt1000Channel(),) * PT1000_CHANNELS


@dataclass(frozen=True, slots=True)
class FwVersion:
    """MCU → host, answer to an Inquiry for COM 0x0A."""

    major: int
    minor: int
    build: int
    platform: int = PLATFORM_CCY
    application: FirmwareApplication = FirmwareApplication.FIRMWARE
    parameter_block_version: int = 0
    """16-bit, data bytes 5–6 big-endian."""

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}.{self.build}"

    @property
    def platform_name(self) -> str:
        """ "CC Y" for 0x82 (as the seed's log line prints it), else the vendor's name or hex."""
        return PLATFORM_NAMES.get(self.platform, f"platform 0x{self.platform:02X}")


@dataclass(frozen=True, slots=True)
class GitHash:
    """MCU → host, answer to an Inquiry for COM 0x0B: the first 8 bytes of the SHA-1."""

    value: int

    @property
    def text(self) -> str:
        """The seed's form: ``g`` and 16 lower-case hex digits, e.g. ``g5638a7e18ecce8f0``."""
        return f"g{self.value:016x}"


@dataclass(frozen=True, slots=True)
class ErrorMessage:
    """MCU → host on change: an MCU-internal error became active or inactive."""

    active: bool
    module: int
    reason: int
    additional1: int = 0
    additional2: int = 0

    @property
    def module_name(self) -> str:
        """The module's name (ErrorModule, assumed numbering) or ``Module0xNNNN``."""
        try:
            return ErrorModule(self.module).name
        except ValueError:
            return f"Module0x{self.module:04X}"


@dataclass(frozen=True, slots=True)
class Inquiry:
    """Host → MCU: ask for the message with COM ``com`` (FwVersion 0x0A, GitHash 0x0B)."""

    com: int


Message = ChargeState2 | ChargeControl2 | Pt1000State | FwVersion | GitHash | ErrorMessage | Inquiry


# ---------------------------------------------------------------------------- decoding
T = TypeVar("T")


def _code(table: dict[int, T], raw: int, message: str, field: str) -> T:
    try:
        return table[raw]
    except KeyError:
        raise UnknownCode(message, field, raw) from None


def _decode_charge_state(d: int) -> ChargeState2:
    return ChargeState2(
        ce=_code(CE_BY_CODE, d >> 60, "ChargeState2", "CE state"),
        id=_code(ID_BY_CODE, (d >> 56) & 0xF, "ChargeState2", "ID state"),
        estop=ESTOP_BY_CODE.get((d >> 48) & 0xFF, EstopReason.UNKNOWN),
        safe_state=SAFE_STATE_BY_CODE[(d >> 46) & 0x3],  # every 2-bit code is a member
    )


def _decode_charge_control(d: int) -> ChargeControl2:
    return ChargeControl2(_code(CCS_READY_BY_CODE, d >> 60, "ChargeControl2", "CCSReady"))


def _decode_pt1000(d: int) -> Pt1000State:
    channels = []
    for index in range(PT1000_CHANNELS):
        word = (d >> (48 - 16 * index)) & 0xFFFF
        raw = word >> 2
        degC: float | None = None
        implausible = False
        if raw != PT1000_UNUSED:
            if raw & 0x2000:
                raw -= 0x4000
            if raw < PT1000_MIN_RAW:
                implausible = True
            else:
                degC = raw / 10
        channels.append(Pt1000Channel(degC, bool(word & 1), bool(word & 2), implausible))
    return Pt1000State(tuple(channels))


def _decode_fw_version(d: int) -> FwVersion:
    b = d.to_bytes(8, "big")
    application = _code(APPLICATION_BY_CODE, b[4], "FwVersion", "application type")
    return FwVersion(b[0], b[1], b[2], b[3], application, (d >> 8) & 0xFFFF)


def _decode_error_message(d: int) -> ErrorMessage:
    return ErrorMessage(
        active=bool(d >> 63),
        module=(d >> 48) & 0x7FFF,
        reason=(d >> 32) & 0xFFFF,
        additional1=(d >> 16) & 0xFFFF,
        additional2=d & 0xFFFF,
    )


_DECODERS: dict[int, Callable[[int], Message]] = {
    Com.CHARGE_STATE2: _decode_charge_state,
    Com.CHARGE_CONTROL2: _decode_charge_control,
    Com.PT1000_STATE: _decode_pt1000,
    Com.FW_VERSION: _decode_fw_version,
    Com.GIT_HASH: GitHash,
    Com.ERROR_MESSAGE: _decode_error_message,
    Com.INQUIRY: lambda d: Inquiry(d >> 56),
}


def decode(frame: Frame) -> Message:
    """The message in ``frame``; raises a ProtocolError subclass for unknown COM or codes."""
    decoder = _DECODERS.get(frame.com)
    if decoder is None:
        raise UnknownCom(frame.com)
    return decoder(frame.data)


# ---------------------------------------------------------------------------- encoding
def _field(message: str, field: str, value: int, bits: int) -> int:
    if not 0 <= value < (1 << bits):
        raise ValueOutOfRange(message, field, value, f"0..{(1 << bits) - 1}")
    return value


def _pt1000_word(index: int, ch: Pt1000Channel) -> int:
    if ch.implausible:
        raw = PT1000_IMPLAUSIBLE_RAW & 0x3FFF
    elif ch.temperature_degC is None:
        raw = PT1000_UNUSED
    else:
        raw = round(ch.temperature_degC * 10)
        if not -0x2000 <= raw <= PT1000_MAX_RAW:
            raise ValueOutOfRange(
                "Pt1000State",
                f"channel {index + 1} temperature_degC",
                ch.temperature_degC,
                "-819.2..819.0 °C",
            )
        raw &= 0x3FFF
    return (raw << 2) | (int(ch.selftest_failed) << 1) | int(ch.charging_stopped)


def _data(message: Message) -> tuple[Com, int]:
    match message:
        case ChargeState2(ce, id_, estop, safe_state):
            return Com.CHARGE_STATE2, (
                CE_CODE[ce] << 60
                | ID_CODE[id_] << 56
                | ESTOP_CODE[estop] << 48
                | SAFE_STATE_CODE[safe_state] << 46
            )
        case ChargeControl2(ccs_ready):
            return Com.CHARGE_CONTROL2, CCS_READY_CODE[ccs_ready] << 60
        case Pt1000State(channels):
            if len(channels) != PT1000_CHANNELS:
                raise ValueOutOfRange("Pt1000State", "channels", len(channels), "exactly 4")
            data = 0
            for index, ch in enumerate(channels):
                data |= _pt1000_word(index, ch) << (48 - 16 * index)
            return Com.PT1000_STATE, data
        case FwVersion():
            fields = (
                ("major", message.major),
                ("minor", message.minor),
                ("build", message.build),
                ("platform", message.platform),
                ("application", APPLICATION_CODE[message.application]),
            )
            data = 0
            for index, (name, value) in enumerate(fields):
                data |= _field("FwVersion", name, value, 8) << (56 - 8 * index)
            version = message.parameter_block_version
            data |= _field("FwVersion", "parameter_block_version", version, 16) << 8
            return Com.FW_VERSION, data
        case GitHash(value):
            return Com.GIT_HASH, _field("GitHash", "value", value, 64)
        case ErrorMessage(active, module, reason, additional1, additional2):
            return Com.ERROR_MESSAGE, (
                int(active) << 63
                | _field("ErrorMessage", "module", module, 15) << 48
                | _field("ErrorMessage", "reason", reason, 16) << 32
                | _field("ErrorMessage", "additional1", additional1, 16) << 16
                | _field("ErrorMessage", "additional2", additional2, 16)
            )
        case Inquiry(com):
            return Com.INQUIRY, _field("Inquiry", "com", com, 8) << 56
    raise TypeError(f"not a safety-link message: {message!r}")


def encode(message: Message) -> Frame:
    """The frame carrying ``message``."""
    com, data = _data(message)
    return Frame(int(com), data)
