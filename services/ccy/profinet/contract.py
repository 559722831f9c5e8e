# SPDX-License-Identifier: Apache-2.0
"""ccy-profinet's contract: org.ccy.Profinet1 (CONTRACT) and org.ccy.PowerStage1 (POWER_STAGE).

The XML (dbus/org.ccy.Profinet1.xml, dbus/org.ccy.PowerStage1.xml) is the source of truth;
this module mirrors it and pure tests (tests/unit/test_contract_enums.py for CONTRACT,
tests/unit/test_power_stage_contract.py and tests/unit/test_profinet_contract.py for
POWER_STAGE) hold the two together. Both live on one bus name, org.ccy.Profinet, on two
objects: the unit's own Profinet1 on /org/ccy/Profinet (station, AR, cycle statistics,
alarms) and the power stage on /org/ccy/PowerStage, which ccy-evse drives. Each object also
carries org.ccy.Errors1 with its own catalogue. The module-level names IFACE, OBJECT_PATH,
Method, Prop and Mode are the power stage's (ccy-evse's vocabulary); the unit's own are
PROFINET_IFACE, PROFINET_OBJECT_PATH, ProfinetProp, ProfinetMethod, ArState, UnitMode.
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
    """PowerStage1.Mode and SetMode's argument."""

    OFF = "Off"
    CABLE_CHECK = "CableCheck"
    PRE_CHARGE = "PreCharge"
    CHARGE = "Charge"
    DISCHARGE = "Discharge"


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
PLC_RECONNECTING = ErrorSpec(
    "PlcReconnecting",
    Severity.MEDIUM,
    "the PLC's cyclic data stopped before current flowed; the stage is Off and waits up to "
    "the reconnect grace time for the PLC, then needs a new CableCheck",
    stops_power=False,
    source="ccy (issue 14: a PLC that reconnects during a session; profinet.md AR abort)",
)
PLC_LOST = ErrorSpec(
    "PlcLost",
    Severity.HIGH,
    "the PLC's cyclic data stopped (AR aborted, data-hold time expired, released) while "
    "current flowed, or did not return within the reconnect grace time; the stage is Off",
    stops_power=True,
    source="profinet.md (data-hold watchdog: DHT expired aborts the AR and stops power)",
)
LEASE_EXPIRED = ErrorSpec(
    "LeaseExpired",
    Severity.HIGH,
    "no SetMode or SetTarget within LeaseSeconds while on; the stage went Off",
    stops_power=True,
    source="ccy (contracts.md: the power stage goes Off when its setpoint lease runs out)",
)

POWER_STAGE = UnitContract(
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
        PLC_RECONNECTING,
        PLC_LOST,
    ),
    signal_args=dict(ERRORS_SIGNAL_ARGS),
)
"""The power stage: org.ccy.PowerStage1 + org.ccy.Errors1 on /org/ccy/PowerStage."""


# ---------------------------------------------------------------- org.ccy.Profinet1
PROFINET_OBJECT_PATH = "/org/ccy/Profinet"
PROFINET_IFACE = "org.ccy.Profinet1"
BSP_BUS_NAME = "org.ccy.Bsp"
"""Watched (properties only) and called once: Bsp1.Identify on a DCP Signal."""
FAULTS_OBJECT_PATH = "/org/ccy/sim/PowerStage"
FAULTS_IFACE = "org.ccy.sim.PowerStageFaults1"
"""Simulated mode only, not part of the contract (no XML in dbus/): fault injection for the
tests. On its own object so the contract objects export exactly their XML's interfaces."""


class UnitMode(StrEnum):
    """Profinet1.Mode: the config key profinet.mode."""

    SIMULATED = "simulated"
    PLC = "plc"


class ArState(StrEnum):
    """Profinet1.ArState: the application relation with the PLC."""

    DISABLED = "Disabled"
    WAITING = "WaitingForConnect"
    STARTUP = "Startup"
    PRM_END = "PrmEnd"
    DATA_EXCHANGE = "DataExchange"


class ProfinetProp(StrEnum):
    MODE = "Mode"
    INTERFACE = "Interface"
    MAC_ADDRESS = "MacAddress"
    STATION_NAME = "StationName"
    IP_ADDRESS = "IpAddress"
    NETMASK = "Netmask"
    GATEWAY = "Gateway"
    AR_STATE = "ArState"
    PLC_CONNECTED = "PlcConnected"
    PLC_ADDRESS = "PlcAddress"
    LAST_ABORT_REASON = "LastAbortReason"
    CYCLE_TIME = "CycleTime"
    CYCLE_STATISTICS = "CycleStatistics"
    ACTIVE_DIAGNOSES = "ActiveDiagnoses"
    LAST_ALARM = "LastAlarm"


class ProfinetMethod(StrEnum):
    RESET_STATION = "ResetStation"


AR_ABORTED = ErrorSpec(
    "ArAborted",
    Severity.MEDIUM,
    "the application relation with the PLC was aborted (reason in the message); cleared when "
    "data exchange runs again. The power stage's PlcLost/PlcReconnecting say what it did",
    stops_power=False,
    source="profinet.md (AR abort codes, data-hold watchdog)",
)
NETWORK_SETUP_FAILED = ErrorSpec(
    "NetworkSetupFailed",
    Severity.LOW,
    "the IP address or gateway the PLC set could not be applied to the interface",
    stops_power=False,
    source="profinet.md (DCP Set IP applied to the interface); seed: Failed to set default gateway",
)
BSP_IDENTIFY_FAILED = ErrorSpec(
    "IdentifyFailed",
    Severity.LOW,
    "the PLC's DCP Signal could not blink the status LED (Bsp1.Identify failed or ccy-bsp is "
    "not running)",
    stops_power=False,
    source="profinet.md (DCP Control Signal); contracts.md (ccy-profinet calls Bsp1.Identify)",
)

CONTRACT = UnitContract(
    unit=UNIT,
    bus_name=BUS_NAME,
    object_path=PROFINET_OBJECT_PATH,
    interfaces=(PROFINET_IFACE, ERRORS_IFACE),
    enums={
        f"{PROFINET_IFACE}.Mode": UnitMode,
        f"{PROFINET_IFACE}.ArState": ArState,
        **ERRORS_ENUMS,
    },
    errors=(AR_ABORTED, NETWORK_SETUP_FAILED, BSP_IDENTIFY_FAILED),
    signal_args=dict(ERRORS_SIGNAL_ARGS),
)
"""ccy-profinet's own interface, org.ccy.Profinet1 + org.ccy.Errors1 on /org/ccy/Profinet.
The unit also serves :data:`POWER_STAGE` on /org/ccy/PowerStage under the same bus name."""
CONTRACTS = (CONTRACT, POWER_STAGE)
"""Both objects of org.ccy.Profinet (the bus test compares each with its XML)."""
