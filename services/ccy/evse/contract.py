# SPDX-License-Identifier: Apache-2.0
"""ccy-evse's contract: names, enumerations and error catalogue of org.ccy.Evse1.

The XML (dbus/org.ccy.Evse1.xml) is the source of truth; this module mirrors it for the code
(ccy-evse itself, and its callers ccy-v2g, ccy-auth and ccyctl, which spell no member name of
their own) and a pure test (tests/unit/test_contract_enums.py) holds the two together.
"""

from enum import StrEnum

from ccy.runtime.contract import (
    ERRORS_ENUMS,
    ERRORS_IFACE,
    ERRORS_SIGNAL_ARGS,
    ErrorSpec,
    UnitContract,
)
from ccy.runtime.errors import Severity

UNIT = "ccy-evse"
BUS_NAME = "org.ccy.Evse"
OBJECT_PATH = "/org/ccy/Evse"
IFACE = "org.ccy.Evse1"
CONFIG_SECTION = "evse"


class State(StrEnum):
    """Evse1.State: the seed's charger states ("Charger state: A->B") plus Reserved."""

    DISABLED = "Disabled"
    IDLE = "Idle"
    RESERVED = "Reserved"
    WAITING_FOR_AUTHENTICATION = "WaitingForAuthentication"
    PREPARE_CHARGING = "PrepareCharging"
    CHARGING = "Charging"
    CHARGING_PAUSED_EV = "ChargingPausedEV"
    CHARGING_PAUSED_EVSE = "ChargingPausedEVSE"
    STOPPING_CHARGING = "StoppingCharging"
    FINISHED = "Finished"
    FAULTED = "Faulted"


class AuthorizationStatus(StrEnum):
    ONGOING = "Ongoing"
    ACCEPTED = "Accepted"
    REJECTED = "Rejected"


class Processing(StrEnum):
    """EVSEProcessing of the -20 answers."""

    ONGOING = "Ongoing"
    FINISHED = "Finished"


class Notification(StrEnum):
    """What the vehicle learns with ccy-v2g's next answer (Evse1.Notification)."""

    NONE = "None"
    PAUSE = "Pause"
    TERMINATE = "Terminate"
    EMERGENCY_SHUTDOWN = "EmergencyShutdown"


class ControlMode(StrEnum):
    SCHEDULED = "Scheduled"
    DYNAMIC = "Dynamic"


class ChargeProgress(StrEnum):
    """PowerDeliveryReq's ChargeProgress."""

    START = "Start"
    STOP = "Stop"
    STANDBY = "Standby"
    SCHEDULE_RENEGOTIATION = "ScheduleRenegotiation"


class ChargingSession(StrEnum):
    """SessionStopReq's ChargingSession."""

    TERMINATE = "Terminate"
    PAUSE = "Pause"


class TokenType(StrEnum):
    RFID = "RFID"
    EIM = "EIM"
    AUTOCHARGE = "Autocharge"
    PNC = "PnC"
    OPERATOR = "Operator"


class StopRequest(StrEnum):
    """The reasons StopTransaction accepts."""

    LOCAL = "Local"
    MASTER_PASS = "MasterPass"
    REMOTE = "Remote"
    OTHER = "Other"


class StopReason(StrEnum):
    """Why a transaction finished (TransactionFinished.reason, the records)."""

    EV_DISCONNECTED = "EVDisconnected"
    EV_STOPPED = "EVStopped"
    LOCAL = "Local"
    MASTER_PASS = "MasterPass"
    REMOTE = "Remote"
    OTHER = "Other"
    DEAUTHORIZED = "DeAuthorized"
    EMERGENCY_STOP = "EmergencyStop"
    FAULT = "Fault"
    POWER_LOSS = "PowerLoss"


class SessionEnd(StrEnum):
    """Why a connector session finished (SessionFinished.reason)."""

    EV_DISCONNECTED = "EVDisconnected"
    FAULT = "Fault"
    POWER_LOSS = "PowerLoss"


class IsolationStatus(StrEnum):
    """CableCheck's isolation answer: PowerStage1's IsolationStatus values."""

    INVALID = "Invalid"
    VALID = "Valid"
    WARNING = "Warning"
    FAULT = "Fault"
    NO_IMD = "NoImd"


class Prop(StrEnum):
    """Property names of Evse1 (the one place code spells them)."""

    STATE = "State"
    ENABLED = "Enabled"
    WAITING_FOR = "WaitingFor"
    SESSION_ID = "SessionId"
    TRANSACTION_ID = "TransactionId"
    AUTHORIZED = "Authorized"
    RESERVATION_ID = "ReservationId"
    EVSE_ID = "EvseId"
    CONNECTOR_LIMITS = "ConnectorLimits"
    EFFECTIVE_LIMITS = "EffectiveLimits"
    EXTERNAL_LIMITS = "ExternalLimits"
    PRESENT_VOLTAGE = "PresentVoltage"
    PRESENT_CURRENT = "PresentCurrent"
    TARGET_VOLTAGE = "TargetVoltage"
    TARGET_CURRENT = "TargetCurrent"
    ENERGY_DELIVERED = "EnergyDelivered"
    NOTIFICATION = "Notification"
    TIMING = "Timing"


class Method(StrEnum):
    BIND_SESSION = "BindSession"
    AUTHORIZATION_STATUS = "AuthorizationStatus"
    CHARGE_PARAMETERS = "ChargeParameters"
    SCHEDULE = "Schedule"
    CABLE_CHECK = "CableCheck"
    PRE_CHARGE = "PreCharge"
    POWER_DELIVERY = "PowerDelivery"
    CHARGE_LOOP = "ChargeLoop"
    WELDING_DETECTION = "WeldingDetection"
    SESSION_STOP = "SessionStop"
    END_V2G_SESSION = "EndV2gSession"
    AUTHORIZE = "Authorize"
    DEAUTHORIZE = "Deauthorize"
    SET_RESERVATION = "SetReservation"
    STOP_TRANSACTION = "StopTransaction"
    ENABLE = "Enable"
    PAUSE = "Pause"
    RESUME = "Resume"
    SET_EXTERNAL_LIMITS = "SetExternalLimits"
    LIST_TRANSACTIONS = "ListTransactions"
    LIST_ERRORS = "ListErrors"


class Signal(StrEnum):
    SESSION_STARTED = "SessionStarted"
    SESSION_FINISHED = "SessionFinished"
    TRANSACTION_STARTED = "TransactionStarted"
    TRANSACTION_FINISHED = "TransactionFinished"


VEHICLE_METHODS = (
    Method.BIND_SESSION,
    Method.AUTHORIZATION_STATUS,
    Method.CHARGE_PARAMETERS,
    Method.SCHEDULE,
    Method.CABLE_CHECK,
    Method.PRE_CHARGE,
    Method.POWER_DELIVERY,
    Method.CHARGE_LOOP,
    Method.WELDING_DETECTION,
    Method.SESSION_STOP,
    Method.END_V2G_SESSION,
)
"""What ccy-v2g may call (contracts.md)."""
AUTH_METHODS = (
    Method.AUTHORIZE,
    Method.DEAUTHORIZE,
    Method.STOP_TRANSACTION,
    Method.SET_RESERVATION,
)
"""What ccy-auth may call (contracts.md)."""

SOURCE = "ccy-evse (IEC 61851-23 DC, ISO 15118-20)"

BSP_LOST = ErrorSpec(
    "BspLost",
    Severity.HIGH,
    "org.ccy.Bsp (ccy-bsp) vanished from the bus; no session starts until it is back",
    stops_power=True,
    source="contracts.md, Every unit starts alone",
)
POWER_STAGE_LOST = ErrorSpec(
    "PowerStageLost",
    Severity.HIGH,
    "the power stage (org.ccy.Profinet) vanished from the bus",
    stops_power=True,
    source="contracts.md, Every unit starts alone",
)
VEHICLE_LOST = ErrorSpec(
    "VehicleLost",
    Severity.MEDIUM,
    "the V2G communication ended while power flowed (ccy-v2g gone, or EndV2gSession)",
    stops_power=True,
    source=SOURCE,
)
CABLE_CHECK_FAILED = ErrorSpec(
    "CableCheckFailed",
    Severity.HIGH,
    "the cable check failed: isolation fault, self-test failed or voltage not reached in time",
    stops_power=True,
    source="IEC 61851-23 cable check",
    subtype="the failed step",
)
PRE_CHARGE_FAILED = ErrorSpec(
    "PreChargeFailed",
    Severity.HIGH,
    "precharge did not reach the EV's voltage in time",
    stops_power=True,
    source="IEC 61851-23 precharge",
)
POWER_STAGE_FAULT = ErrorSpec(
    "PowerStageFault",
    Severity.HIGH,
    "the power stage reported a stopping error (its Errors1 type is the subtype)",
    stops_power=True,
    source=SOURCE,
    subtype="the power stage's error type",
)
WELDING_DETECTED = ErrorSpec(
    "WeldingDetected",
    Severity.HIGH,
    "the output voltage stayed above 60 V after the contactor opened",
    stops_power=True,
    source="IEC 61851-23 welding detection",
)
RECORDS_DISK_FULL = ErrorSpec(
    "RecordsDiskFull",
    Severity.MEDIUM,
    "the records could not be written (disk full); they are kept and written when space returns",
    stops_power=False,
    source="ccy (records)",
)
NO_METER_VALUE = ErrorSpec(
    "NoMeterValue",
    Severity.LOW,
    "no meter value from the power stage; the transaction's energy is recorded as unknown",
    stops_power=False,
    source="ccy (records)",
)

CONTRACT = UnitContract(
    unit=UNIT,
    bus_name=BUS_NAME,
    object_path=OBJECT_PATH,
    interfaces=(IFACE, ERRORS_IFACE),
    enums={
        f"{IFACE}.State": State,
        f"{IFACE}.Notification": Notification,
        f"{IFACE}.AuthorizationStatus.status": AuthorizationStatus,
        f"{IFACE}.Schedule.control_mode": ControlMode,
        f"{IFACE}.Schedule.processing": Processing,
        f"{IFACE}.CableCheck.processing": Processing,
        f"{IFACE}.CableCheck.isolation": IsolationStatus,
        f"{IFACE}.CableCheck.notification": Notification,
        f"{IFACE}.PreCharge.processing": Processing,
        f"{IFACE}.PreCharge.notification": Notification,
        f"{IFACE}.PowerDelivery.charge_progress": ChargeProgress,
        f"{IFACE}.PowerDelivery.notification": Notification,
        f"{IFACE}.ChargeLoop.result.notification": Notification,
        f"{IFACE}.WeldingDetection.processing": Processing,
        f"{IFACE}.WeldingDetection.notification": Notification,
        f"{IFACE}.SessionStop.charging_session": ChargingSession,
        f"{IFACE}.Authorize.token_type": TokenType,
        f"{IFACE}.StopTransaction.reason": StopRequest,
        f"{IFACE}.SessionFinished.reason": SessionEnd,
        f"{IFACE}.TransactionFinished.reason": StopReason,
        **ERRORS_ENUMS,
    },
    errors=(
        BSP_LOST,
        POWER_STAGE_LOST,
        VEHICLE_LOST,
        CABLE_CHECK_FAILED,
        PRE_CHARGE_FAILED,
        POWER_STAGE_FAULT,
        WELDING_DETECTED,
        RECORDS_DISK_FULL,
        NO_METER_VALUE,
    ),
    signal_args={
        f"{IFACE}.SessionStarted": ("session_id",),
        f"{IFACE}.SessionFinished": ("session_id", "reason"),
        f"{IFACE}.TransactionStarted": ("transaction_id", "session_id", "token"),
        f"{IFACE}.TransactionFinished": ("transaction_id", "reason", "energy_wh"),
        **ERRORS_SIGNAL_ARGS,
    },
    config_section=CONFIG_SECTION,
)
