# SPDX-License-Identifier: Apache-2.0
"""The simulator's own message types and bit packing, written from safety-link.md alone.

No import from ``ccy.bsp`` (see wire.py for why). Bit numbers are the note's: they count in
the 64-bit data word, 63 = most significant bit of the first data byte; ``_get(word, 63, 60)``
reads the note's "bits 60–63". Bits the note does not define are sent as 0; a host frame with
such bits set is accepted and reported by :meth:`ChargeControl2.undefined_bits` (the model
counts it). The enum values are ccy's bus strings (org.ccy.Bsp1) so that scenario commands and
``status`` speak the same words as the host; the wire codes live only in the tables below.

Facts checked against the vendor's Apache-2.0 ra-utils (lib/cb_protocol.c, lib/cb_protocol.h):
ChargeState2 CE 60–63, ID 56–59, E-stop reason 48–55, safe state 46–47
(cb_proto_get_ce_state, _get_id_state, _get_estop_reason, cb_proto_cs2_get_safe_state_active);
ChargeControl2 CCSReady 60–63 and nothing else (cb_proto_set_ccs_ready, cb_proto_set_estop);
PT1000 16-bit words, channel 1 most significant, 14-bit signed 0.1 °C above two flag bits
(cb_proto_pt1000_get_temp/_get_errors/_is_active); FwVersion bytes and the 16-bit parameter
version in bits 8–23 (cb_proto_fw_get_*); ErrorMessage additional data 1 in bits 16–31 and 2 in
0–15 and the module numbers (cb_proto_errmsg_get_*, enum errmsg_module); Inquiry: wanted COM in
bits 56–63 (cb_send_uart_inquiry).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum, StrEnum
from typing import TypeVar

from ccy.sim.mcu.wire import RawFrame

E = TypeVar("E")


class WireError(ValueError):
    """A frame the simulator cannot understand (unknown COM or an undefined code)."""


class Com(IntEnum):
    """COM bytes (safety-link.md, table "COM")."""

    PT1000_STATE = 0x08
    FW_VERSION = 0x0A
    GIT_HASH = 0x0B
    ERROR_MESSAGE = 0x0E
    CHARGE_STATE2 = 0x10
    CHARGE_CONTROL2 = 0x11
    INQUIRY = 0xFF


def _get(word: int, high: int, low: int) -> int:
    """The note's "bits low–high" of ``word``."""
    return (word >> low) & ((1 << (high - low + 1)) - 1)


def _put(value: int, high: int, low: int, what: str) -> int:
    """``value`` placed at the note's "bits low–high"; ValueError if it does not fit."""
    width = high - low + 1
    if not 0 <= value < 1 << width:
        raise ValueError(f"{what} {value} does not fit {width} bits")
    return value << low


def _lookup(table: dict[int, E], code: int, what: str) -> E:
    try:
        return table[code]
    except KeyError:
        raise WireError(f"{what} code {code:#x} is not defined in safety-link.md") from None


class CeState(StrEnum):
    UNKNOWN = "Unknown"
    A = "A"
    B0 = "B0"
    B = "B"
    C = "C"
    E = "E"
    EC = "EC"
    INVALID = "Invalid"


class IdState(StrEnum):
    UNKNOWN = "Unknown"
    NOT_CONNECTED = "NotConnected"
    CONNECTED = "Connected"
    INVALID = "Invalid"


class EstopReason(StrEnum):
    NO_STOP = "NoStop"
    INTERNAL_ERROR = "InternalError"
    COM_TIMEOUT = "ComTimeout"
    TEMP1_MALFUNCTION = "Temp1Malfunction"
    TEMP2_MALFUNCTION = "Temp2Malfunction"
    TEMP3_MALFUNCTION = "Temp3Malfunction"
    TEMP4_MALFUNCTION = "Temp4Malfunction"
    TEMP1_OVER_TEMPERATURE = "Temp1OverTemperature"
    TEMP2_OVER_TEMPERATURE = "Temp2OverTemperature"
    TEMP3_OVER_TEMPERATURE = "Temp3OverTemperature"
    TEMP4_OVER_TEMPERATURE = "Temp4OverTemperature"
    ID_MALFUNCTION = "IdMalfunction"
    CE_MALFUNCTION = "CeMalfunction"
    HV_READY_MALFUNCTION = "HvReadyMalfunction"
    EMERGENCY_INPUT = "EmergencyInput"


class SafeState(StrEnum):
    NORMAL = "Normal"
    SAFE_STATE_ACTIVE = "SafeStateActive"
    NOT_AVAILABLE = "NotAvailable"


class CcsReady(StrEnum):
    NOT_READY = "NotReady"
    READY = "Ready"
    EMERGENCY_STOP = "EmergencyStop"


class ErrorModule(IntEnum):
    """ErrorMessage module numbers (ra-utils lib/cb_protocol.h, ``enum errmsg_module``)."""

    DEFAULT = 0
    APP_TASK = 1
    APP_COMM = 2
    APP_SAFETY = 3
    APP_CP_PP = 4
    APP_TEMP = 5
    APP_SYSTEM = 6
    APP_HVSWITCH = 7
    MW_ADC = 8
    MW_I2C = 9
    MW_PIN = 10
    MW_PWM = 11
    MW_UART = 12
    MW_PARAM = 13


# Wire codes, safety-link.md "ChargeState2" / "ChargeControl2".
CE_CODES = {CeState.UNKNOWN: 0, CeState.A: 1, CeState.B0: 2, CeState.B: 3, CeState.C: 4,
            CeState.E: 5, CeState.EC: 6, CeState.INVALID: 7}  # fmt: skip
CE_BY_CODE = {code: state for state, code in CE_CODES.items()} | {0xF: CeState.INVALID}
ID_CODES = {IdState.UNKNOWN: 0, IdState.NOT_CONNECTED: 1, IdState.CONNECTED: 2,
            IdState.INVALID: 3}  # fmt: skip
ID_BY_CODE = {code: state for state, code in ID_CODES.items()} | {0xF: IdState.INVALID}
ESTOP_CODES = {reason: code for code, reason in enumerate(EstopReason)}  # 0x0 .. 0xE in order
ESTOP_BY_CODE = {code: reason for reason, code in ESTOP_CODES.items()}
SAFE_STATE_CODES = {SafeState.NORMAL: 0, SafeState.SAFE_STATE_ACTIVE: 1, SafeState.NOT_AVAILABLE: 3}
SAFE_STATE_BY_CODE = {code: state for state, code in SAFE_STATE_CODES.items()}
CCS_READY_CODES = {CcsReady.NOT_READY: 0, CcsReady.READY: 1, CcsReady.EMERGENCY_STOP: 2}
CCS_READY_BY_CODE = {code: value for value, code in CCS_READY_CODES.items()}

PLATFORM_CCY = 0x82  # FwVersion platform: 0x81 chargeSOM, 0x82 CCY
APPLICATION_FIRMWARE = 3  # FwVersion application: 3 firmware, 4 end-of-line, 5 qualification
PT1000_UNUSED = 0x1FFF  # 14-bit field value: channel not used
PT1000_CHANNELS = 4


@dataclass(frozen=True, slots=True)
class ChargeState2:
    """MCU → host every 100 ms."""

    ce: CeState = CeState.UNKNOWN
    id: IdState = IdState.UNKNOWN
    estop: EstopReason = EstopReason.NO_STOP
    safe_state: SafeState = SafeState.NOT_AVAILABLE

    def frame(self) -> RawFrame:
        return RawFrame(
            Com.CHARGE_STATE2,
            _put(CE_CODES[self.ce], 63, 60, "CE")
            | _put(ID_CODES[self.id], 59, 56, "ID")
            | _put(ESTOP_CODES[self.estop], 55, 48, "E-stop reason")
            | _put(SAFE_STATE_CODES[self.safe_state], 47, 46, "safe state"),
        )

    @classmethod
    def parse(cls, data: int) -> "ChargeState2":
        return cls(
            _lookup(CE_BY_CODE, _get(data, 63, 60), "CE"),
            _lookup(ID_BY_CODE, _get(data, 59, 56), "ID"),
            _lookup(ESTOP_BY_CODE, _get(data, 55, 48), "E-stop reason"),
            _lookup(SAFE_STATE_BY_CODE, _get(data, 47, 46), "safe state"),
        )


@dataclass(frozen=True, slots=True)
class ChargeControl2:
    """Host → MCU every 100 ms: CCSReady in bits 60–63, nothing else defined."""

    ccs_ready: CcsReady = CcsReady.NOT_READY
    undefined_bits: int = 0
    """Bits 0–59 as received (0 from a correct host)."""

    def frame(self) -> RawFrame:
        ready = _put(CCS_READY_CODES[self.ccs_ready], 63, 60, "CCSReady")
        return RawFrame(Com.CHARGE_CONTROL2, ready | _put(self.undefined_bits, 59, 0, "bits"))

    @classmethod
    def parse(cls, data: int) -> "ChargeControl2":
        ready = _lookup(CCS_READY_BY_CODE, _get(data, 63, 60), "CCSReady")
        return cls(ready, _get(data, 59, 0))


@dataclass(frozen=True, slots=True)
class Pt1000Channel:
    degC: float | None = None
    """0.1 °C steps; None = channel unused (0x1FFF)."""
    charging_stopped: bool = False
    selftest_failed: bool = False

    def word(self) -> int:
        if self.degC is None:
            raw = PT1000_UNUSED
        else:
            tenths = round(self.degC * 10)
            if not -0x2000 <= tenths < PT1000_UNUSED:
                raise ValueError(f"{self.degC} °C does not fit the 14-bit PT1000 field")
            raw = tenths & 0x3FFF
        return raw << 2 | int(self.selftest_failed) << 1 | int(self.charging_stopped)

    @classmethod
    def parse(cls, word: int) -> "Pt1000Channel":
        raw = word >> 2
        degC = None if raw == PT1000_UNUSED else (raw - 0x4000 if raw & 0x2000 else raw) / 10
        return cls(degC, bool(word & 1), bool(word & 2))


@dataclass(frozen=True, slots=True)
class Pt1000State:
    """MCU → host every 100 ms: channel 1 in the most significant 16-bit word."""

    channels: tuple[Pt1000Channel, ...] = field(
        default_factory=lambda: (Pt1000Channel(),) * PT1000_CHANNELS
    )

    def frame(self) -> RawFrame:
        if len(self.channels) != PT1000_CHANNELS:
            raise ValueError("Pt1000State carries exactly 4 channels")
        data = 0
        for index, channel in enumerate(self.channels):
            high = 63 - 16 * index
            data |= _put(channel.word(), high, high - 15, "PT1000 word")
        return RawFrame(Com.PT1000_STATE, data)

    @classmethod
    def parse(cls, data: int) -> "Pt1000State":
        return cls(
            tuple(
                Pt1000Channel.parse(_get(data, 63 - 16 * i, 48 - 16 * i))
                for i in range(PT1000_CHANNELS)
            )
        )


@dataclass(frozen=True, slots=True)
class FwVersion:
    """MCU → host, answer to Inquiry(0x0A). Data bytes 0–4: major, minor, build, platform,
    application; bytes 5–6 (bits 8–23): parameter-block version, 16-bit big-endian; byte 7
    reserved."""

    major: int
    minor: int
    build: int
    platform: int = PLATFORM_CCY
    application: int = APPLICATION_FIRMWARE
    parameter_version: int = 0

    @property
    def version(self) -> str:
        return f"{self.major}.{self.minor}.{self.build}"

    def frame(self) -> RawFrame:
        return RawFrame(
            Com.FW_VERSION,
            _put(self.major, 63, 56, "major")
            | _put(self.minor, 55, 48, "minor")
            | _put(self.build, 47, 40, "build")
            | _put(self.platform, 39, 32, "platform")
            | _put(self.application, 31, 24, "application")
            | _put(self.parameter_version, 23, 8, "parameter version"),
        )

    @classmethod
    def parse(cls, data: int) -> "FwVersion":
        return cls(
            _get(data, 63, 56),
            _get(data, 55, 48),
            _get(data, 47, 40),
            _get(data, 39, 32),
            _get(data, 31, 24),
            _get(data, 23, 8),
        )


@dataclass(frozen=True, slots=True)
class GitHash:
    """MCU → host, answer to Inquiry(0x0B): the whole data word."""

    value: int

    @property
    def text(self) -> str:
        return f"g{self.value:016x}"

    def frame(self) -> RawFrame:
        return RawFrame(Com.GIT_HASH, self.value)

    @classmethod
    def parse(cls, data: int) -> "GitHash":
        return cls(data)


@dataclass(frozen=True, slots=True)
class ErrorMessage:
    """MCU → host on change: bit 63 active, 48–62 module, 32–47 reason, 16–31 additional
    data 1, 0–15 additional data 2."""

    active: bool
    module: int
    reason: int
    additional1: int = 0
    additional2: int = 0

    @property
    def module_name(self) -> str:
        try:
            return ErrorModule(self.module).name
        except ValueError:
            return f"Module{self.module:#06x}"

    def frame(self) -> RawFrame:
        return RawFrame(
            Com.ERROR_MESSAGE,
            _put(int(self.active), 63, 63, "active")
            | _put(self.module, 62, 48, "module")
            | _put(self.reason, 47, 32, "reason")
            | _put(self.additional1, 31, 16, "additional data 1")
            | _put(self.additional2, 15, 0, "additional data 2"),
        )

    @classmethod
    def parse(cls, data: int) -> "ErrorMessage":
        return cls(
            bool(_get(data, 63, 63)),
            _get(data, 62, 48),
            _get(data, 47, 32),
            _get(data, 31, 16),
            _get(data, 15, 0),
        )


@dataclass(frozen=True, slots=True)
class Inquiry:
    """Host → MCU: data byte 0 (bits 56–63) is the COM wanted."""

    com: int

    def frame(self) -> RawFrame:
        return RawFrame(Com.INQUIRY, _put(self.com, 63, 56, "inquired COM"))

    @classmethod
    def parse(cls, data: int) -> "Inquiry":
        return cls(_get(data, 63, 56))


Message = ChargeState2 | ChargeControl2 | Pt1000State | FwVersion | GitHash | ErrorMessage | Inquiry

_PARSERS: dict[int, Callable[[int], Message]] = {
    Com.CHARGE_STATE2: ChargeState2.parse,
    Com.CHARGE_CONTROL2: ChargeControl2.parse,
    Com.PT1000_STATE: Pt1000State.parse,
    Com.FW_VERSION: FwVersion.parse,
    Com.GIT_HASH: GitHash.parse,
    Com.ERROR_MESSAGE: ErrorMessage.parse,
    Com.INQUIRY: Inquiry.parse,
}


def parse(frame: RawFrame) -> Message:
    """The message in ``frame``; WireError for an unknown COM or an undefined code."""
    parser = _PARSERS.get(frame.com)
    if parser is None:
        raise WireError(f"COM {frame.com:#04x} is not in safety-link.md")
    return parser(frame.data)
