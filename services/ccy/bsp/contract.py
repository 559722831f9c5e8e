# SPDX-License-Identifier: Apache-2.0
"""ccy-bsp's contract: names, enumerations and error catalogue of org.ccy.Bsp1.

The XML (dbus/org.ccy.Bsp1.xml) is the source of truth; this module mirrors it for the code
and a pure test (tests/unit/test_contract_enums.py) holds the two together. Wire codes of the
safety-MCU protocol stay in ccy.bsp.protocol.codes; the StrEnums there are the bus strings and
are re-exported here.
"""

from enum import StrEnum

from ccy.bsp.protocol.codes import (
    PLATFORM_CCY,
    CcsReady,
    CeState,
    EstopReason,
    FirmwareApplication,
    IdState,
    SafeState,
)
from ccy.runtime.contract import (
    ERRORS_ENUMS,
    ERRORS_IFACE,
    ERRORS_SIGNAL_ARGS,
    ErrorSpec,
    UnitContract,
)
from ccy.runtime.errors import Severity

__all__ = [
    "BUS_NAME",
    "CONTRACT",
    "EMERGENCY_STOP",
    "ERRORS_IFACE",
    "ESTOP_NOT_CONFIRMED",
    "HV_SWITCH_FAULT",
    "IFACE",
    "LINK_LOST",
    "MCU_WARNING",
    "OBJECT_PATH",
    "PLATFORM_BY_CODE",
    "POWER_OWNER_BUS_NAME",
    "RESET_FAILED",
    "TEMPERATURE_SELF_TEST",
    "TEMPERATURE_STOPPED",
    "TEMPERATURE_WARNING",
    "UNIT",
    "VENDOR_ERROR",
    "CcsReady",
    "CeState",
    "CpState",
    "EstopReason",
    "FirmwareApplication",
    "FirmwareApplicationValue",
    "FirmwarePlatform",
    "IdState",
    "SafeState",
    "TemperatureStatus",
    "firmware_application",
    "firmware_platform",
]

UNIT = "ccy-bsp"
BUS_NAME = "org.ccy.Bsp"
OBJECT_PATH = "/org/ccy/Bsp"
IFACE = "org.ccy.Bsp1"

POWER_OWNER_BUS_NAME = "org.ccy.Evse"
"""The only unit that may allow power on (contracts.md): ccy-bsp watches its owner and
withdraws PowerOnAllowed when it vanishes or changes."""


class CpState(StrEnum):
    """The charging state derived from CE (safety-link.md "Host behaviour")."""

    UNKNOWN = "Unknown"
    A = "A"
    B = "B"
    C = "C"
    E = "E"
    F = "F"
    FAULT = "Fault"


class TemperatureStatus(StrEnum):
    """The status field of each Temperatures entry."""

    OK = "Ok"
    WARNING = "Warning"
    DERATING = "Derating"
    STOPPED = "Stopped"
    SELF_TEST_FAILED = "SelfTestFailed"
    UNUSED = "Unused"
    IMPLAUSIBLE = "Implausible"
    """The channel's reading is below absolute zero; only this channel is ignored."""


class FirmwarePlatform(StrEnum):
    """The FirmwarePlatform property: the FwVersion platform byte by name (safety-link.md).

    The raw code of an unknown platform is not a bus value (it would make the enumeration
    open-ended); the unit logs it when FwVersion arrives.
    """

    NOT_KNOWN_YET = ""
    """No FwVersion answer yet (the link is starting or the MCU did not answer)."""
    CHARGE_SOM = "chargeSOM"
    CC_Y = "CC Y"
    UNKNOWN = "Unknown"
    """A platform code safety-link.md does not name."""


PLATFORM_BY_CODE = {0x81: FirmwarePlatform.CHARGE_SOM, PLATFORM_CCY: FirmwarePlatform.CC_Y}
"""FwVersion platform codes (safety-link.md: 0x81 chargeSOM, 0x82 CCY)."""


def firmware_platform(code: int | None) -> FirmwarePlatform:
    """The FirmwarePlatform value of a FwVersion platform ``code`` (None: no answer yet)."""
    if code is None:
        return FirmwarePlatform.NOT_KNOWN_YET
    return PLATFORM_BY_CODE.get(code, FirmwarePlatform.UNKNOWN)


class FirmwareApplicationValue(StrEnum):
    """The FirmwareApplication property: the protocol's application type, or "" before the
    FwVersion answer (the protocol's own FirmwareApplication has no "not known" member)."""

    NOT_KNOWN_YET = ""
    FIRMWARE = FirmwareApplication.FIRMWARE.value
    END_OF_LINE = FirmwareApplication.END_OF_LINE.value
    QUALIFICATION = FirmwareApplication.QUALIFICATION.value


def firmware_application(application: FirmwareApplication | None) -> FirmwareApplicationValue:
    """The FirmwareApplication value of a decoded application type (None: no answer yet)."""
    if application is None:
        return FirmwareApplicationValue.NOT_KNOWN_YET
    return FirmwareApplicationValue(application.value)


SOURCE_LINK = "safety-link.md (vendor safety-controller protocol)"

LINK_LOST = ErrorSpec(
    "LinkLost",
    Severity.HIGH,
    "no valid ChargeState2 from the safety controller for link_timeout_ms, or none since start",
    stops_power=True,
    source=SOURCE_LINK + ", Link",
)
EMERGENCY_STOP = ErrorSpec(
    "EmergencyStop",
    Severity.HIGH,
    "the 24 V emergency input opened (E-stop reason EmergencyInput)",
    stops_power=True,
    source=SOURCE_LINK + ", ChargeState2 E-stop reason; IEC 61851-23 emergency switching",
    subtype="the E-stop reason",
)
VENDOR_ERROR = ErrorSpec(
    "VendorError",
    Severity.HIGH,
    "the safety controller stopped charging for another E-stop reason",
    stops_power=True,
    source=SOURCE_LINK + ", ChargeState2 E-stop reason",
    subtype="the E-stop reason",
)
ESTOP_NOT_CONFIRMED = ErrorSpec(
    "EmergencyStopNotConfirmed",
    Severity.HIGH,
    "SetCcsReady(EmergencyStop) was not confirmed by SafeState, CE B0 or CE EC in time",
    stops_power=True,
    source=SOURCE_LINK + ", Host behaviour",
)
MCU_WARNING = ErrorSpec(
    "McuWarning",
    Severity.MEDIUM,
    "an active ErrorMessage of the safety controller",
    stops_power=False,
    source=SOURCE_LINK + ", ErrorMessage",
    subtype="the module name",
)
HV_SWITCH_FAULT = ErrorSpec(
    "HvSwitchFault",
    Severity.HIGH,
    "an active ErrorMessage of module APP_HVSWITCH (contactor feedback)",
    stops_power=True,
    source=SOURCE_LINK + ", ErrorMessage",
)
TEMPERATURE_STOPPED = ErrorSpec(
    "TemperatureStopped",
    Severity.HIGH,
    "a PT1000 channel reports that the safety controller stopped charging",
    stops_power=True,
    source=SOURCE_LINK + ", PT1000State",
    subtype="the channel name",
)
TEMPERATURE_SELF_TEST = ErrorSpec(
    "TemperatureSelfTest",
    Severity.HIGH,
    "a PT1000 channel failed its self-test",
    stops_power=True,
    source=SOURCE_LINK + ", PT1000State",
    subtype="the channel name",
)
TEMPERATURE_WARNING = ErrorSpec(
    "TemperatureWarning",
    Severity.LOW,
    "a PT1000 channel at or above temperature_warning_degC",
    stops_power=False,
    source="ccy (host warning ahead of the safety controller's own limit)",
    subtype="the channel name",
)
RESET_FAILED = ErrorSpec(
    "ResetFailed",
    Severity.HIGH,
    "the safety controller reset line could not be driven; recovery is retried",
    stops_power=True,
    source=SOURCE_LINK + ", Link (reset line)",
)

CONTRACT = UnitContract(
    unit=UNIT,
    bus_name=BUS_NAME,
    object_path=OBJECT_PATH,
    interfaces=(IFACE, ERRORS_IFACE),
    enums={
        f"{IFACE}.CeState": CeState,
        f"{IFACE}.CpState": CpState,
        f"{IFACE}.IdState": IdState,
        f"{IFACE}.EmergencyStop": EstopReason,
        f"{IFACE}.SafeState": SafeState,
        f"{IFACE}.CcsReady": CcsReady,
        f"{IFACE}.SetCcsReady.state": CcsReady,
        f"{IFACE}.CeChanged.old": CeState,
        f"{IFACE}.CeChanged.new": CeState,
        f"{IFACE}.IdChanged.old": IdState,
        f"{IFACE}.IdChanged.new": IdState,
        f"{IFACE}.Temperatures.status": TemperatureStatus,
        f"{IFACE}.FirmwarePlatform": FirmwarePlatform,
        f"{IFACE}.FirmwareApplication": FirmwareApplicationValue,
        **ERRORS_ENUMS,
    },
    errors=(
        LINK_LOST,
        EMERGENCY_STOP,
        VENDOR_ERROR,
        ESTOP_NOT_CONFIRMED,
        MCU_WARNING,
        HV_SWITCH_FAULT,
        TEMPERATURE_STOPPED,
        TEMPERATURE_SELF_TEST,
        TEMPERATURE_WARNING,
        RESET_FAILED,
    ),
    signal_args={
        f"{IFACE}.CeChanged": ("old", "new"),
        f"{IFACE}.IdChanged": ("old", "new"),
        **ERRORS_SIGNAL_ARGS,
    },
)
