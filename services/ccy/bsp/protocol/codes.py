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
    UNKNOWN = "Unknown"
    """ccy's name for any code safety-link.md does not define (0x0F..0xFF): the MCU stopped
    for a reason this host does not know, so it is a stop like any other (issue 9)."""


class SafeState(StrEnum):
    """ChargeState2 safe state (bits 46–47)."""

    NORMAL = "Normal"
    SAFE_STATE_ACTIVE = "SafeStateActive"
    NOT_AVAILABLE = "NotAvailable"
    UNKNOWN = "Unknown"
    """Code 2, which safety-link.md does not define: treated as a safe state (issue 9)."""


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

    safety-link.md names the modules but not their numbers; the vendor's Apache-2.0 ra-utils
    gives them (lib/cb_protocol.h, ``enum errmsg_module``): DEFAULT 0, APP_* 1–7, MW_* 8–13.
    Numbers outside this table decode fine and are named ``Module0xNNNN``
    (see ErrorMessage.module_name).
    """

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

# Unknown codes decode to the UNKNOWN members (a stop, never a dropped frame); encoding UNKNOWN
# writes the first undefined code, so what decodes re-encodes to a frame that decodes the same.
ESTOP_UNKNOWN_CODE = 0x0F
ESTOP_CODE, ESTOP_BY_CODE = _codes(
    {reason: code for code, reason in enumerate(EstopReason) if reason is not EstopReason.UNKNOWN}
    | {EstopReason.UNKNOWN: ESTOP_UNKNOWN_CODE}
)

SAFE_STATE_UNKNOWN_CODE = 2
SAFE_STATE_CODE, SAFE_STATE_BY_CODE = _codes(
    {
        SafeState.NORMAL: 0,
        SafeState.SAFE_STATE_ACTIVE: 1,
        SafeState.UNKNOWN: SAFE_STATE_UNKNOWN_CODE,
        SafeState.NOT_AVAILABLE: 3,
    }
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
