# SPDX-License-Identifier: Apache-2.0
"""org.ccy.PowerStage1's contract: names, enumerations and error catalogue (POWER_STAGE).

The XML (dbus/org.ccy.PowerStage1.xml) is the source of truth; this module mirrors it and a
pure test (tests/unit/test_power_stage_contract.py) holds the two together. ccy-profinet
serves it on its bus name, on an object of its own (/org/ccy/PowerStage), so the simulated
power stage can serve exactly the same name, object and interface before ccy-profinet
exists and on the simulator profile.
"""

from enum import StrEnum

from ccy.runtime.contract import ERRORS_ENUMS, ERRORS_SIGNAL_ARGS, ErrorSpec, UnitContract
from ccy.runtime.errors import Severity

UNIT = "ccy-profinet"
BUS_NAME = "org.ccy.Profinet"
OBJECT_PATH = "/org/ccy/PowerStage"
IFACE = "org.ccy.PowerStage1"
ERRORS_IFACE = "org.ccy.Errors1"

CALLER_BUS_NAME = "org.ccy.Evse"
"""The only caller (contracts.md): the stage goes Off when this name's owner vanishes."""

LEASE_S = 1.0
"""Default setpoint lease (the XML says why): twice the EV's 0.5 s ChargeLoop timeout."""
SAFE_VOLTAGE_V = 60.0
"""Below this the output counts as safe to touch (IEC 61851-23: "< 60 V" after cable check
and at the end of charging)."""


class Mode(StrEnum):
    """PowerStage1.Mode (ccy-profinet's issue adds Discharge)."""

    OFF = "Off"
    CABLE_CHECK = "CableCheck"
    PRE_CHARGE = "PreCharge"
    CHARGE = "Charge"


class IsolationStatus(StrEnum):
    """ISO 15118 isolationLevel; thresholds per IEC 61851-23 in ohm per volt."""

    INVALID = "Invalid"
    VALID = "Valid"
    WARNING = "Warning"
    FAULT = "Fault"
    NO_IMD = "NoImd"


class SelfTest(StrEnum):
    IDLE = "Idle"
    RUNNING = "Running"
    PASSED = "Passed"
    FAILED = "Failed"


class Prop(StrEnum):
    """Property names of PowerStage1 (the one place code spells them)."""

    MODE = "Mode"
    PRESENT_VOLTAGE = "PresentVoltage"
    PRESENT_CURRENT = "PresentCurrent"
    TARGET_VOLTAGE = "TargetVoltage"
    TARGET_CURRENT = "TargetCurrent"
    ISOLATION_RESISTANCE = "IsolationResistance"
    ISOLATION_STATUS = "IsolationStatus"
    SELF_TEST = "SelfTest"
    SUPPLY_READY = "SupplyReady"
    MAX_VOLTAGE = "MaxVoltage"
    MIN_VOLTAGE = "MinVoltage"
    MAX_CURRENT = "MaxCurrent"
    MIN_CURRENT = "MinCurrent"
    MAX_POWER = "MaxPower"
    METER_ENERGY = "MeterEnergy"
    LEASE_SECONDS = "LeaseSeconds"


class Method(StrEnum):
    SET_MODE = "SetMode"
    SET_TARGET = "SetTarget"
    START_SELF_TEST = "StartSelfTest"


SOURCE_PLC = "profinet.md (the PLC's input data: supply ready, PLC-side fault)"
SOURCE_IMD = "IEC 61851-23 insulation monitoring (500 / 100 ohm per volt); IEC 61557-8"

SUPPLY_FAULT = ErrorSpec(
    "SupplyFault",
    Severity.HIGH,
    "the supply reports a fault; the stage is Off and SupplyReady false",
    stops_power=True,
    source=SOURCE_PLC,
)
ISOLATION_FAULT = ErrorSpec(
    "IsolationFault",
    Severity.HIGH,
    "insulation resistance below 100 ohm per volt of the measuring voltage",
    stops_power=True,
    source=SOURCE_IMD,
)
ISOLATION_WARNING = ErrorSpec(
    "IsolationWarning",
    Severity.LOW,
    "insulation resistance between 100 and 500 ohm per volt of the measuring voltage",
    stops_power=False,
    source=SOURCE_IMD,
)
SELF_TEST_FAILED = ErrorSpec(
    "SelfTestFailed",
    Severity.HIGH,
    "the insulation monitor's self-test failed",
    stops_power=True,
    source="IEC 61557-8 (IMD self-test)",
)
OVER_CURRENT = ErrorSpec(
    "OverCurrent",
    Severity.HIGH,
    "the output current exceeded MaxCurrent by more than 10 %",
    stops_power=True,
    source="IEC 61851-23 (overcurrent protection of the DC output)",
)
LEASE_EXPIRED = ErrorSpec(
    "LeaseExpired",
    Severity.HIGH,
    "no SetMode or SetTarget within LeaseSeconds while on; the stage went Off",
    stops_power=True,
    source="ccy (contracts.md: the power stage goes Off when its setpoint lease runs out)",
)

CONTRACT = UnitContract(
    unit=UNIT,
    bus_name=BUS_NAME,
    object_path=OBJECT_PATH,
    interfaces=(IFACE, ERRORS_IFACE),
    enums={
        f"{IFACE}.Mode": Mode,
        f"{IFACE}.SetMode.mode": Mode,
        f"{IFACE}.IsolationStatus": IsolationStatus,
        f"{IFACE}.SelfTest": SelfTest,
        **ERRORS_ENUMS,
    },
    errors=(
        SUPPLY_FAULT,
        ISOLATION_FAULT,
        ISOLATION_WARNING,
        SELF_TEST_FAILED,
        OVER_CURRENT,
        LEASE_EXPIRED,
    ),
    signal_args=dict(ERRORS_SIGNAL_ARGS),
)
"""ccy-profinet's contract as far as it exists: the power stage. ccy-profinet's own issue
adds org.ccy.Profinet1 (on /org/ccy/Profinet) and Mode "Discharge"."""
POWER_STAGE = CONTRACT
