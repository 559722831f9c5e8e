# SPDX-License-Identifier: Apache-2.0
"""ccy-v2g's contract: names, enumerations and error catalogue of org.ccy.V2g1.

The XML (dbus/org.ccy.V2g1.xml) is the source of truth; this module mirrors it for the code
and a pure test (tests/unit/test_contract_enums.py) holds the two together.
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

UNIT = "ccy-v2g"
BUS_NAME = "org.ccy.V2g"
OBJECT_PATH = "/org/ccy/V2g"
IFACE = "org.ccy.V2g1"
CONFIG_SECTION = "v2g"
EVSE_BUS_NAME = "org.ccy.Evse"
AUTH_BUS_NAME = "org.ccy.Auth"


class SessionState(StrEnum):
    IDLE = "Idle"
    CONNECTED = "Connected"
    SUPPORTED_APP_PROTOCOL = "SupportedAppProtocol"
    SESSION_SETUP = "SessionSetup"
    AUTHORIZATION_SETUP = "AuthorizationSetup"
    AUTHORIZATION = "Authorization"
    SERVICE_DISCOVERY = "ServiceDiscovery"
    SERVICE_DETAIL = "ServiceDetail"
    SERVICE_SELECTION = "ServiceSelection"
    CHARGE_PARAMETER_DISCOVERY = "ChargeParameterDiscovery"
    SCHEDULE_EXCHANGE = "ScheduleExchange"
    CABLE_CHECK = "CableCheck"
    PRE_CHARGE = "PreCharge"
    POWER_DELIVERY = "PowerDelivery"
    CHARGE_LOOP = "ChargeLoop"
    WELDING_DETECTION = "WeldingDetection"
    SESSION_STOP = "SessionStop"
    PAUSED = "Paused"
    FAILED = "Failed"

    @classmethod
    def of_request(cls, name: str) -> "SessionState":
        """``DC_ChargeLoopReq`` → ChargeLoop, ``supportedAppProtocolReq`` → SupportedAppProtocol."""
        bare = name.removesuffix("Req").removeprefix("DC_")
        return cls(bare[:1].upper() + bare[1:])


class SecurityMode(StrEnum):
    NO_CONNECTION = ""
    TLS = "TLS"
    NONE = "None"


class Direction(StrEnum):
    REQUEST = "Request"
    RESPONSE = "Response"


class Prop(StrEnum):
    SESSION_STATE = "SessionState"
    PROTOCOL = "Protocol"
    SECURITY_MODE = "SecurityMode"
    SESSION_ID = "SessionId"
    EVSE_SESSION_ID = "EvseSessionId"
    EVCCID = "EVCCID"
    SELECTED_SERVICE = "SelectedService"
    SELECTED_PARAMETERS = "SelectedParameters"
    EV_LIMITS = "EvLimits"
    EV_TARGETS = "EvTargets"
    MESSAGE_COUNTERS = "MessageCounters"
    LAST_ERROR = "LastError"
    SDP_PORT = "SdpPort"
    TCP_PORT = "TcpPort"
    TLS_PORT = "TlsPort"
    LEAF = "Leaf"
    WAITING_FOR = "WaitingFor"


class Signal(StrEnum):
    V2G_MESSAGE = "V2gMessage"


SOURCE = "ISO 15118-20 (design/v2g.md)"

NO_VALID_LEAF = ErrorSpec(
    "NoValidLeaf",
    Severity.MEDIUM,
    "no valid SECC leaf certificate in /etc/ccy/certs: TLS is not offered",
    stops_power=False,
    source=SOURCE + ", TLS 1.3 with the SECC leaf under CPO Sub-CA2/1 and the V2G root",
    subtype="why no leaf is valid",
)
LEAF_EXPIRES_SOON = ErrorSpec(
    "LeafExpiresSoon",
    Severity.LOW,
    "the SECC leaf certificate expires within leaf_expiry_warning_days",
    stops_power=False,
    source=SOURCE,
)
EVSE_MISSING = ErrorSpec(
    "EvseMissing",
    Severity.MEDIUM,
    "org.ccy.Evse (ccy-evse) is not on the bus: vehicle sessions are refused at SessionSetup",
    stops_power=False,
    source="contracts.md, Every unit starts alone",
)

CONTRACT = UnitContract(
    unit=UNIT,
    bus_name=BUS_NAME,
    object_path=OBJECT_PATH,
    interfaces=(IFACE, ERRORS_IFACE),
    enums={
        f"{IFACE}.SessionState": SessionState,
        f"{IFACE}.SecurityMode": SecurityMode,
        f"{IFACE}.V2gMessage.direction": Direction,
        **ERRORS_ENUMS,
    },
    errors=(NO_VALID_LEAF, LEAF_EXPIRES_SOON, EVSE_MISSING),
    signal_args={
        f"{IFACE}.V2gMessage": ("direction", "name", "json", "exi_hex"),
        **ERRORS_SIGNAL_ARGS,
    },
    config_section=CONFIG_SECTION,
)
