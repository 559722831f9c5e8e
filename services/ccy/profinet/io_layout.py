# SPDX-License-Identifier: Apache-2.0
"""The cyclic IO data of the "CCY Input Output" module (ID 0x10, slot 1, subslot 1), designed once.

The PLC is the IO controller; in Profinet terms its *output* data travels PLC → charger and
its *input* data charger → PLC. The vendor's own layout is not public (profinet.md), so this is
ccy's: one table per direction (:data:`OUTPUT_FIELDS`, :data:`INPUT_FIELDS`), from which the
struct format, pack/unpack, the GSDML's DataItems (checked by tests/profinet/test_gsdml.py)
and the README table all follow. Byte order is big-endian (network order, as every Profinet
DataItem); floats are IEEE 754 single precision (GSDML ``Float32``).

PLC → charger (:class:`PlcToCharger`, 44 bytes, the module's Output data):

==== ===== ================== ===== =====================================================
off  type  name               unit  meaning
==== ===== ================== ===== =====================================================
0    U16   status             bits  bit 0 SupplyReady, 1 SupplyFault (PLC-side fault),
                                    2 ImdInstalled, 3 SelfTestRunning, 4 SelfTestPassed,
                                    5 SelfTestFailed, 6 OverCurrent, 7 PlcEmergencyStop
2    U8    isolation_status   code  0 Invalid, 1 Valid, 2 Warning, 3 Fault, 4 NoImd
3    U8    stage_mode         code  the mode the supply is in (echo): 0 Off, 1 CableCheck,
                                    2 PreCharge, 3 Charge, 4 Discharge
4    F32   present_voltage    V     output voltage
8    F32   present_current    A     output current (positive towards the vehicle)
12   F32   isolation_ohm      ohm   the IMD's last measurement, NaN = none
16   F32   max_voltage        V     dynamic limits of the supply, now
20   F32   min_voltage        V
24   F32   max_current        A
28   F32   min_current        A
32   F32   max_power          W
36   U32   meter_energy       Wh    DC meter import register
40   U16   plc_fault_code     -     the PLC's own fault number, 0 = none (logged, shown)
42   U16   plc_heartbeat      -     +1 per PLC program cycle (wraps)
==== ===== ================== ===== =====================================================

Charger → PLC (:class:`ChargerToPlc`, 32 bytes, the module's Input data):

==== ===== ================== ===== =====================================================
off  type  name               unit  meaning
==== ===== ================== ===== =====================================================
0    U8    evse_state         code  Evse1.State: 0 Disabled 1 Idle 2 WaitingForAuthentication
                                    3 PrepareCharging 4 Charging 5 ChargingPausedEV
                                    6 ChargingPausedEVSE 7 StoppingCharging 8 Finished
                                    9 Faulted 10 Reserved, 255 = unknown / no ccy-evse
1    U8    requested_mode     code  PowerStage1 mode ccy-evse asks for (as stage_mode)
2    U8    ce_state           code  0 Unknown, 1 A, 2 B0, 3 B, 4 C, 5 E, 6 EC, 7 Invalid
3    U8    id_state           code  0 Unknown, 1 NotConnected, 2 Connected, 3 Invalid
4    U16   status             bits  bit 0 ContactorClosed (power-on allowed), 1 EmergencyStop,
                                    2 SafeState, 3 BspLinkUp, 4 EvseConnected,
                                    5 SelfTestRequest, 6 SessionActive, 7 PortEnabled
6    U16   error_bits         bits  bit 0 StoppingError (any), 1 LinkLost, 2 EmergencyStop,
                                    3 TemperatureStop, 4 IsolationFault, 5 LeaseExpired,
                                    6 EvseFaulted, 7 Warning (an error that keeps power)
8    F32   target_voltage     V     setpoint in force (after the clamp)
12   F32   target_current     A
16   F32   derating_factor    -     0.0..1.0 (ccy-bsp's DeratingFactor)
20   I16×4 temperature_1..4   0.1°C PT1000 channels, 0x7FFF = not available
28   U16   heartbeat          -     +1 per cycle the application updated (wraps)
30   U16   reserved           -     0
==== ===== ================== ===== =====================================================

Decoding never raises on a value, only on a wrong length (:class:`IoLengthError`): a PLC that
sends an isolation code this table does not define is read as Fault (a stop), an unknown mode
echo as None; NaN and infinities pass through (the power stage judges them).
"""

import math
import struct
from dataclasses import astuple, dataclass
from enum import IntEnum, IntFlag
from typing import ClassVar, Self

MODULE_IDENT = 0x10
SUBMODULE_IDENT = 0x01
MODULE_NAME = "CCY Input Output"
SLOT = 1
SUBSLOT = 1
API = 0


class IoLengthError(ValueError):
    """A data block of the wrong length (the IOCR and the layout disagree)."""


@dataclass(frozen=True)
class Field:
    """One DataItem: name, struct code, GSDML DataType, unit and meaning."""

    name: str
    code: str
    gsdml_type: str
    unit: str
    text: str
    bits: tuple[str, ...] = ()
    """Names of bits 0.. of an unsigned status word (GSDML BitDataItems)."""

    @property
    def size(self) -> int:
        return struct.calcsize(">" + self.code)


def _f32(name: str, unit: str, text: str) -> Field:
    return Field(name, "f", "Float32", unit, text)


class StageMode(IntEnum):
    """PowerStage1 Mode on the wire (stage_mode, requested_mode)."""

    OFF = 0
    CABLE_CHECK = 1
    PRE_CHARGE = 2
    CHARGE = 3
    DISCHARGE = 4


class IsolationCode(IntEnum):
    INVALID = 0
    VALID = 1
    WARNING = 2
    FAULT = 3
    NO_IMD = 4


class PlcStatus(IntFlag):
    SUPPLY_READY = 1 << 0
    SUPPLY_FAULT = 1 << 1
    IMD_INSTALLED = 1 << 2
    SELF_TEST_RUNNING = 1 << 3
    SELF_TEST_PASSED = 1 << 4
    SELF_TEST_FAILED = 1 << 5
    OVER_CURRENT = 1 << 6
    PLC_EMERGENCY_STOP = 1 << 7


class ChargerStatus(IntFlag):
    CONTACTOR_CLOSED = 1 << 0
    EMERGENCY_STOP = 1 << 1
    SAFE_STATE = 1 << 2
    BSP_LINK_UP = 1 << 3
    EVSE_CONNECTED = 1 << 4
    SELF_TEST_REQUEST = 1 << 5
    SESSION_ACTIVE = 1 << 6
    PORT_ENABLED = 1 << 7


class ErrorBits(IntFlag):
    STOPPING_ERROR = 1 << 0
    LINK_LOST = 1 << 1
    EMERGENCY_STOP = 1 << 2
    TEMPERATURE_STOP = 1 << 3
    ISOLATION_FAULT = 1 << 4
    LEASE_EXPIRED = 1 << 5
    EVSE_FAULTED = 1 << 6
    WARNING = 1 << 7


NO_PLC_STATUS = PlcStatus(0)
NO_CHARGER_STATUS = ChargerStatus(0)
NO_ERROR_BITS = ErrorBits(0)


def _bit_names(flag: type[IntFlag]) -> tuple[str, ...]:
    names = []
    for i, member in enumerate(flag):
        assert member.value == 1 << i, "bits are numbered without gaps"
        names.append("".join(p.capitalize() for p in (member.name or "").split("_")))
    return tuple(names)


CE_CODES = ("Unknown", "A", "B0", "B", "C", "E", "EC", "Invalid")
"""ce_state codes: the index of org.ccy.Bsp1 CeState's value."""
ID_CODES = ("Unknown", "NotConnected", "Connected", "Invalid")
EVSE_STATE_CODES = (
    "Disabled",
    "Idle",
    "WaitingForAuthentication",
    "PrepareCharging",
    "Charging",
    "ChargingPausedEV",
    "ChargingPausedEVSE",
    "StoppingCharging",
    "Finished",
    "Faulted",
    "Reserved",
)
"""evse_state codes: the index of ccy-evse's Evse1.State value (codes never move; new states are
appended); a state not listed, or no ccy-evse on the bus, is UNKNOWN_CODE."""
UNKNOWN_CODE = 255
NOT_AVAILABLE_TEMP = 0x7FFF
TEMPERATURE_CHANNELS = 4

OUTPUT_FIELDS: tuple[Field, ...] = (
    Field("status", "H", "Unsigned16", "bits", "PLC status bits", _bit_names(PlcStatus)),
    Field(
        "isolation_status", "B", "Unsigned8", "code", "0 Invalid 1 Valid 2 Warning 3 Fault 4 NoImd"
    ),
    Field(
        "stage_mode",
        "B",
        "Unsigned8",
        "code",
        "0 Off 1 CableCheck 2 PreCharge 3 Charge 4 Discharge",
    ),
    _f32("present_voltage", "V", "output voltage"),
    _f32("present_current", "A", "output current"),
    _f32("isolation_ohm", "ohm", "IMD measurement, NaN = none"),
    _f32("max_voltage", "V", "dynamic limit"),
    _f32("min_voltage", "V", "dynamic limit"),
    _f32("max_current", "A", "dynamic limit"),
    _f32("min_current", "A", "dynamic limit"),
    _f32("max_power", "W", "dynamic limit"),
    Field("meter_energy", "I", "Unsigned32", "Wh", "DC meter import register"),
    Field("plc_fault_code", "H", "Unsigned16", "-", "PLC fault number, 0 = none"),
    Field("plc_heartbeat", "H", "Unsigned16", "-", "+1 per PLC cycle"),
)
"""PLC → charger: the module's Output data, in wire order."""

INPUT_FIELDS: tuple[Field, ...] = (
    Field("evse_state", "B", "Unsigned8", "code", "ccy-evse State, 255 = unknown"),
    Field(
        "requested_mode",
        "B",
        "Unsigned8",
        "code",
        "0 Off 1 CableCheck 2 PreCharge 3 Charge 4 Discharge",
    ),
    Field("ce_state", "B", "Unsigned8", "code", "0 Unknown 1 A 2 B0 3 B 4 C 5 E 6 EC 7 Invalid"),
    Field("id_state", "B", "Unsigned8", "code", "0 Unknown 1 NotConnected 2 Connected 3 Invalid"),
    Field("status", "H", "Unsigned16", "bits", "charger status bits", _bit_names(ChargerStatus)),
    Field("error_bits", "H", "Unsigned16", "bits", "charger error bits", _bit_names(ErrorBits)),
    _f32("target_voltage", "V", "voltage setpoint"),
    _f32("target_current", "A", "current setpoint"),
    _f32("derating_factor", "-", "0.0..1.0"),
    *(
        Field(f"temperature_{i}", "h", "Integer16", "0.1 degC", f"PT1000 {i}, 0x7FFF = none")
        for i in range(1, TEMPERATURE_CHANNELS + 1)
    ),
    Field("heartbeat", "H", "Unsigned16", "-", "+1 per application cycle"),
    Field("reserved", "H", "Unsigned16", "-", "0"),
)
"""Charger → PLC: the module's Input data, in wire order."""


def _format(fields: tuple[Field, ...]) -> struct.Struct:
    return struct.Struct(">" + "".join(f.code for f in fields))


OUTPUT_STRUCT = _format(OUTPUT_FIELDS)
INPUT_STRUCT = _format(INPUT_FIELDS)
OUTPUT_SIZE = OUTPUT_STRUCT.size
"""44: the Output data length of submodule 1 (PLC → charger)."""
INPUT_SIZE = INPUT_STRUCT.size
"""32: the Input data length of submodule 1 (charger → PLC)."""


def offsets(fields: tuple[Field, ...]) -> list[tuple[Field, int]]:
    """Each field with its byte offset (no padding: the table is laid out aligned by hand)."""
    found, at = [], 0
    for f in fields:
        found.append((f, at))
        at += f.size
    return found


@dataclass(frozen=True)
class PlcToCharger:
    """The PLC's Output data: what the supply, IMD and meter report (see the module doc)."""

    FIELDS: ClassVar[tuple[Field, ...]] = OUTPUT_FIELDS
    SIZE: ClassVar[int] = OUTPUT_SIZE

    status: PlcStatus = NO_PLC_STATUS
    isolation_status: IsolationCode = IsolationCode.INVALID
    stage_mode: StageMode | None = StageMode.OFF
    present_voltage: float = 0.0
    present_current: float = 0.0
    isolation_ohm: float = math.nan
    max_voltage: float = 0.0
    min_voltage: float = 0.0
    max_current: float = 0.0
    min_current: float = 0.0
    max_power: float = 0.0
    meter_energy: int = 0
    plc_fault_code: int = 0
    plc_heartbeat: int = 0

    def pack(self) -> bytes:
        values = list(astuple(self))
        values[2] = UNKNOWN_CODE if self.stage_mode is None else int(self.stage_mode)
        values[1], values[0] = int(self.isolation_status), int(self.status)
        return OUTPUT_STRUCT.pack(*values)

    @classmethod
    def unpack(cls, data: bytes) -> Self:
        if len(data) != OUTPUT_SIZE:
            raise IoLengthError(
                f"PLC output data is {len(data)} bytes, the layout has {OUTPUT_SIZE}"
            )
        v = list(OUTPUT_STRUCT.unpack(data))
        v[0] = PlcStatus(v[0] & 0xFF)
        v[1] = (
            IsolationCode(v[1]) if v[1] in IsolationCode._value2member_map_ else IsolationCode.FAULT
        )
        v[2] = StageMode(v[2]) if v[2] in StageMode._value2member_map_ else None
        return cls(*v)


@dataclass(frozen=True)
class ChargerToPlc:
    """The charger's Input data: what ccy-evse and ccy-bsp show (see the module doc)."""

    FIELDS: ClassVar[tuple[Field, ...]] = INPUT_FIELDS
    SIZE: ClassVar[int] = INPUT_SIZE

    evse_state: int = UNKNOWN_CODE
    requested_mode: StageMode = StageMode.OFF
    ce_state: int = 0
    id_state: int = 0
    status: ChargerStatus = NO_CHARGER_STATUS
    error_bits: ErrorBits = NO_ERROR_BITS
    target_voltage: float = 0.0
    target_current: float = 0.0
    derating_factor: float = 1.0
    temperature_1: int = NOT_AVAILABLE_TEMP
    temperature_2: int = NOT_AVAILABLE_TEMP
    temperature_3: int = NOT_AVAILABLE_TEMP
    temperature_4: int = NOT_AVAILABLE_TEMP
    heartbeat: int = 0
    reserved: int = 0

    def pack(self) -> bytes:
        values = [int(v) if isinstance(v, IntEnum | IntFlag) else v for v in astuple(self)]
        return INPUT_STRUCT.pack(*values)

    @classmethod
    def unpack(cls, data: bytes) -> Self:
        """The PLC simulator and tests read the input data with this."""
        if len(data) != INPUT_SIZE:
            raise IoLengthError(
                f"charger input data is {len(data)} bytes, the layout has {INPUT_SIZE}"
            )
        v = list(INPUT_STRUCT.unpack(data))
        v[1] = StageMode(v[1]) if v[1] in StageMode._value2member_map_ else StageMode.OFF
        v[4], v[5] = ChargerStatus(v[4] & 0xFF), ErrorBits(v[5] & 0xFF)
        return cls(*v)


def temperature_code(deg_c: float) -> int:
    """A temperature in °C as the wire's Integer16 in 0.1 °C (NaN/out of range → 0x7FFF)."""
    if not math.isfinite(deg_c):
        return NOT_AVAILABLE_TEMP
    tenths = round(deg_c * 10)
    return tenths if -32768 <= tenths < NOT_AVAILABLE_TEMP else NOT_AVAILABLE_TEMP


def code_of(value: str, codes: tuple[str, ...]) -> int:
    """The index of ``value`` in ``codes``; UNKNOWN_CODE when it is not listed."""
    try:
        return codes.index(value)
    except ValueError:
        return UNKNOWN_CODE
