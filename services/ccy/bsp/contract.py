# SPDX-License-Identifier: Apache-2.0
"""ccy-bsp's contract: names, enumerations and error catalogue of org.ccy.Bsp1.

The XML (dbus/org.ccy.Bsp1.xml) is the source of truth; this module mirrors it for the code
and a pure test (tests/unit/test_contract_enums.py) holds the two together. Wire codes of the
safety-MCU protocol stay in ccy.bsp.protocol.codes; the StrEnums there are the bus strings and
are re-exported here.
"""

from enum import StrEnum

from ccy.bsp.protocol.codes import CcsReady, CeState, EstopReason, IdState, SafeState
from ccy.runtime.contract import ErrorSpec, UnitContract
from ccy.runtime.errors import Severity

UNIT = "ccy-bsp"
BUS_NAME = "org.ccy.Bsp"
OBJECT_PATH = "/org/ccy/Bsp"
IFACE = "org.ccy.Bsp1"
ERRORS_IFACE = "org.ccy.Errors1"

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
)
