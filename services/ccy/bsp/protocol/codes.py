# SPDX-License-Identifier: Apache-2.0
"""The protocol's enumerations: bus strings as Enum values, wire codes in lookup tables.

Codes follow safety-link.md. The Enum values are the strings ccy publishes on D-Bus
(org.ccy.Bsp1); the tables ``*_CODE`` map a member to its wire code and ``*_BY_CODE`` back.
"""

from enum import IntEnum, StrEnum
from typing import TypeVar

E = TypeVar("E")


class CeState(StrEnum):
    """ChargeState2 CE state (bits 60–63)."""

    UNKNOWN = "Unknown"
    A = "A"
    B0 = "B0"
    B = "B"
    C = "C"
    E = "E"
    EC = "EC"
    INVALID = "Invalid"


class IdState(StrEnum):
    """ChargeState2 ID state (bits 56–59)."""

    UNKNOWN = "Unknown"
    NOT_CONNECTED = "NotConnected"
    CONNECTED = "Connected"
    INVALID = "Invalid"


class EstopReason(StrEnum):
    """ChargeState2 E-stop reason (bits 48–55)."""

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
    """ChargeState2 safe state (bits 46–47)."""

    NORMAL = "Normal"
    SAFE_STATE_ACTIVE = "SafeStateActive"
    NOT_AVAILABLE = "NotAvailable"


class CcsReady(StrEnum):
    """ChargeControl2 CCSReady (bits 60–63); Ready lets the MCU move CE from B0 to B."""

    NOT_READY = "NotReady"
    READY = "Ready"
    EMERGENCY_STOP = "EmergencyStop"


class FirmwareApplication(StrEnum):
    """FwVersion application type."""

    FIRMWARE = "Firmware"
    END_OF_LINE = "EndOfLine"
    QUALIFICATION = "Qualification"


class ErrorModule(IntEnum):
    """ErrorMessage module numbers.

    ASSUMPTION: safety-link.md names the modules (APP_TASK, APP_COMM, APP_SAFETY, APP_CP_PP,
    APP_TEMP, APP_SYSTEM, APP_HVSWITCH and middleware MW_*) but not their numbers, and no public
    source we know gives them. The numbers below are ccy's own, in the note's order from 1;
    the simulator uses them, a real MCU may not. Numbers outside this table decode fine and
    are named ``Module0xNNNN`` (see ErrorMessage.module_name).
    """

    APP_TASK = 1
    APP_COMM = 2
    APP_SAFETY = 3
    APP_CP_PP = 4
    APP_TEMP = 5
    APP_SYSTEM = 6
    APP_HVSWITCH = 7


def _codes(pairs: dict[E, int]) -> tuple[dict[E, int], dict[int, E]]:
    return pairs, {code: member for member, code in pairs.items()}


CE_CODE, CE_BY_CODE = _codes(
    {
        CeState.UNKNOWN: 0,
        CeState.A: 1,
        CeState.B0: 2,
        CeState.B: 3,
        CeState.C: 4,
        CeState.E: 5,
        CeState.EC: 6,
        CeState.INVALID: 7,
    }
)
CE_BY_CODE[0xF] = CeState.INVALID  # older firmware

ID_CODE, ID_BY_CODE = _codes(
    {IdState.UNKNOWN: 0, IdState.NOT_CONNECTED: 1, IdState.CONNECTED: 2, IdState.INVALID: 3}
)
ID_BY_CODE[0xF] = IdState.INVALID  # older firmware

ESTOP_CODE, ESTOP_BY_CODE = _codes({reason: code for code, reason in enumerate(EstopReason)})

SAFE_STATE_CODE, SAFE_STATE_BY_CODE = _codes(
    {SafeState.NORMAL: 0, SafeState.SAFE_STATE_ACTIVE: 1, SafeState.NOT_AVAILABLE: 3}
)

CCS_READY_CODE, CCS_READY_BY_CODE = _codes(
    {CcsReady.NOT_READY: 0, CcsReady.READY: 1, CcsReady.EMERGENCY_STOP: 2}
)

APPLICATION_CODE, APPLICATION_BY_CODE = _codes(
    {
        FirmwareApplication.FIRMWARE: 3,
        FirmwareApplication.END_OF_LINE: 4,
        FirmwareApplication.QUALIFICATION: 5,
    }
)

# FwVersion platform codes: 0x82 is the CCY (safety-link.md); 0x81 is the vendor's chargeSOM
# (vendor protocol description). Names as the seed's log line prints them.
PLATFORM_CCY = 0x82
PLATFORM_NAMES = {0x81: "chargeSOM", PLATFORM_CCY: "CC Y"}
